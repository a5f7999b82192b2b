package session

import (
	"context"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
)

// The memory budget: what the peer makes this side hold is its calls
// being served, from the frame's decoding until the reply is queued
// (bounded by Config.MaxHeld: the reader reads no frame while they reach
// it), and what the writer holds (bounded by Config.MaxBuffered: senders
// wait).

// DefaultMaxHeld is Config.MaxHeld's default.
const DefaultMaxHeld = 32 << 20

// callOverhead is what a call being served costs besides its bytes: the
// stack of the goroutine that runs it (8 KiB to start) and its records.
const callOverhead = 9 << 10

// callCost is what a call whose frame has n bytes counts against MaxHeld
// until it has run: its decoded arguments, estimated at twice the frame
// (Go values of small JSON items are bigger than their text), and
// callOverhead. The encoded reply is counted on top once it exists (see
// runTaskCork).
func callCost(n int) int { return 2*n + callOverhead }

// Held returns the bytes the session holds for its peer: the cost of the
// peer's calls being served (see Config.MaxHeld) and the bytes queued or
// being written.
func (c *Conn) Held() int { return int(c.held.Load()) + c.fw.Buffered() }

func (c *Conn) overBudget() bool { return int(c.held.Load()) >= c.cfg.MaxHeld }

// release returns the bytes a served call counted to the budget.
func (c *Conn) release(n int) {
	c.held.Add(-int64(n))
	if c.budgetWait.Load() {
		select {
		case c.budgetWake <- struct{}{}:
		default:
		}
	}
}

// waitBudget waits, on the reader, until the session is under its budget
// again: only release lowers it, and it wakes the reader once budgetWait
// is set (a release between setting it and the first look is seen by the
// look; a later one is buffered in budgetWake). It fails with
// E_CONN_CLOSED when the session stays at its budget for
// WriteStallTimeout, or with the session's end.
func (c *Conn) waitBudget() error {
	c.budgetWait.Store(true)
	defer c.budgetWait.Store(false)
	giveUp := time.NewTimer(c.cfg.WriteStallTimeout)
	defer giveUp.Stop()
	for c.overBudget() {
		select {
		case <-c.budgetWake:
		case <-giveUp.C:
			return errcode.New(errcode.ConnClosed, "the peer kept the session over its memory budget")
		case <-c.ctx.Done():
			return context.Cause(c.ctx)
		}
	}
	return nil
}
