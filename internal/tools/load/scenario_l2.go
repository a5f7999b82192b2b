package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// nodeResult is the JSON line a load-client.mjs process prints after its
// calls.
type nodeResult struct {
	Calls      int     `json:"calls"`
	OK         int     `json:"ok"`
	Errors     int     `json:"errors"`
	FirstError *string `json:"firstError"`
	MS         float64 `json:"ms"`
}

// runL2 is L2: cfg.nodeProcs Node processes (load-client.mjs) connect and
// print READY; once the daemon counts them all, a line on their stdin
// starts cfg.nodeCalls sequential demo.echo calls in each; they report and
// stay connected until their stdin is closed. The daemon's memory is
// measured around it as in L1.
func runL2(ctx context.Context, e *env, r *result) {
	n, calls := e.cfg.nodeProcs, e.cfg.nodeCalls
	if _, _, err := e.nodeScript(); err != nil {
		r.fatal(err)
		return
	}
	d, err := e.startDaemon(ctx, e.socketPath("l2"))
	if err != nil {
		r.fatal(err)
		return
	}
	defer d.stop()
	mem, err := startMemProbe(ctx, d)
	if err != nil {
		r.fatal(err)
		return
	}

	procs := make([]*child, n)
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.kill() // all first: they end in parallel
			}
		}
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	t0 := time.Now()
	for i := range procs {
		p, err := e.startNodeClient("node client "+strconv.Itoa(i), d.socket, "--calls", strconv.Itoa(calls))
		if err != nil {
			r.fatal(err)
			return
		}
		procs[i] = p
	}
	rctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	for _, p := range procs {
		if _, err := p.waitLine(rctx, "READY"); err != nil {
			r.fatal(err)
			return
		}
	}
	// A Node client is connected once create resolved; the daemon counts
	// the connection once it has seen HANDSHAKE_READY.
	_, all, _ := d.pollUntil(ctx, 20*time.Millisecond, 10*time.Second, func(st Stats) bool { return st.Clients == n })
	if !r.check("every process connected", !all.IsZero(), "the daemon counted %d processes within 10 s of their READY", n) {
		return
	}
	startup := time.Since(t0)
	logf("L2: %d Node processes connected in %.2f s", n, startup.Seconds())

	start := time.Now()
	for _, p := range procs {
		if _, err := fmt.Fprintln(p.stdin, "go"); err != nil {
			r.fatal(fmt.Errorf("%s: stdin: %w", p.name, err))
			return
		}
	}
	var errs errTally
	ok := 0
	var lines sync.WaitGroup
	var mu sync.Mutex
	for _, p := range procs {
		lines.Add(1)
		go func() {
			defer lines.Done()
			l, err := p.waitLine(rctx, "{")
			var res nodeResult
			if err == nil {
				err = json.Unmarshal([]byte(l.text), &res)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs.add(err)
			case res.Errors > 0 || res.OK != calls:
				errs.add(fmt.Errorf("%s: %d of %d calls answered right, first error %v", p.name, res.OK, calls, deref(res.FirstError)))
			}
			ok += res.OK
		}()
	}
	lines.Wait()
	elapsed := time.Since(start)
	total := n * calls
	logf("L2: %d calls in %.2f s", total, elapsed.Seconds())

	loaded, peak, err := mem.loaded(ctx)
	if err != nil {
		r.fatal(err)
		return
	}
	r.check("every process still connected", loaded.Clients == n, "the daemon counts %d clients, want %d", loaded.Clients, n)
	r.check("no error", errs.count() == 0 && ok == total, "%d processes × %d calls, %d answered right; errors: %s", n, calls, ok, errs.String())

	// Closing their stdin ends them: they exit 0.
	for _, p := range procs {
		p.stdin.Close()
	}
	bad, firstBad := 0, ""
	for _, p := range procs {
		if !p.wait(30*time.Second) || p.waitErr != nil {
			bad++
			if bad == 1 {
				firstBad = fmt.Sprintf("%s: %v; stderr: %s", p.name, p.exitErr(), p.stderr.String())
			}
		}
	}
	left := time.Now()
	if bad == 0 {
		r.check("every process exits 0 when its stdin ends", true, "all %d did", n)
	} else {
		r.check("every process exits 0 when its stdin ends", false, "%d did not; the first: %s", bad, firstBad)
	}

	r.figure("%d processes × %d calls in %.2f s: %.0f calls/s (starting and connecting took %.2f s)", n, calls, elapsed.Seconds(), float64(total)/elapsed.Seconds(), startup.Seconds())
	mem.afterLeave(ctx, e, r, left, n, loaded, peak)
	err = d.terminate()
	r.check("daemon stops on SIGTERM: status 0, socket removed", err == nil, "%v", errOr(err, "exit 0"))
}

// deref returns *s, or "none".
func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}
