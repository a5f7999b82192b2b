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
	buf [8]byte
}

func newTicker(d time.Duration) ticker {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimeTicker(d)
	}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	if unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil) != nil {
		_ = unix.Close(fd)
		return newTimeTicker(d)
	}
	return &fdTicker{f: os.NewFile(uintptr(fd), "nexus-watchdog-timer")}
}

// wait blocks until the timer has expired at least once since the last
// wait (a read error, which cannot happen on a live timerfd, returns at
// once and the watchdog simply looks again).
func (t *fdTicker) wait() { _, _ = t.f.Read(t.buf[:]) }

func (t *fdTicker) close() { _ = t.f.Close() }
