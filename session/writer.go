package session

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// The writer.
//
// Senders queue frames; the first sender to find the writer idle writes
// everything queued meanwhile in one writev, the others only queue. Big
// payloads are not copied: they are queued as their own buffers (the
// caller must not modify them). A sender waits while more than
// MaxBuffered bytes are queued, until its context ends.
//
// A caller whose context ends while it is writing for everyone (the peer
// does not read, so the write blocks) gets its context's error at once:
// the write is interrupted through the write deadline, and the rest of
// the queue, which may end in the middle of a frame, is handed to a
// drain goroutine that finishes it. The drain gives up, ending the
// session, when the peer takes no byte for WriteStallTimeout, so a peer
// that stops reading pins neither a caller nor the queued bytes for long.

// bigPayload is the payload size from which a frame's payload is written
// straight from its own buffer (writev) instead of being copied.
const bigPayload = 64 << 10

// corkLimit bounds the bytes of replies held back by cork.
const corkLimit = 256 << 10

// writeDeadliner is a connection whose writes can be interrupted.
type writeDeadliner interface {
	SetWriteDeadline(t time.Time) error
}

// send queues p and writes it (see enqueue) for a sender that has no
// context of its own (notifications, error replies): it waits for buffer
// space until the session ends.
func (c *Conn) send(p protocol.Packet) error { return c.enqueue(context.Background(), p, nil, false) }

// enqueue queues p and, unless another sender is writing, writes the
// queue. release is called once p's payload buffer is no longer needed (at
// once for a small payload, which is copied; after the write for a big
// one). ctx bounds the wait for buffer space and the write
// this sender does for everyone. With cork set (a reply of a call the
// reader ran itself while more frames are waiting) it only queues, up to
// corkLimit: the reader flushes once it has run out of frames, so one
// write carries the replies of a whole batch.
func (c *Conn) enqueue(ctx context.Context, p protocol.Packet, release *encBuf, cork bool) error {
	c.wmu.Lock()
	for c.wfailed == nil && c.writing && c.queued > c.cfg.MaxBuffered {
		if err := c.waitSpace(ctx); err != nil {
			c.wmu.Unlock()
			release.release()
			return err
		}
	}
	if c.wfailed != nil {
		c.wmu.Unlock()
		release.release()
		return c.closedErr()
	}
	n := len(c.small)
	var err error
	if len(protocol.Payload(p)) >= bigPayload {
		var payload protocol.Raw
		c.small, payload, err = protocol.AppendFrameHead(c.small, p, c.maxFr)
		if err == nil {
			c.queued += len(c.small) - n + len(payload) + 1
			c.wq = append(c.wq, c.small, payload)
			c.small = append(make([]byte, 0, 4096), ']')
			if release != nil {
				c.wrel = append(c.wrel, release)
				release = nil
			}
		}
	} else {
		c.small, err = protocol.AppendPacketFrame(c.small, p, c.maxFr)
		if err == nil {
			c.queued += len(c.small) - n
		}
	}
	release.release() // copied (or failed): the buffer is free again
	if err != nil {
		c.small = c.small[:n]
		c.wmu.Unlock()
		return err
	}
	if c.writing {
		c.wmu.Unlock()
		return nil
	}
	if cork && c.queued < corkLimit {
		c.corked.Store(true)
		c.wmu.Unlock()
		return nil
	}
	c.writing = true
	if !cork && c.waiting.Load()+c.inflight.Load() > 1 {
		// Other calls are under way, so other senders may be about to
		// queue frames: let them run first, which under load turns many
		// small writes into one. A lone call skips this trip through the
		// scheduler.
		c.wmu.Unlock()
		runtime.Gosched()
		c.wmu.Lock()
	}
	return c.writeQueued(ctx)
}

// waitSpace waits, with c.wmu held (it is released meanwhile), until the
// writer has written what was queued, ctx ends or the session ends.
func (c *Conn) waitSpace(ctx context.Context) error {
	if c.space == nil {
		c.space = make(chan struct{})
	}
	ch := c.space
	c.spaceWaiters++
	c.wmu.Unlock()
	var err error
	select {
	case <-ch:
	case <-c.ctx.Done():
	case <-ctx.Done():
		err = ctxError(ctx)
	}
	c.wmu.Lock()
	c.spaceWaiters--
	return err
}

// wakeSpaceWaiters wakes the senders waiting in waitSpace; c.wmu is held.
func (c *Conn) wakeSpaceWaiters() {
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
}

// flush writes the replies cork held back, unless a writer is busy (it
// writes them with its own frames).
func (c *Conn) flush() {
	if !c.corked.Load() {
		return
	}
	c.wmu.Lock()
	c.corked.Store(false)
	if c.writing || !c.hasQueued() {
		c.wmu.Unlock()
		return
	}
	c.writing = true
	_ = c.writeQueued(context.Background())
}

// errInterrupted reports a write cut short because the writing sender's
// context ended.
var errInterrupted = errors.New("write interrupted")

