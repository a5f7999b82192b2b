package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
)

// f1Limit is the bound on how soon every call in flight must fail
// once the daemon is killed.
const f1Limit = 100 * time.Millisecond

// runF1 is F1: cfg.inFlight calls to demo.sleep (10 minutes) spread over
// 10 Go clients; once the daemon reports them all running, it is
// SIGKILLed, and every call must fail with E_CONN_CLOSED within f1Limit of
// the kill. Each call's context ends 30 s after it started, so a call that
// hangs ends as E_CALL_TIMEOUT and fails the check, without hanging the
// driver.
func runF1(ctx context.Context, e *env, r *result) {
	n := e.cfg.inFlight
	nc := min(10, n)
	d, err := e.startDaemon(ctx, e.socketPath("f1"))
	if err != nil {
		r.fatal(err)
		return
	}
	defer d.stop()
	clients := make([]*client.Client, nc)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range clients {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		clients[i], err = client.Dial(dctx, daemonAddr, &client.Options{AppID: "load-f1", SocketPath: d.socket})
		cancel()
		if err != nil {
			r.fatal(err)
			return
		}
	}

	type outcome struct {
		err error
		end time.Time
	}
	out := make([]outcome, n)
	cctx, cancelCalls := context.WithTimeout(ctx, 30*time.Second)
	defer cancelCalls()
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := clients[i%nc].Service("demo").Call(cctx, "sleep", 600000)
			out[i] = outcome{err: err, end: time.Now()}
		}()
	}
	st, running, err := d.pollUntil(ctx, 10*time.Millisecond, 20*time.Second, func(st Stats) bool { return st.InFlight >= n })
	if !r.check("calls in flight before the kill", !running.IsZero(), "the daemon runs %d calls of %d (%v)", st.InFlight, n, errOr(err, "ok")) {
		return
	}

	killedAt := time.Now()
	d.kill()
	returned := make(chan struct{})
	go func() {
		wg.Wait()
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		cancelCalls() // the stragglers end as E_CALL_TIMEOUT
		<-returned
	}
	reaped := d.wait(10 * time.Second)

	var lat []time.Duration
	var wrong errTally
	late := 0
	for _, o := range out {
		dt := o.end.Sub(killedAt)
		lat = append(lat, dt)
		if !errors.Is(o.err, errcode.ConnClosed) {
			if o.err == nil {
				o.err = errors.New("the call succeeded")
			}
			wrong.add(o.err)
		}
		if dt > f1Limit {
			late++
		}
	}
	maxLat, p50 := percentile(lat, 100), percentile(lat, 50)
	r.check("every call fails with E_CONN_CLOSED", wrong.count() == 0, "%d calls; other outcomes: %s", n, wrong.String())
	r.check(fmt.Sprintf("every call ends within %v of the kill", f1Limit), late == 0, "%d of %d later; max %s", late, n, ms(maxLat))
	closed := 0
	for _, c := range clients {
		if errors.Is(c.Err(), errcode.ConnClosed) {
			closed++
		}
	}
	r.check("every client's session ended with E_CONN_CLOSED", closed == nc, "%d of %d", closed, nc)
	r.check("daemon process gone", reaped, "reaped after SIGKILL: %v", reaped)
	r.figure("%d calls in flight on %d clients at SIGKILL; detection p50 %s, p90 %s, max %s", st.InFlight, nc, ms(p50), ms(percentile(lat, 90)), ms(maxLat))
}
