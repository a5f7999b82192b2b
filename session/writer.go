package session

import (
	"context"

	"github.com/nexus-interop/nexus-go/protocol"
)

// Writing: the session's frames go through one protocol.FrameWriter,
// which coalesces concurrent senders, bounds its queue in bytes
// (Config.MaxBuffered) and honours each sender's context (see its doc).
// The session never touches the bytes; it only picks the write mode.

// send writes p for a sender that has no context of its own
// (notifications, error replies): it waits for queue space until the
// session ends.
func (c *Conn) send(p protocol.Packet) error { return c.enqueue(context.Background(), p, nil, false) }

// enqueue writes p, with ctx bounding the wait for queue space and the
// write. release (if not nil) is p's pooled payload buffer. With cork set
// (a reply of a call the reader ran itself while more frames are waiting)
// it only queues: the reader flushes once it has run out of frames, so
// one write carries the replies of a whole batch. Without cork, when other
// calls are under way, the writer lets their senders queue first, which
// under load turns many small writes into one; a lone call skips that
// trip through the scheduler.
func (c *Conn) enqueue(ctx context.Context, p protocol.Packet, release *encBuf, cork bool) error {
	var mode protocol.WriteMode
	switch {
	case cork:
		mode = protocol.Cork
	case c.waiting.Load()+c.inflight.Load() > 1:
		mode = protocol.Yield
	}
	var r protocol.Releaser
	if release != nil {
		r = release
	}
	return c.fw.WritePooled(ctx, p, r, mode)
}

// flush writes the replies cork held back.
func (c *Conn) flush() { c.fw.Flush() }