// writeQueued writes the queue until it stays empty; c.wmu is held and
// c.writing set on entry, and both are released on return (or handed to
// the drain goroutine). ctx is the writing sender's.
func (c *Conn) writeQueued(ctx context.Context) error {
	for c.hasQueued() {
		bufs, last, rel := c.takeQueue()
		c.wmu.Unlock()
		rest, werr := c.writeOut(ctx, bufs)
		if werr == errInterrupted {
			// The rest may end inside a frame: it must still be written,
			// and this sender may not wait for it.
			c.handlers.Add(1)
			go c.drain(rest, bufs, last, rel)
			return ctxError(ctx)
		}
		if err := c.written(bufs, last, rel, werr); err != nil {
			return err
		}
	}
	c.writing = false
	c.wmu.Unlock()
	return nil
}

// hasQueued reports whether frames wait to be written on a working
// session; c.wmu is held.
func (c *Conn) hasQueued() bool {
	return (len(c.wq) > 0 || len(c.small) > 0) && c.wfailed == nil
}

// takeQueue takes the queue for one write (the buffers, the small-frame
// buffer to recycle after it, the pooled payloads to release after it)
// and starts a new one; c.wmu is held.
func (c *Conn) takeQueue() (bufs [][]byte, last []byte, rel []*encBuf) {
	bufs, last, rel = append(c.wq, c.small), c.small, c.wrel
	c.wq, c.small, c.queued, c.wrel = c.wqSpare[:0], c.spare[:0], 0, nil
	return bufs, last, rel
}

// written recycles the buffers of a finished write and wakes the senders
// waiting for space; it takes c.wmu. On a write error it ends the session
// and returns its error, with c.wmu released.
func (c *Conn) written(bufs [][]byte, last []byte, rel []*encBuf, werr error) error {
	for _, r := range rel {
		r.release()
	}
	c.wmu.Lock()
	clear(bufs) // drop references to big payloads
	c.wqSpare = bufs[:0]
	if cap(last) <= 1<<20 {
		c.spare = last[:0]
	} else {
		c.spare = nil // do not keep a huge buffer after one big write
	}
	c.wakeSpaceWaiters()
	if werr != nil {
		c.writing = false
		c.wmu.Unlock()
		cause := werr
		if errcode.CodeOf(werr) != errcode.ConnClosed {
			cause = errcode.Wrap(errcode.ConnClosed, "write failed", werr)
		}
		c.shutdown(cause)
		return c.closedErr()
	}
	return nil
}

// writeOut writes bufs. When ctx can end and the connection has write
// deadlines, the end of ctx interrupts the write: writeOut then returns
// what is left unwritten and errInterrupted.
func (c *Conn) writeOut(ctx context.Context, bufs [][]byte) (net.Buffers, error) {
	if ctx.Done() == nil || c.dl == nil {
		_, err := c.writeBufs(bufs)
		return nil, err
	}
	// The deadline is set from the context's AfterFunc and cleared after
	// the write under one lock, so a late AfterFunc cannot leave it set.
	var g struct {
		mu          sync.Mutex
		done, fired bool
	}
	exited := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(exited)
		g.mu.Lock()
		if !g.done {
			g.fired = true
			c.dl.SetWriteDeadline(time.Unix(1, 0))
		}
		g.mu.Unlock()
	})
	rest, err := c.writeBufs(bufs)
	if !stop() {
		// The AfterFunc has started: join it, and clear its deadline.
		g.mu.Lock()
		g.done = true
		fired := g.fired
		g.mu.Unlock()
		<-exited
		if fired {
			c.dl.SetWriteDeadline(time.Time{})
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return rest, errInterrupted
			}
		}
	}
	return nil, err
}

// writeBufs writes bufs and returns what is left unwritten.
func (c *Conn) writeBufs(bufs [][]byte) (net.Buffers, error) {
	if len(bufs) == 1 {
		n, err := c.rw.Write(bufs[0]) // write(2) is cheaper than writev(2) for one buffer
		if err != nil {
			return net.Buffers{bufs[0][n:]}, err
		}
		return nil, nil
	}
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(c.rw) // consumes what it writes
	return nb, err
}

// drain finishes a write that its sender gave up on, then goes on writing
// the queue as the writer. It ends the session when the peer takes no
// byte for WriteStallTimeout.
func (c *Conn) drain(rest net.Buffers, bufs [][]byte, last []byte, rel []*encBuf) {
	defer c.handlers.Done()
	err := c.writeStalling(rest)
	if c.written(bufs, last, rel, err) != nil {
		return
	}
	for c.hasQueued() {
		bufs, last, rel := c.takeQueue()
		c.wmu.Unlock()
		err := c.writeStalling(bufs)
		if c.written(bufs, last, rel, err) != nil {
			return
		}
	}
	c.writing = false
	c.wmu.Unlock()
}

// writeStalling writes bufs with a write deadline that moves on while the
// peer takes bytes, and fails once it takes none for WriteStallTimeout.
func (c *Conn) writeStalling(bufs net.Buffers) error {
	defer c.dl.SetWriteDeadline(time.Time{})
	for len(bufs) > 0 {
		c.dl.SetWriteDeadline(time.Now().Add(c.cfg.WriteStallTimeout))
		before := buffered(bufs)
		rest, err := c.writeBufs(bufs)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if buffered(rest) == before {
			return errcode.Wrap(errcode.ConnClosed, "the peer stopped reading", err)
		}
		bufs = rest
	}
	return nil
}

func buffered(b net.Buffers) int {
	n := 0
	for _, x := range b {
		n += len(x)
	}
	return n
}
