package daemon_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
)

// hog is a service whose Hold method keeps its (big) argument until the
// test lets it go, counting how many run at once.
type hog struct {
	running, peak atomic.Int32
	gate          chan struct{}
}

func (h *hog) Hold(ctx context.Context, big string) int {
	n := h.running.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer h.running.Add(-1)
	select {
	case <-h.gate:
	case <-ctx.Done():
	}
	return len(big)
}

func (h *hog) Ping() string { return "pong" }

// TestConnBudgetBoundsCallsHeld: a client that sends many big calls which
// do not finish makes the daemon hold calls costing at most half its
// ConnBudget (plus one; each counts twice its frame): the daemon stops
// reading from it, keeps serving other clients, and closes it once it has
// stayed at its budget for StallTimeout.
func TestConnBudgetBoundsCallsHeld(t *testing.T) {
	const budget = 4 << 20
	const arg = 512 << 10
	h := &hog{gate: make(chan struct{})}
	d := start(t, daemon.Options{ConnBudget: budget, StallTimeout: 500 * time.Millisecond})
	if err := d.Provide("hog", h); err != nil {
		t.Fatal(err)
	}
	flooder := dial(t, d, nil)
	other := dial(t, d, nil)
	big := strings.Repeat("b", arg)
	const calls = 40
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			_, err := flooder.Service("hog").Call(context.Background(), "hold", big)
			errs <- err
		})
	}
	// The daemon reads calls until they cost half the budget: two calls
	// with frames of a little more than 512 KiB reach 2 MiB.
	reached, limit := int32(budget/2/(2*arg)), int32(budget/2/(2*arg)+1)
	for i := 0; h.running.Load() < reached; i++ {
		if err := flooder.Err(); err != nil {
			t.Fatalf("the flooding client was closed before it reached its budget: %v", err)
		}
		if i == 100_000 {
			t.Fatalf("only %d calls arrived", h.running.Load())
		}
		time.Sleep(100 * time.Microsecond) // polling a condition: the calls arrive over the socket
	}
	// Another client is served meanwhile.
	if res, err := other.Service("hog").Call(context.Background(), "ping"); err != nil || res.Value() != "pong" {
		t.Fatalf("another client while one is at its budget: %v, %v", res, err)
	}
	// The flooder stays at its budget: the daemon closes it, which ends
	// every call it sent.
	closed := 0
	for range calls {
		var err error
		select {
		case err = <-errs:
		case <-time.After(time.Minute): // a hang guard, far beyond StallTimeout
			close(h.gate)
			wg.Wait()
			t.Fatal("the connection that stayed at its budget is still open a minute later")
		}
		if errors.Is(err, errcode.ConnClosed) {
			closed++
		} else if err != nil {
			t.Errorf("a flooding call: %v", err)
		}
	}
	wg.Wait()
	close(h.gate)
	if closed == 0 {
		t.Fatal("the connection that stayed at its budget was not closed")
	}
	if p := h.peak.Load(); p > limit {
		t.Fatalf("%d calls of %d KiB held at once; the budget allows %d", p, arg>>10, limit)
	}
	if _, err := other.Service("hog").Call(context.Background(), "ping"); err != nil {
		t.Fatalf("the other client after the flooder was closed: %v", err)
	}
}
