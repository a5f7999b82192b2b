package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// kib is a memory figure in KiB, as /proc/PID/status gives it.
type kib int64

// String formats k in MiB with one decimal.
func (k kib) String() string {
	return strconv.FormatFloat(float64(k)/1024, 'f', 1, 64)
}

// delta formats a difference in MiB with its sign.
func (k kib) delta() string {
	s := k.String()
	if k >= 0 {
		s = "+" + s
	}
	return s
}

// procMem returns VmRSS and VmHWM (the peak RSS since the process started
// or since resetPeak) of pid.
func procMem(pid int) (rss, hwm kib, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for line := range bytes.Lines(b) {
		var dst *kib
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &rss
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &hwm
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 {
			return 0, 0, fmt.Errorf("/proc/%d/status: bad line %q", pid, line)
		}
		n, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %q: %w", pid, line, err)
		}
		*dst = kib(n)
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS/VmHWM (a zombie?)", pid)
	}
	return rss, hwm, nil
}

// resetPeak sets pid's VmHWM back to its current RSS (writing 5 to
// /proc/PID/clear_refs, Linux 4.0 and later), so that VmHWM after a case
// is that case's peak. It reports whether that worked; when it did not,
// the peak comes from sampling alone.
func resetPeak(pid int) bool {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/clear_refs", pid), os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.WriteString("5")
	return errors.Join(err, f.Close()) == nil
}

// fdCount counts the open file descriptors of pid.
func fdCount(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}

// sampler records the highest VmRSS of a process, read every few
// milliseconds while a case runs.
type sampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak kib
}

// sampleEvery is the sampler's period: short enough to see a peak that
// lasts a few milliseconds, long enough not to load a 2-core machine.
const sampleEvery = 5 * time.Millisecond

// startSampler starts sampling pid's VmRSS.
func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	rss, _, err := procMem(s.pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak = max(s.peak, rss)
	s.mu.Unlock()
}

// finish stops the sampler and returns the highest RSS it saw.
func (s *sampler) finish() kib {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// ring keeps the last bytes written to it: a daemon's output, shown when
// the daemon fails.
type ring struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - r.limit; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	return len(p), nil
}

// tail returns the last n lines held.
func (r *ring) tail(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(r.buf))
	sc.Buffer(make([]byte, 0, 64<<10), len(r.buf)+1)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("    | " + l + "\n")
	}
	return b.String()
}
