package remote

import "sync"

// Changes broadcasts that something a Source lists changed (a session
// opened or ended, a catalog or an identity changed): the channel Wait
// returns is closed by the next Notify. Take the channel before reading
// the state it guards, so that a change after the read closes a channel
// the waiter has. The zero value is ready to use; it is safe for
// concurrent use.
type Changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns the channel the next Notify closes.
func (c *Changes) Wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Notify wakes every holder of a channel from Wait.
func (c *Changes) Notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}
