package protocol

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
)

// FrameWriter writes packets as frames to one stream for any number of
// concurrent senders, coalescing them: the first sender to find the writer
// idle writes everything queued meanwhile in one writev, the others only
// queue. Big payloads are not copied: they are queued as their own buffers
// (the caller must not modify them until they are released).
//
// The queue is bounded in bytes: a sender waits while more than MaxQueued
// bytes are queued or being written, until its context ends. A sender whose context ends
// while it writes for everyone (the peer does not read, so the write
// blocks) gets its context's error at once: the write is interrupted
// through the stream's write deadline, and the rest of the queue, which
// may end in the middle of a frame, is finished by a drain goroutine. The
// drain fails the writer when the peer takes no byte for StallTimeout, so
// a peer that stops reading pins neither a sender nor the queued bytes for
// long. Wait joins the drain.
type FrameWriter struct {
	w   io.Writer
	dl  writeDeadliner  // w, when it has write deadlines
	raw syscall.RawConn // w's socket, for writes that must not wait

	// writeNow's state, used by the writing sender only
	nowFn   func(fd uintptr) bool // writeFd, bound once
	nowBufs net.Buffers
	nowErr  error
	cfg     FrameWriterConfig

	mu      sync.Mutex
	space   chan struct{} // closed when the queue has been written, if someone waits
	small   []byte        // small frames being queued
	wq      [][]byte      // buffers queued before small (frame heads and big payloads)
	wqSpare [][]byte
	spare   []byte
	queued  int          // bytes queued
	inWrite int          // bytes of the write under way
	held    atomic.Int64 // queued + inWrite, for Buffered
	rel     []Releaser   // payloads of wq to release once written
	writing bool         // a sender (or the drain) is writing
	failed  error        // set once: every later Write returns it
	corked  atomic.Bool
	drains  sync.WaitGroup
}

// FrameWriterConfig configures a FrameWriter. The zero value is usable.
type FrameWriterConfig struct {
	// MaxFrameSize bounds each frame (0 means DefaultMaxFrameSize).
	MaxFrameSize int
	// MaxQueued bounds the bytes queued or being written before senders
	// wait (0 means DefaultMaxQueued).
	MaxQueued int
	// StallTimeout is how long a write without a context of its own, or
	// the drain, waits for the peer to take a byte (0 means
	// DefaultStallTimeout).
	StallTimeout time.Duration
	// OnFail, if set, is called once, outside the writer's lock, when a
	// write fails; the writer has failed with the same error by then.
	OnFail func(err error)
}

// Releaser is a pooled payload buffer: Release is called once the writer
// no longer needs the payload.
type Releaser interface{ Release() }

// WriteMode changes how Write treats one packet.
type WriteMode uint8

const (
	// Cork queues the packet without writing it, unless more than
	// CorkLimit bytes are queued; Flush writes it. A reader that answers a
	// batch of calls corks the replies and flushes once, so one write
	// carries them all.
	Cork WriteMode = 1 << iota
	// Yield lets other goroutines run before writing, so that senders
	// about to queue (other calls under way) join this write.
	Yield
)

// Defaults of FrameWriterConfig.
const (
	DefaultMaxQueued    = 32 << 20
	DefaultStallTimeout = 10 * time.Second
)

// bigPayload is the payload size from which a frame's payload is written
// straight from its own buffer (writev) instead of being copied.
const bigPayload = 64 << 10

// smallChunk is the size of the buffers that a long queue of small frames
// is kept in: a buffer at least half full that the next frame would make
// grow is queued as it is, and a new one started. frameSlack is what a
// frame adds to its payload, as far as it matters here.
const (
	smallChunk = 256 << 10
	frameSlack = 256
)

// CorkLimit bounds the bytes held back by Cork.
const CorkLimit = 256 << 10

// writeDeadliner is a stream whose writes can be interrupted.
type writeDeadliner interface {
	SetWriteDeadline(t time.Time) error
}

