package protocol

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// maxIov is how many buffers one writev takes (the kernel's IOV_MAX).
const maxIov = 1024

// writeNow writes as much of bufs as the socket takes without waiting, and
// returns what is left (empty when everything was written). It is the
// writer's fast path: no deadline, no timer, no context registration,
// only the write(2) or writev(2) that a blocking write would make first.
// Without a raw connection it writes nothing. Only the writing sender
// calls it (it uses the writer's now* fields).
func (w *FrameWriter) writeNow(bufs net.Buffers) (net.Buffers, error) {
	if w.raw == nil {
		return bufs, nil
	}
	w.nowBufs, w.nowErr = bufs, nil
	err := w.raw.Write(w.nowFn)
	bufs, werr := w.nowBufs, w.nowErr
	w.nowBufs, w.nowErr = nil, nil
	if werr == nil {
		werr = err
	}
	return bufs, werr
}

// writeFd is writeNow's callback: it writes w.nowBufs to fd until the
// socket is full, and always reports itself done, so that nothing waits.
func (w *FrameWriter) writeFd(fd uintptr) bool {
	for {
		w.nowBufs = dropEmpty(w.nowBufs)
		bufs := w.nowBufs
		if len(bufs) == 0 {
			return true
		}
		var n int
		var e error
		if len(bufs) == 1 {
			n, e = unix.Write(int(fd), bufs[0])
		} else {
			n, e = unix.Writev(int(fd), bufs[:min(len(bufs), maxIov)])
		}
		if n > 0 {
			w.nowBufs = consume(bufs, n)
		}
		switch {
		case e == unix.EINTR:
		case e == unix.EAGAIN:
			return true // the socket is full: the caller waits
		case e != nil:
			w.nowErr = os.NewSyscallError("writev", e)
			return true
		case n == 0:
			return true
		}
	}
}
