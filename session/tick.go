package session

import "time"

// ticker is the watchdog's clock. On Linux it is a timerfd read through the
// netpoller (tick_linux.go) rather than a runtime timer: a pending runtime
// timer keeps the runtime's sysmon thread polling, which cost about 3 µs
// per call in the pinned sequential benchmark. Elsewhere, or if timerfd is
// unavailable, it is a time.Ticker.
type ticker interface {
	wait() // blocks until the next tick
	close()
}

type timeTicker struct{ t *time.Ticker }

func (t timeTicker) wait()  { <-t.t.C }
func (t timeTicker) close() { t.t.Stop() }

func newTimeTicker(d time.Duration) ticker { return timeTicker{time.NewTicker(d)} }
