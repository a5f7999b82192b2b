package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/client"
)

// runL1 is L1: cfg.goClients Go clients (client.Dial, one session each)
// connect, then all make cfg.goCalls sequential demo.echo calls at once,
// each answer checked; then they close, and the daemon's memory is
// measured around it (memProbe).
func runL1(ctx context.Context, e *env, r *result) {
	n, calls := e.cfg.goClients, e.cfg.goCalls
	d, err := e.startDaemon(ctx, e.socketPath("l1"))
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

	// Connect every client (all at once), then release them together.
	var errs errTally
	clients := make([]*client.Client, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			c, err := client.Dial(dctx, daemonAddr, &client.Options{AppID: "load-go", SocketPath: d.socket})
			if err != nil {
				errs.add(fmt.Errorf("dial: %w", err))
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	dialTime := time.Since(t0)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	logf("L1: %d clients connected in %.2f s", n, dialTime.Seconds())

	start := time.Now()
	for i, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 120*time.Second) // every call of this client
			defer cancel()
			svc := c.Service("demo")
			for j := range calls {
				want := fmt.Sprintf("g%d-%d", i, j)
				res, err := svc.Call(cctx, "echo", want)
				if err == nil && res.Value() != want {
					err = fmt.Errorf("echo %q answered %v", want, res.Value())
				}
				if err != nil {
					errs.add(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := n * calls
	logf("L1: %d calls in %.2f s", total, elapsed.Seconds())

	loaded, peak, err := mem.loaded(ctx)
	if err != nil {
		r.fatal(err)
		return
	}
	r.check("every client connected and served", loaded.Clients == n, "the daemon counts %d clients, want %d", loaded.Clients, n)
	r.check("no error", errs.count() == 0, "%d clients × %d calls; errors: %s", n, calls, errs.String())

	var cw sync.WaitGroup
	for i, c := range clients {
		if c != nil {
			cw.Add(1)
			go func() {
				defer cw.Done()
				c.Close()
			}()
			clients[i] = nil
		}
	}
	cw.Wait()
	left := time.Now()

	r.figure("%d clients × %d calls in %.2f s: %.0f calls/s (connecting took %.2f s)", n, calls, elapsed.Seconds(), float64(total)/elapsed.Seconds(), dialTime.Seconds())
	mem.afterLeave(ctx, e, r, left, n, loaded, peak)
	err = d.terminate()
	r.check("daemon stops on SIGTERM: status 0, socket removed", err == nil, "%v", errOr(err, "exit 0"))
}
