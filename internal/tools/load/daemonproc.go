package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/client"
)

// daemonProc is the driver's handle on a daemon under test: the process
// (`load daemon`), its socket, and when the driver read its READY line.
type daemonProc struct {
	*child
	socket string
	ready  time.Time
}

// daemonAddr is the target every client dials (with an explicit socket
// path).
var daemonAddr = client.Address{AppID: daemonAppID}

// socketPath returns a socket path in the driver's temporary directory.
func (e *env) socketPath(name string) string { return filepath.Join(e.dir, name+".sock") }

// startDaemon starts a daemon on socket and waits for its READY line
// (never for a duration), at most 30 s.
func (e *env) startDaemon(ctx context.Context, socket string) (*daemonProc, error) {
	c, err := startChild(e.procs, "daemon", e.exe, "daemon", "--socket", socket)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := c.waitLine(ctx, "READY ")
	if err != nil {
		c.stop()
		return nil, err
	}
	if got := l.text[len("READY "):]; got != socket {
		c.stop()
		return nil, fmt.Errorf("daemon listens on %q, want %q", got, socket)
	}
	return &daemonProc{child: c, socket: socket, ready: l.at}, nil
}

// terminate stops the daemon with SIGTERM as a user would; it fails
// unless the daemon exits with status 0 within 10 s (it is killed
// otherwise) and its socket file is gone, as docs/daemon.md says.
func (d *daemonProc) terminate() error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	if !d.wait(10 * time.Second) {
		d.stop()
		return fmt.Errorf("daemon still running 10 s after SIGTERM; stderr: %s", d.stderr.String())
	}
	if d.waitErr != nil {
		return fmt.Errorf("daemon exited with %v after SIGTERM; stderr: %s", d.waitErr, d.stderr.String())
	}
	if _, err := os.Lstat(d.socket); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("daemon exited 0 but left its socket file (%v)", err)
	}
	return nil
}

// call calls a loadstats method on a connection of its own, opened for
// this call and closed after it, so that reading the figures leaves no
// state in the daemon (a connection kept open could have been handed
// worker goroutines that outlive the reading).
func (d *daemonProc) call(ctx context.Context, method string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, daemonAddr, &client.Options{AppID: statsAppID, SocketPath: d.socket})
	if err != nil {
		return fmt.Errorf("loadstats.%s: %w", method, err)
	}
	defer c.Close()
	res, err := c.Service("loadstats").Call(ctx, method)
	if err != nil {
		return fmt.Errorf("loadstats.%s: %w", method, err)
	}
	if out != nil {
		return res.Decode(out)
	}
	return nil
}

// stats reads loadstats.stats.
func (d *daemonProc) stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := d.call(ctx, "stats", &st)
	return st, err
}

// conns reads loadstats.conns.
func (d *daemonProc) conns(ctx context.Context) ([]ConnInfo, error) {
	var cs []ConnInfo
	err := d.call(ctx, "conns", &cs)
	return cs, err
}

// goroutineProfile reads loadstats.goroutines (pprof debug=1 text); ""
// when it cannot be read.
func (d *daemonProc) goroutineProfile(ctx context.Context) string {
	var p string
	if err := d.call(ctx, "goroutines", &p); err != nil {
		return ""
	}
	return p
}

// settledStats reads the figures three times and keeps the last one with
// the fewest goroutines: a baseline not raised by a goroutine that was
// just ending (of the previous stats connection, or a watchdog retiring).
func (d *daemonProc) settledStats(ctx context.Context) (Stats, error) {
	var best Stats
	for i := range 3 {
		st, err := d.stats(ctx)
		if err != nil {
			return st, err
		}
		if i == 0 || st.Goroutines <= best.Goroutines {
			best = st
		}
	}
	return best, nil
}

// pollUntil reads the figures every interval until ok accepts them or
// timeout passes; it returns the last figures read and when ok accepted
// them (the zero time if it did not).
func (d *daemonProc) pollUntil(ctx context.Context, interval, timeout time.Duration, ok func(Stats) bool) (Stats, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st, err := d.stats(ctx)
		if err == nil && ok(st) {
			return st, time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return st, time.Time{}, err
		case <-time.After(interval):
		}
	}
}

// rssSampler reads the daemon's VmRSS from /proc/PID/status every 10 ms,
// from the driver, so that the sampling costs the daemon nothing; the
// kernel's high-water mark (VmHWM) is the other half of the peak.
type rssSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	max  int64
}

// sampleRSS starts sampling pid.
func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/status", pid)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if f, err := readProcStatus(path); err == nil {
				s.max = max(s.max, f["VmRSS"])
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// done stops sampling and returns the highest RSS seen.
func (s *rssSampler) done() int64 {
	close(s.stop)
	s.wg.Wait()
	return s.max
}