// errInterrupted reports a write cut short because the writing sender's
// context ended.
var errInterrupted = errors.New("write interrupted")

// NewFrameWriter returns a writer of frames to w. When w has write
// deadlines (a net.Conn), writes honour their context.
func NewFrameWriter(w io.Writer, cfg FrameWriterConfig) *FrameWriter {
	if cfg.MaxFrameSize <= 0 {
		cfg.MaxFrameSize = DefaultMaxFrameSize
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	fw := &FrameWriter{w: w, cfg: cfg}
	fw.dl, _ = w.(writeDeadliner)
	if sc, ok := w.(syscall.Conn); ok && fw.dl != nil {
		fw.raw, _ = sc.SyscallConn()
	}
	fw.nowFn = fw.writeFd
	return fw
}

// Write queues p and, unless another sender is writing, writes the queue.
// ctx bounds the wait for queue space and the write this sender does for
// everyone; its end returns ctx's error (an E_TIMEOUT for a deadline).
// After the writer failed, Write returns the failure.
func (w *FrameWriter) Write(ctx context.Context, p Packet) error {
	return w.WritePooled(ctx, p, nil, 0)
}

// WritePooled is Write for a packet whose payload is a pooled buffer:
// release (if not nil) is released once the payload is no longer needed
// (at once for a small payload, which is copied; after the write for a
// big one, or when Write fails).
func (w *FrameWriter) WritePooled(ctx context.Context, p Packet, release Releaser, mode WriteMode) error {
	w.mu.Lock()
	for w.failed == nil && w.writing && w.queued+w.inWrite > w.cfg.MaxQueued {
		if err := w.waitSpace(ctx); err != nil {
			w.mu.Unlock()
			releaseOne(release)
			return err
		}
	}
	if w.failed != nil {
		err := w.failed
		w.mu.Unlock()
		releaseOne(release)
		return err
	}
	if len(w.small) >= smallChunk/2 && len(w.small)+len(Payload(p))+frameSlack > cap(w.small) {
		// A long queue of small frames is kept in chunks: one buffer
		// grown by append would reach twice the queue and copy it.
		w.wq = append(w.wq, w.small)
		w.small = make([]byte, 0, smallChunk)
	}
	n := len(w.small)
	var err error
	if len(Payload(p)) >= bigPayload {
		var payload Raw
		w.small, payload, err = AppendFrameHead(w.small, p, w.cfg.MaxFrameSize)
		if err == nil {
			w.queued += len(w.small) - n + len(payload) + 1
			w.held.Store(int64(w.queued + w.inWrite))
			w.wq = append(w.wq, w.small, payload)
			w.small = append(make([]byte, 0, 4096), ']')
			if release != nil {
				w.rel = append(w.rel, release)
				release = nil
			}
		}
	} else {
		w.small, err = AppendPacketFrame(w.small, p, w.cfg.MaxFrameSize)
		if err == nil {
			w.queued += len(w.small) - n
			w.held.Store(int64(w.queued + w.inWrite))
		}
	}
	releaseOne(release) // copied (or failed): the buffer is free again
	if err != nil {
		w.small = w.small[:n]
		w.mu.Unlock()
		return err
	}
	if w.writing {
		w.mu.Unlock()
		return nil
	}
	if mode&Cork != 0 && w.queued < CorkLimit {
		w.corked.Store(true)
		w.mu.Unlock()
		return nil
	}
	w.writing = true
	if mode&Yield != 0 {
		w.mu.Unlock()
		runtime.Gosched()
		w.mu.Lock()
	}
	return w.writeQueued(ctx)
}

func releaseOne(r Releaser) {
	if r != nil {
		r.Release()
	}
}

// Flush writes what Cork held back, unless a sender is writing (it writes
// it with its own frames).
func (w *FrameWriter) Flush() {
	if !w.corked.Load() {
		return
	}
	w.mu.Lock()
	w.corked.Store(false)
	if w.writing || !w.hasQueued() {
		w.mu.Unlock()
		return
	}
	w.writing = true
	_ = w.writeQueued(context.Background())
}

// Fail makes every later Write return err (the first error given to Fail,
// or of a failed write, stays) and wakes the senders waiting for space.
// It does not close the stream.
func (w *FrameWriter) Fail(err error) {
	w.mu.Lock()
	w.failLocked(err)
	w.mu.Unlock()
}

func (w *FrameWriter) failLocked(err error) {
	if w.failed == nil {
		w.failed = err
	}
	w.wakeSpaceWaiters()
}

// Buffered returns the bytes the writer holds: queued, or being written.
func (w *FrameWriter) Buffered() int { return int(w.held.Load()) }

// Wait waits for the drain goroutine, if one runs. Close the stream (or
// let the peer read) first: the drain returns when its write does.
func (w *FrameWriter) Wait() { w.drains.Wait() }

// waitSpace waits, with w.mu held (it is released meanwhile), until the
// queue has been written, ctx ends or the writer fails.
func (w *FrameWriter) waitSpace(ctx context.Context) error {
	if w.space == nil {
		w.space = make(chan struct{})
	}
	ch := w.space
	w.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = errcode.FromContext(ctx)
	}
	w.mu.Lock()
	return err
}

