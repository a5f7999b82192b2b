package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-interop/nexus-go/client"
)

// f2Refs is how many counters (daemon resources) each victim holds.
const f2Refs = 10

// bystander is a client that keeps calling demo.echo while a fault is
// injected elsewhere, to show that the daemon serves it meanwhile.
type bystander struct {
	svc     *client.Service
	ok      atomic.Int64
	errs    errTally
	maxLat  atomic.Int64 // nanoseconds
	stopped chan struct{}
	wg      sync.WaitGroup
}

// start begins calling, one call at a time, each bounded by 10 s.
func (b *bystander) start(ctx context.Context) {
	b.stopped = make(chan struct{})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-b.stopped:
				return
			default:
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			t := time.Now()
			want := "b" + strconv.Itoa(i)
			res, err := b.svc.Call(cctx, "echo", want)
			cancel()
			if err == nil && res.Value() != want {
				err = fmt.Errorf("echo %q answered %v", want, res.Value())
			}
			if err != nil {
				b.errs.add(err)
				if ctx.Err() != nil {
					return
				}
				continue
			}
			b.ok.Add(1)
			if lat := int64(time.Since(t)); lat > b.maxLat.Load() {
				b.maxLat.Store(lat)
			}
		}
	}()
}

// stop ends the calls and waits for the last one.
func (b *bystander) stop() {
	close(b.stopped)
	b.wg.Wait()
}

