package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
)

// poolLoad is cfg.poolWorkers goroutines that each, in a loop, ask a
// client.Pool for the demo service and call demo.echo on it — what a user
// of a Pool writes. A failed call is retried after 1 ms; nothing else is
// done about failures.
type poolLoad struct {
	pool *client.Pool
	errs errTally
	ok   atomic.Int64

	mu        sync.Mutex
	firstOK   []time.Time // per worker: first success after since
	since     time.Time
	lastErrAt time.Time
	stopped   chan struct{}
	wg        sync.WaitGroup
}

// start begins the workers; every call is bounded by 5 s.
func (p *poolLoad) start(ctx context.Context, workers int) {
	p.stopped = make(chan struct{})
	p.firstOK = make([]time.Time, workers)
	for w := range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-p.stopped:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				want := "p" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				svc, err := p.pool.Service(cctx, "demo")
				if err == nil {
					var res client.Result
					res, err = svc.Call(cctx, "echo", want)
					if err == nil && res.Value() != want {
						err = fmt.Errorf("echo %q answered %v", want, res.Value())
					}
				}
				cancel()
				now := time.Now()
				if err != nil {
					p.errs.add(err)
					p.mu.Lock()
					p.lastErrAt = now
					p.mu.Unlock()
					if ctx.Err() != nil {
						return
					}
					time.Sleep(time.Millisecond)
					continue
				}
				p.ok.Add(1)
				p.mu.Lock()
				if !p.since.IsZero() && p.firstOK[w].IsZero() {
					p.firstOK[w] = now
				}
				p.mu.Unlock()
			}
		}()
	}
}

// mark starts recording, per worker, the first success from now on.
func (p *poolLoad) mark() {
	p.mu.Lock()
	p.since = time.Now()
	clear(p.firstOK)
	p.mu.Unlock()
}

