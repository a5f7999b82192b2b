package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// line is one line a child printed on stdout, with when the driver read it.
type line struct {
	text string
	at   time.Time
}

// child is a subprocess of the driver. Its stdout arrives line by line on
// lines (closed at EOF), the end of its stderr is kept for reports, and it
// dies with the driver (SIGKILL as parent-death signal). kill and stop are
// idempotent; done is closed once the process has been waited for.
type child struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan line
	stderr  *tail
	done    chan struct{}
	waitErr error     // valid once done is closed
	exited  time.Time // when Wait returned; valid once done is closed
	killed  sync.Once
}

// startChild starts path with args, registered with procs so that it is
// killed at the latest when the driver ends its scenario.
func startChild(procs *reaper, name, path string, args ...string) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{name: name, cmd: cmd, lines: make(chan line, 64), stderr: &tail{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	procs.add(c)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case c.lines <- line{text: sc.Text(), at: time.Now()}:
			default: // nobody reads that much; the lines that matter come first
			}
		}
		close(c.lines)
		c.waitErr = cmd.Wait() // after the last read from the pipe, as exec requires
		c.exited = time.Now()
		close(c.done)
	}()
	return c, nil
}

// pid returns the process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// waitLine waits for the next stdout line that starts with prefix,
// skipping others, until ctx ends or the child closes its stdout.
func (c *child) waitLine(ctx context.Context, prefix string) (line, error) {
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return line{}, fmt.Errorf("%s ended before printing %q: %v; stderr: %s", c.name, prefix, c.exitErr(), c.stderr.String())
			}
			if strings.HasPrefix(l.text, prefix) {
				return l, nil
			}
		case <-ctx.Done():
			return line{}, fmt.Errorf("%s printed no %q line: %w; stderr: %s", c.name, prefix, ctx.Err(), c.stderr.String())
		}
	}
}

// exitErr is the process's exit error, or "still running".
func (c *child) exitErr() error {
	select {
	case <-c.done:
		return c.waitErr
	case <-time.After(100 * time.Millisecond):
		return errors.New("still running")
	}
}

// kill sends SIGKILL once.
func (c *child) kill() {
	c.killed.Do(func() { _ = c.cmd.Process.Kill() })
}

// stop kills the child and waits for it; 10 s after SIGKILL it gives up
// (a zombie is the kernel's business, not a hang of the driver).
func (c *child) stop() {
	c.kill()
	c.wait(10 * time.Second)
}

// wait waits up to d for the child to end; false if it did not.
func (c *child) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// reaper is every child started, so that none outlives its scenario.
type reaper struct {
	mu   sync.Mutex
	list []*child
}

// add registers c.
func (r *reaper) add(c *child) {
	r.mu.Lock()
	r.list = append(r.list, c)
	r.mu.Unlock()
}

// stopAll kills every child still running and waits for them.
func (r *reaper) stopAll() {
	r.mu.Lock()
	list := r.list
	r.list = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop()
		}()
	}
	wg.Wait()
}

// tail is an io.Writer that keeps the last max bytes written.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write keeps the end of what was written.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// String returns what is kept, or "(empty)".
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return "(empty)"
	}
	return s
}