// wakeSpaceWaiters wakes the senders waiting in waitSpace; w.mu is held.
func (w *FrameWriter) wakeSpaceWaiters() {
	if w.space != nil {
		close(w.space)
		w.space = nil
	}
}

// writeQueued writes the queue until it stays empty; w.mu is held and
// w.writing set on entry, and both are released on return (or handed to
// the drain goroutine). ctx is the writing sender's.
func (w *FrameWriter) writeQueued(ctx context.Context) error {
	for w.hasQueued() {
		bufs, last, rel := w.takeQueue()
		w.mu.Unlock()
		rest, werr := w.writeOut(ctx, bufs)
		if werr == errInterrupted {
			// The rest may end inside a frame: it must still be written,
			// and this sender may not wait for it.
			w.mu.Lock()
			if w.failed == nil { // a failed writer has nothing to finish
				w.drains.Add(1)
				go w.drain(rest, bufs, last, rel)
				w.mu.Unlock()
				return errcode.FromContext(ctx)
			}
			werr = w.failed
			w.mu.Unlock()
		}
		if err := w.written(bufs, last, rel, werr); err != nil {
			return err
		}
	}
	w.writing = false
	w.mu.Unlock()
	return nil
}

// hasQueued reports whether frames wait to be written on a working
// writer; w.mu is held.
func (w *FrameWriter) hasQueued() bool {
	return (len(w.wq) > 0 || len(w.small) > 0) && w.failed == nil
}

// takeQueue takes the queue for one write (the buffers, the small-frame
// buffer to recycle after it, the payloads to release after it) and starts
// a new one; w.mu is held.
func (w *FrameWriter) takeQueue() (bufs [][]byte, last []byte, rel []Releaser) {
	bufs, last, rel = append(w.wq, w.small), w.small, w.rel
	w.inWrite = w.queued
	w.wq, w.small, w.queued, w.rel = w.wqSpare[:0], w.spare[:0], 0, nil
	return bufs, last, rel
}

// written recycles the buffers of a finished write and wakes the senders
// waiting for space; it takes w.mu. On a write error it fails the writer
// and returns the failure, with w.mu released.
func (w *FrameWriter) written(bufs [][]byte, last []byte, rel []Releaser, werr error) error {
	for _, r := range rel {
		r.Release()
	}
	w.mu.Lock()
	w.inWrite = 0
	w.held.Store(int64(w.queued))
	clear(bufs) // drop references to big payloads
	w.wqSpare = bufs[:0]
	if cap(last) <= 1<<20 {
		w.spare = last[:0]
	} else {
		w.spare = nil // do not keep a huge buffer after one big write
	}
	w.wakeSpaceWaiters()
	if werr == nil {
		return nil
	}
	w.writing = false
	if errcode.CodeOf(werr) != errcode.ConnClosed {
		werr = errcode.Wrap(errcode.ConnClosed, "write failed", werr)
	}
	first := w.failed == nil
	w.failLocked(werr)
	err := w.failed
	w.mu.Unlock()
	if first && w.cfg.OnFail != nil {
		w.cfg.OnFail(err)
	}
	return err
}

