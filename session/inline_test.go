package session

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestBlockingCallDoesNotStallSession: the reader runs calls itself, but a
// call that blocks must not hold up the session's other calls: the
// watchdog moves the reader role to a new goroutine, and the session then
// sends calls to workers for a while.
func TestBlockingCallDoesNotStallSession(t *testing.T) {
	c, s := pair(t)
	ctx := context.Background()
	slow := make(chan error, 1)
	go func() {
		_, err := call(ctx, c, "sleep") // blocks until the session ends
		slow <- err
	}()
	// Wait until the server's reader is inside the slow call.
	deadline := time.Now().Add(5 * time.Second)
	for s.inlineGen.Load()&1 == 0 && s.workerCalls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never started")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		start := time.Now()
		res, err := call(cctx, c, "echo", "x")
		cancel()
		if err != nil || res != "x" {
			t.Fatalf("call %d behind a blocked one: %v, %v", i, res, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("call %d took %v behind a blocked one", i, d)
		}
	}
	if s.workerCalls.Load() == 0 {
		t.Error("after a handover the session should hand calls to workers for a while")
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow call ended early: %v", err)
	default:
	}
	c.Close()
	s.Close()
	if err := <-slow; err == nil {
		t.Error("the slow call should fail when the session ends")
	}
}

// TestCorkedBatchReplies: many calls arriving together are all answered
// (their replies corked into few writes), in any order.
func TestCorkedBatchReplies(t *testing.T) {
	c, _ := pair(t)
	ctx := context.Background()
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			res, err := call(ctx, c, "echo", float64(i))
			if err == nil && res != float64(i) {
				err = errorf("call %d got %v", i, res)
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// TestComputingCallsGoToWorkers: handlers that compute for a millisecond
// never block, so no handover happens, but they are caught running by the
// watchdog and the session moves its calls to workers (where they can use
// several CPUs).
func TestComputingCallsGoToWorkers(t *testing.T) {
	c, s := pair(t)
	ctx := context.Background()
	for i := 0; i < 200 && s.backoff.Load() == 0; i++ {
		if _, err := call(ctx, c, "spin"); err != nil {
			t.Fatal(err)
		}
	}
	if s.backoff.Load() == 0 {
		t.Fatal("200 calls of 1 ms each ran inline without one counting as slow")
	}
}

// TestQuickCallsStayInline: calls that return at once keep running on the
// reader. A loaded machine may preempt the reader inside a call for longer
// than inlineSlow, which rightly counts as slow and sends the next calls to
// workers for a while; so the test asks for one whole batch of calls that
// all ran inline with no backoff, in one of several batches, which a
// session that moved quick calls to workers never gives.
func TestQuickCallsStayInline(t *testing.T) {
	c, s := pair(t)
	ctx := context.Background()
	const batch, tries = 500, 10
	for try := 0; try < tries; try++ {
		g0, b0 := settledGen(s), s.backoff.Load()
		for i := 0; i < batch; i++ {
			if _, err := call(ctx, c, "echo", "x"); err != nil {
				t.Fatal(err)
			}
		}
		inline := (settledGen(s) - g0) / 2
		if s.backoff.Load() == b0 && inline == batch {
			return
		}
		t.Logf("batch %d: %d of %d calls inline, backoff %d -> %d", try, inline, batch, b0, s.backoff.Load())
	}
	t.Errorf("no batch of %d quick calls ran wholly inline in %d tries", batch, tries)
}

// settledGen returns the session's inline generation once no inline call
// is running (the reply of the last call leaves before its call ends).
func settledGen(s *Conn) uint64 {
	for {
		if g := s.inlineGen.Load(); g&1 == 0 {
			return g
		}
		runtime.Gosched()
	}
}

// TestIdleWorkersAreReaped: workers started for slow calls are stopped by
// the watchdog once the session has handed them nothing for the idle time.
func TestIdleWorkersAreReaped(t *testing.T) {
	g := NewGroup()
	g.workerIdle.Store(int64(50 * time.Millisecond))
	t.Cleanup(g.Wait) // after the sessions' cleanup, registered next
	c, s := pairWith(t, Config{Handler: testService{}, Group: g})
	ctx := context.Background()
	for i := 0; i < 200 && s.backoff.Load() == 0; i++ {
		if _, err := call(ctx, c, "spin"); err != nil {
			t.Fatal(err)
		}
	}
	// The session now hands calls to workers: run some concurrently.
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() { _, err := call(ctx, c, "spin"); errs <- err }()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if s.workers.Load() == 0 {
		t.Fatal("no workers were started")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.workers.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers still running", s.workers.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStuckCallsRespectMaxInFlight: calls that never return, whether they
// started on the reader (and were handed over) or on workers, count
// against MaxInFlight; past it the session stops reading instead of
// starting goroutines, and it still ends cleanly.
func TestStuckCallsRespectMaxInFlight(t *testing.T) {
	const max = 4
	c, s := pairWith(t, Config{Handler: testService{}, MaxInFlight: max})
	ctx := context.Background()
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() { _, err := call(ctx, c, "sleep"); errs <- err }()
		time.Sleep(2 * time.Millisecond) // let some start inline and be handed over
	}
	time.Sleep(100 * time.Millisecond)
	if n := s.InFlight(); n > max+1 {
		t.Errorf("%d calls running, MaxInFlight is %d", n, max)
	}
	if n := s.workers.Load(); n > max+1 {
		t.Errorf("%d workers, MaxInFlight is %d", n, max)
	}
	c.Close()
	s.Close()
	for i := 0; i < 20; i++ {
		if err := <-errs; err == nil {
			t.Error("a stuck call succeeded")
		}
	}
}