// recovered reports whether every worker has succeeded since mark, and
// when the first of them did.
func (p *poolLoad) recovered() (all bool, first time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all = true
	for _, t := range p.firstOK {
		if t.IsZero() {
			all = false
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return all, first
}

// stop ends the workers and waits for them.
func (p *poolLoad) stop() {
	close(p.stopped)
	p.wg.Wait()
}

// inode returns the inode of the file at path, whether it is a socket,
// and its number of links.
func inode(path string) (ino uint64, isSocket bool, nlink uint64, err error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, false, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false, 0, errors.New("no inode")
	}
	return st.Ino, fi.Mode()&os.ModeSocket != 0, uint64(st.Nlink), nil
}

// runF3 is F3: a Pool under load from cfg.poolWorkers workers; the daemon
// is SIGKILLed and a successor started on the same socket path. The stale
// socket file must be replaced by the successor's, the Pool must serve
// every worker again without any action but their own retries (the time
// from the successor's READY to the first success is the figure), and the
// handles taken before the restart (a *client.Client, a Service from it, a
// Service from the Pool, a reference) must fail with E_CONN_CLOSED, as
// docs/client.md says, while the Pool hands out a new session.
func runF3(ctx context.Context, e *env, r *result) {
	socket := e.socketPath("f3")
	d1, err := e.startDaemon(ctx, socket)
	if err != nil {
		r.fatal(err)
		return
	}
	defer d1.stop()
	pool := client.NewPool(&client.Options{AppID: "load-pool", SocketPath: socket}, &daemonAddr)
	defer pool.Close()

	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	oldClient, err := pool.Client(hctx, daemonAddr)
	if err != nil {
		r.fatal(err)
		return
	}
	oldSvc := oldClient.Service("demo")
	oldPoolSvc, err := pool.Service(hctx, "demo")
	var oldRef *client.Ref
	if err == nil {
		var res client.Result
		if res, err = oldSvc.Call(hctx, "makeCounter", 1); err == nil {
			oldRef, err = res.Ref()
		}
	}
	if err != nil {
		r.fatal(err)
		return
	}

	load := &poolLoad{pool: pool}
	load.start(ctx, e.cfg.poolWorkers)
	defer func() {
		if load.stopped != nil {
			select {
			case <-load.stopped:
			default:
				load.stop()
			}
		}
	}()
	warm := time.Now().Add(10 * time.Second)
	for load.ok.Load() < 200 {
		if ctx.Err() != nil || time.Now().After(warm) {
			r.fatal(fmt.Errorf("the Pool workers made %d calls in 10 s before the kill (want 200); errors: %s", load.ok.Load(), load.errs.String()))
			return
		}
		time.Sleep(time.Millisecond)
	}
	okBefore, errsBefore := load.ok.Load(), load.errs.count()

	killedAt := time.Now()
	d1.kill()
	r.check("first daemon gone", d1.wait(10*time.Second), "reaped after SIGKILL")
	// What the successor finds: the old socket file, which nobody accepts
	// on. A second link to it keeps its inode allocated, so that the
	// successor's socket cannot reuse the number, and its link count
	// shows when the successor unlinks the path.
	old := socket + ".old"
	linkErr := os.Link(socket, old)
	defer os.Remove(old)
	ino1, isSock, nlink, err := inode(socket)
	_, dialErr := net.Dial("unix", socket)
	r.check("a stale socket is left behind", err == nil && linkErr == nil && isSock && nlink == 2 && errors.Is(dialErr, syscall.ECONNREFUSED),
		"socket file (inode %d, %d links: %v, %v); connecting: %v", ino1, nlink, err, linkErr, dialErr)

	load.mark()
	d2, err := e.startDaemon(ctx, socket)
	if err != nil {
		r.fatal(fmt.Errorf("successor: %w", err))
		return
	}
	defer d2.stop()
	ino2, isSock2, _, err := inode(socket)
	_, _, oldLinks, oldErr := inode(old)
	r.check("the successor removes the stale socket and listens", err == nil && oldErr == nil && isSock2 && ino2 != ino1 && oldLinks == 1,
		"socket inode %d before, %d after (%v); links left to the old one %d (%v)", ino1, ino2, err, oldLinks, oldErr)

	deadline := time.Now().Add(10 * time.Second)
	all, first := load.recovered()
	for !all && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
		all, first = load.recovered()
	}
	r.check("the Pool recovers without user action", all, "every worker (%d) served again within 10 s of the successor's READY", e.cfg.poolWorkers)
	// Some more load on the new daemon before the old handles are tried.
	now := load.ok.Load()
	for load.ok.Load() < now+200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	load.stop()
	load.mu.Lock()
	downtime := load.lastErrAt.Sub(killedAt)
	load.mu.Unlock()

	// Handles from before the restart: bound to the old session for good.
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, errSvc := oldSvc.Call(octx, "echo", "old")
	_, errPoolSvc := oldPoolSvc.Call(octx, "echo", "old")
	_, errRef := oldRef.Call(octx, "increment")
	newClient, errNew := pool.Client(octx, daemonAddr)
	closed := func(err error) bool { return errors.Is(err, errcode.ConnClosed) }
	r.check("old handles fail with E_CONN_CLOSED", closed(errSvc) && closed(errPoolSvc) && closed(errRef) && closed(oldClient.Err()),
		"Client.Service(...).Call: %s; a Service from Pool.Service: %s; Ref.Call: %s; Client.Err: %v", brief(errSvc), brief(errPoolSvc), brief(errRef), oldClient.Err())
	r.check("the Pool hands out a new session", errNew == nil && newClient != oldClient, "Pool.Client returns another *client.Client: %v (err %s)", newClient != oldClient, brief(errNew))

	// During the restart the workers may only see the session end or no
	// daemon to connect to.
	load.errs.mu.Lock()
	other := 0
	for code, n := range load.errs.byCode {
		if code != string(errcode.ConnClosed) && code != string(errcode.IPCConnectFailed) {
			other += n
		}
	}
	byCode := fmt.Sprint(load.errs.byCode)
	load.errs.mu.Unlock()
	r.check("workers saw only E_CONN_CLOSED and E_IPC_CONNECT_FAILED, none before the kill", other == 0 && errsBefore == 0, "errors: %s (%d before the kill)", byCode, errsBefore)

	figure := fmt.Sprintf("%d Pool workers, %d calls before the kill, %d after", e.cfg.poolWorkers, okBefore, load.ok.Load()-okBefore)
	if !first.IsZero() {
		figure += fmt.Sprintf("; successor READY %s after the kill, first successful call %s after READY", ms(d2.ready.Sub(killedAt)), ms(first.Sub(d2.ready)))
	}
	figure += fmt.Sprintf("; failed calls %d (last %s after the kill)", load.errs.count(), ms(downtime))
	r.figure("%s", figure)
	err = d2.terminate()
	r.check("successor stops on SIGTERM: status 0, socket removed", err == nil, "%v", errOr(err, "exit 0"))
}