// writeOut writes bufs. When ctx can end and the stream has write
// deadlines, the end of ctx interrupts the write: writeOut then returns
// what is left unwritten and errInterrupted.
func (w *FrameWriter) writeOut(ctx context.Context, bufs [][]byte) (net.Buffers, error) {
	if w.dl == nil {
		_, err := w.writeBufs(bufs)
		return nil, err
	}
	rest, err := w.writeNow(bufs)
	if err != nil || len(rest) == 0 {
		return nil, err
	}
	bufs = rest
	if ctx.Done() == nil {
		// A sender without a context of its own (a reply, a notification)
		// is not pinned by a peer that stops reading for longer than
		// StallTimeout: the writer fails then.
		return nil, w.writeStalling(bufs)
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
			w.dl.SetWriteDeadline(time.Unix(1, 0))
		}
		g.mu.Unlock()
	})
	rest, err = w.writeBufs(bufs)
	if !stop() {
		// The AfterFunc has started: join it, and clear its deadline.
		g.mu.Lock()
		g.done = true
		fired := g.fired
		g.mu.Unlock()
		<-exited
		if fired {
			w.dl.SetWriteDeadline(time.Time{})
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return rest, errInterrupted
			}
		}
	}
	return nil, err
}

// writeBufs writes bufs and returns what is left unwritten.
func (w *FrameWriter) writeBufs(bufs [][]byte) (net.Buffers, error) {
	if len(bufs) == 1 {
		n, err := w.w.Write(bufs[0]) // write(2) is cheaper than writev(2) for one buffer
		if err != nil {
			return net.Buffers{bufs[0][n:]}, err
		}
		return nil, nil
	}
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(w.w) // consumes what it writes
	return nb, err
}

// drain finishes a write that its sender gave up on, then goes on writing
// the queue as the writer. It fails the writer when the peer takes no
// byte for StallTimeout.
func (w *FrameWriter) drain(rest net.Buffers, bufs [][]byte, last []byte, rel []Releaser) {
	defer w.drains.Done()
	err := w.writeStalling(rest)
	if w.written(bufs, last, rel, err) != nil {
		return
	}
	for w.hasQueued() {
		bufs, last, rel := w.takeQueue()
		w.mu.Unlock()
		err := w.writeStalling(bufs)
		if w.written(bufs, last, rel, err) != nil {
			return
		}
	}
	w.writing = false
	w.mu.Unlock()
}

// writeStalling writes bufs with a write deadline that moves on while the
// peer takes bytes, and fails once it takes none for StallTimeout.
func (w *FrameWriter) writeStalling(bufs net.Buffers) error {
	defer w.dl.SetWriteDeadline(time.Time{})
	for len(bufs) > 0 {
		w.dl.SetWriteDeadline(time.Now().Add(w.cfg.StallTimeout))
		before := buffered(bufs)
		rest, err := w.writeBufs(bufs)
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

// consume drops the first n bytes of b.
func consume(b net.Buffers, n int) net.Buffers {
	for n > 0 && len(b) > 0 {
		if n < len(b[0]) {
			b[0] = b[0][n:]
			return b
		}
		n -= len(b[0])
		b = b[1:]
	}
	return b
}

// dropEmpty drops the empty buffers at the front of b.
func dropEmpty(b net.Buffers) net.Buffers {
	for len(b) > 0 && len(b[0]) == 0 {
		b = b[1:]
	}
	return b
}

func buffered(b net.Buffers) int {
	n := 0
	for _, x := range b {
		n += len(x)
	}
	return n
}