// waitCalls waits until the bystander has made n more successful calls
// than from, at most 10 s.
func (b *bystander) waitCalls(ctx context.Context, from, n int64) bool {
	deadline := time.Now().Add(10 * time.Second)
	for b.ok.Load() < from+n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// runF2 is F2, once with a Go client process (`load victim`) and once with
// a Node one (load-client.mjs --mode hang-callback): the victim holds
// f2Refs resources and is inside demo.callback's call to its function when
// it is SIGKILLed. The daemon must drop its connection and return to its
// baseline of goroutines and connections, while a bystander client keeps
// being served before, during and after.
func runF2(ctx context.Context, e *env, r *result) {
	d, err := e.startDaemon(ctx, e.socketPath("f2"))
	if err != nil {
		r.fatal(err)
		return
	}
	defer d.stop()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	bc, err := client.Dial(dctx, daemonAddr, &client.Options{AppID: "load-bystander", SocketPath: d.socket})
	cancel()
	if err != nil {
		r.fatal(err)
		return
	}
	defer bc.Close()
	b := &bystander{svc: bc.Service("demo")}

	victims := []struct {
		kind  string
		start func() (*child, error)
	}{
		{"Go", func() (*child, error) {
			return startChild(e.procs, "Go victim", e.exe, "victim", "--socket", d.socket, "--refs", strconv.Itoa(f2Refs))
		}},
		{"Node", func() (*child, error) {
			return e.startNodeClient("Node victim", d.socket, "--mode", "hang-callback", "--refs", strconv.Itoa(f2Refs))
		}},
	}
	for _, v := range victims {
		if !f2Victim(ctx, r, d, b, v.kind, v.start) {
			return
		}
	}
	r.check("the bystander is served throughout", b.errs.count() == 0, "%d calls, errors: %s, slowest %s", b.ok.Load(), b.errs.String(), ms(time.Duration(b.maxLat.Load())))
	err = d.terminate()
	r.check("daemon stops on SIGTERM: status 0, socket removed", err == nil, "%v", errOr(err, "exit 0"))
}

// f2Victim runs F2 for one victim process; false when the scenario cannot
// go on.
func f2Victim(ctx context.Context, r *result, d *daemonProc, b *bystander, kind string, start func() (*child, error)) bool {
	base, err := d.settledStats(ctx)
	if err != nil {
		r.fatal(err)
		return false
	}
	baseProf := d.goroutineProfile(ctx)
	b.start(ctx)
	stopped := false
	defer func() {
		if !stopped {
			b.stop()
		}
	}()
	v, err := start()
	if err != nil {
		r.fatal(err)
		return false
	}
	defer v.stop()
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := v.waitLine(vctx, "REFS"); err != nil {
		r.fatal(err)
		return false
	}
	if _, err := v.waitLine(vctx, "IN_CALLBACK"); err != nil {
		r.fatal(err)
		return false
	}
	// The daemon's side: the victim's connection runs one call (callback,
	// waiting for the victim's function) and holds f2Refs resources.
	var held ConnInfo
	inCall := waitConns(ctx, d, 2*time.Millisecond, 10*time.Second, func(cs []ConnInfo) bool {
		for _, c := range cs {
			if c.PID == v.pid() {
				held = c
				return c.InFlight == 1 && c.Resources == f2Refs
			}
		}
		return false
	})
	if !r.check(kind+" victim inside its callback", !inCall.IsZero(), "its connection: %d calls running, %d resources (want 1, %d)", held.InFlight, held.Resources, f2Refs) {
		return false
	}
	before := b.ok.Load()
	r.check(kind+" victim: the bystander is served while the daemon waits on the callback", b.waitCalls(ctx, before, 50), "50 calls answered")

	killedAt := time.Now()
	v.kill()
	gone := waitConns(ctx, d, 2*time.Millisecond, 10*time.Second, func(cs []ConnInfo) bool {
		for _, c := range cs {
			if c.PID == v.pid() {
				return false
			}
		}
		return true
	})
	if !r.check(kind+" victim's connection dropped", !gone.IsZero(), "by the daemon, after SIGKILL") {
		return false
	}
	backOK := func(st Stats) bool {
		return st.Clients == base.Clients && st.Resources == base.Resources && st.Goroutines <= base.Goroutines
	}
	last, back, _ := d.pollUntil(ctx, 2*time.Millisecond, 3*time.Second, backOK)
	afterKill := b.ok.Load()
	r.check(kind+" victim: the bystander is served after the kill", b.waitCalls(ctx, afterKill, 50), "50 more calls answered")
	b.stop()
	stopped = true
	note := "with the bystander calling"
	if back.IsZero() {
		// Not within 3 s while the bystander calls: say what is left, and
		// look again without it (a worker it was handed lives 5 s past
		// its last call).
		extra := goroutineDiff(baseProf, d.goroutineProfile(ctx))
		last, back, _ = d.pollUntil(ctx, 100*time.Millisecond, 15*time.Second, backOK)
		note = fmt.Sprintf("once the bystander stopped; 3 s after the kill, with the bystander calling, the goroutines beyond the baseline were: %s", extra)
	}
	r.check(kind+" victim: goroutines, connections and resources back to the baseline", !back.IsZero(),
		"baseline %d goroutines, %d clients, %d resources; last read %d, %d, %d (%s)",
		base.Goroutines, base.Clients, base.Resources, last.Goroutines, last.Clients, last.Resources, note)
	reaped := v.wait(10 * time.Second)
	r.check(kind+" victim died of SIGKILL", reaped && v.waitErr != nil && v.waitErr.Error() == "signal: killed", "exit: %v", v.exitErr())
	fig := fmt.Sprintf("%s victim (%d resources, 1 callback pending): connection dropped %s after SIGKILL", kind, f2Refs, ms(gone.Sub(killedAt)))
	if reaped {
		// The kernel closes a killed process's sockets late in its exit, after
		// freeing its memory: a big process takes longer.
		fig += fmt.Sprintf(" (the driver reaped the process %s after SIGKILL)", ms(v.exited.Sub(killedAt)))
	}
	if !back.IsZero() {
		fig += fmt.Sprintf(", goroutines and connections at baseline (%d, %d) %s after (%s)", base.Goroutines, base.Clients, ms(back.Sub(killedAt)), note)
	}
	r.figure("%s", fig)
	return true
}

// waitConns reads loadstats.conns every interval until ok accepts the list
// or timeout passes; it returns when ok accepted it (the zero time if it
// did not).
func waitConns(ctx context.Context, d *daemonProc, interval, timeout time.Duration, ok func([]ConnInfo) bool) time.Time {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cs, err := d.conns(ctx)
		if err == nil && ok(cs) {
			return time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}
		case <-time.After(interval):
		}
	}
}
