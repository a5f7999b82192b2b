package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// memProbe measures the daemon's memory around one load (L1, L2): the idle
// baseline before the clients come, the peak while they are connected, and
// the figures --after the last of them left.
type memProbe struct {
	d        *daemonProc
	base     Stats
	baseProf string // the goroutine profile at the baseline
	sampler  *rssSampler
}

// startMemProbe reads the idle baseline, resets the kernel's high-water
// mark and starts sampling the RSS.
func startMemProbe(ctx context.Context, d *daemonProc) (*memProbe, error) {
	base, err := d.settledStats(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.call(ctx, "resetPeak", nil); err != nil {
		return nil, err
	}
	prof := d.goroutineProfile(ctx)
	return &memProbe{d: d, base: base, baseProf: prof, sampler: sampleRSS(d.pid())}, nil
}

// loaded reads the figures while every client is still connected, stops
// the sampler and returns them with the peak RSS since the baseline: the
// highest of the kernel's high-water mark and the driver's samples.
func (m *memProbe) loaded(ctx context.Context) (Stats, int64, error) {
	st, err := m.d.stats(ctx)
	peak := m.sampler.done()
	if err != nil {
		return st, peak, err
	}
	return st, max(peak, st.PeakRSS, st.RSS), nil
}

// afterLeave completes the measurement once the n clients have gone (the
// last one at left): it checks that the daemon drops every connection,
// reads the figures --after left, checks the 10% rule on the RSS (enforced
// unless --short or --no-check-memory) and that the goroutines return to
// the baseline, and records the figures.
func (m *memProbe) afterLeave(ctx context.Context, e *env, r *result, left time.Time, n int, loaded Stats, peak int64) {
	base := m.base
	last, gone, err := m.d.pollUntil(ctx, 20*time.Millisecond, 30*time.Second, func(st Stats) bool { return st.Clients == 0 })
	if gone.IsZero() {
		r.check("daemon dropped every connection", false, "%d still counted 30 s after the clients left (%v)", last.Clients, err)
		return
	}
	r.check("daemon dropped every connection", true, "%s after the last client left", ms(gone.Sub(left)))
	select {
	case <-time.After(time.Until(left.Add(e.cfg.after))):
	case <-ctx.Done():
		r.fatal(ctx.Err())
		return
	}
	after, err := m.d.settledStats(ctx)
	if err != nil {
		r.fatal(err)
		return
	}
	limit := base.RSS + base.RSS/10
	r.soft(fmt.Sprintf("RSS %v after the clients left within 10%% of idle", e.cfg.after), after.RSS <= limit, e.cfg.checkMemory,
		"idle %s, after %s (%+.1f%%), limit %s", mib(base.RSS), mib(after.RSS), pct(after.RSS, base.RSS), mib(limit))

	back, final := "at that reading", after
	if after.Goroutines > base.Goroutines {
		// Not yet: wait for them as a condition (idle workers of a live
		// connection are stopped 5 s after their last call; none should
		// be left of closed ones), at most 15 s more.
		var at time.Time
		final, at, _ = m.d.pollUntil(ctx, 100*time.Millisecond, 15*time.Second, func(st Stats) bool { return st.Goroutines <= base.Goroutines })
		back = "never (waited 15 s more)"
		if !at.IsZero() {
			back = ms(at.Sub(left)) + " after the clients left"
		}
	}
	if final.Goroutines > base.Goroutines {
		prof := m.d.goroutineProfile(ctx)
		back += "; more than at idle: " + goroutineDiff(m.baseProf, prof)
		fmt.Fprintf(os.Stderr, "%s: the daemon's goroutines after the clients left:\n%s\n", r.id, prof)
	}
	r.check("goroutines back to the idle baseline", final.Goroutines <= base.Goroutines, "idle %d, %v after the clients left %d; back: %s (last read %d)",
		base.Goroutines, e.cfg.after, after.Goroutines, back, final.Goroutines)

	r.figure("daemon RSS idle %s (%d goroutines, heap in use %s)", mib(base.RSS), base.Goroutines, mib(int64(base.HeapInuse)))
	r.figure("peak RSS %s with %d clients (heap in use then %s, %d goroutines)", mib(peak), n, mib(int64(loaded.HeapInuse)), loaded.Goroutines)
	r.figure("RSS per active connection %s", kib(float64(peak-base.RSS)/float64(n)))
	r.figure("%v after the clients left: RSS %s (%+.1f%% of idle), %d goroutines, heap in use %s, heap released %s, RSS high-water mark since idle %s",
		e.cfg.after, mib(after.RSS), pct(after.RSS, base.RSS), after.Goroutines, mib(int64(after.HeapInuse)), mib(int64(after.HeapReleased)), mib(after.PeakRSS))
	// Not part of the check: how much of that the runtime could give back.
	var freed Stats
	if err := m.d.call(ctx, "freeOSMemory", &freed); err == nil {
		r.figure("diagnostic, then: RSS %s after runtime/debug.FreeOSMemory in the daemon (heap in use %s)", mib(freed.RSS), mib(int64(freed.HeapInuse)))
	}
}

// pct is how much larger a is than b, in percent.
func pct(a, b int64) float64 { return 100 * float64(a-b) / float64(b) }
