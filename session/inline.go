package session

import (
	"errors"
	"time"
)

// Inline execution.
//
// Handing every incoming call from the reader to a worker goroutine costs a
// goroutine switch and, with idle CPUs, the wake-up of another OS thread:
// per call, more than the call itself. So the reader runs calls itself, and
// keeps the reader role moving when a call turns out to block:
//
//   - A call made on the same session while the reader runs a call (a
//     handler calling back into the peer, which needs the reader to get its
//     reply) hands the reader role to a new goroutine at once (takeOver).
//   - The watchdog hands it over when one call has run across a whole
//     watchdog tick (so after 5-10 ms): a handler that blocks delays the
//     session's other calls by at most that. It ticks through a timerfd
//     (tick_linux.go), not a runtime timer, which would keep sysmon
//     polling.
//   - After a handover, or a handler seen computing for longer than
//     inlineSlow (see ranLong), the session sends its next calls to
//     workers (64 calls, doubling up to 65,536 while calls keep being
//     slow), so sessions whose handlers block or compute keep their calls
//     running in parallel.
//
// While more frames are waiting, the replies of inline calls are corked
// (queued, not written) and the reader writes them all once it has run out
// of frames: a batch of calls is answered in one write.

// inlineSlow is the handler run time from which an inline call counts as
// slow, measured from when the watchdog first saw it running (decoding and
// encoding big payloads does not count: that work is the same on any
// goroutine).
const inlineSlow = 200 * time.Microsecond

// errHandedOff tells readLoop that its goroutine no longer holds the reader
// role.
var errHandedOff = errors.New("reader role handed off")

// inlineAllowed reports whether the reader should run the next call itself.
func (c *Conn) inlineAllowed() bool {
	if c.inflight.Load() > int64(c.cfg.MaxInFlight) {
		return false // at the limit: wait for a worker like any call
	}
	if c.workerCalls.Load() > 0 {
		c.workerCalls.Add(-1)
		return false
	}
	return true
}

// slowDown sends the next calls to workers, for twice as many calls as
// last time (64 at first, at most 65,536).
func (c *Conn) slowDown() {
	n := min(max(c.backoff.Load()*2, 64), 1<<16)
	c.backoff.Store(n)
	c.workerCalls.Store(n)
}

// runInline runs t on the reader goroutine. It returns errHandedOff when
// the reader role moved to another goroutine meanwhile.
func (c *Conn) runInline(t task) error {
	c.handlers.Add(1)
	// Look at the frame reader before the call becomes visible as running:
	// from then on the role (and the reader) may move to another goroutine.
	cork := c.fr.FrameReady()
	g := c.inlineGen.Add(1) // odd: the reader is in a call
	c.group.activity()
	slow := false
	c.runTaskCork(t, cork, func() { slow = c.ranLong(g) })
	kept := c.inlineGen.CompareAndSwap(g, g+1)
	if slow {
		c.slowDown()
	}
	if !kept {
		c.flush() // the new reader may be waiting already
		// takeOver counted this goroutine as a worker: it serves as one
		// now, so that calls stuck after a handover count against
		// MaxInFlight like any other.
		c.serveTasks()
		c.workers.Add(-1)
		c.handlers.Done()
		return errHandedOff
	}
	c.handlers.Done()
	return nil
}

// ranLong reports whether the handler of inline call g ran for longer than
// inlineSlow after the watchdog saw it running. No clock is read per call:
// a handler of duration d is seen with probability d / watchTick, so a
// handler that takes 1 ms is caught within a few calls and one that takes
// 10 µs counts as slow only if it ran 200 µs past a tick, which it cannot.
func (c *Conn) ranLong(g uint64) bool {
	return c.caughtGen.Load() == g && monoNow()-c.caughtAt.Load() > int64(inlineSlow)
}

// monoBase anchors monoNow.
var monoBase = time.Now()

// monoNow is a monotonic clock in nanoseconds.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// takeOver hands the reader role to a new goroutine if the reader is in a
// call now.
func (c *Conn) takeOver() {
	g := c.inlineGen.Load()
	if g&1 == 1 && c.inlineGen.CompareAndSwap(g, g+1) {
		c.workers.Add(1) // the goroutine in the call becomes a worker
		c.slowDown()
		go c.readLoop()
	}
}

// needsWatch reports whether the reader is in a call or workers exist
// (which the watchdog stops when idle).
func (c *Conn) needsWatch() bool { return c.inlineGen.Load()&1 == 1 || c.workers.Load() > 0 }

// watch is the watchdog's look at one session (only the watchdog calls
// it): it reports activity since the last look, and takes the reader role
// away from a call that was already running at the last look.
func (c *Conn) watch() (busy bool) {
	if c.workers.Load() > 0 {
		// Keep ticking while workers exist, and stop the idle ones once
		// the session has handed no call to workers for workerIdle.
		busy = true
		if monoNow()-c.lastWorkerTask.Load() > c.group.workerIdle.Load() {
			for stopped := false; !stopped; {
				select {
				case c.reap <- struct{}{}:
				default:
					stopped = true
				}
			}
		}
	}
	g := c.inlineGen.Load()
	if g != c.wdGen {
		c.wdGen = g
		if g&1 == 1 {
			// A call is running: note when it was first seen (see
			// ranLong).
			c.caughtAt.Store(monoNow())
			c.caughtGen.Store(g)
		}
		return true
	}
	if g&1 == 0 {
		return busy
	}
	c.takeOver()
	return true
}
