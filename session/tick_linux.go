//go:build linux

package session

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdTicker ticks through a timerfd that the netpoller watches.
type fdTicker struct {
	f   *os.File
	fd  int
	buf [8]byte
}

func newTicker(d time.Duration) ticker {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimeTicker(d)
	}
	t := &fdTicker{f: os.NewFile(uintptr(fd), "nexus-watchdog-timer"), fd: fd}
	t.reset(d)
	return t
}

// wait blocks until the timer has expired at least once since the last
// wait (a read error, which cannot happen on a live timerfd, returns at
// once and the watchdog simply looks again).
func (t *fdTicker) wait() { _, _ = t.f.Read(t.buf[:]) }

func (t *fdTicker) reset(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	_ = unix.TimerfdSettime(t.fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil)
}

func (t *fdTicker) stop() {
	_ = unix.TimerfdSettime(t.fd, 0, &unix.ItimerSpec{}, nil)
	// Drop an expiry that is already counted, so that wait after reset
	// waits for a full tick.
	var b [8]byte
	_, _ = unix.Read(t.fd, b[:])
}

func (t *fdTicker) close() { _ = t.f.Close() }
