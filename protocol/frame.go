package protocol

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"github.com/nexus-interop/nexus-go/errcode"
)

const (
	// FrameHeaderSize is the size of the big-endian length prefix.
	FrameHeaderSize = 4
	// DefaultMaxFrameSize is node-ipc's limit on a frame body: 16 MiB,
	// inclusive.
	DefaultMaxFrameSize = 16 << 20
	// frameChunk is how much of a declared length is allocated before its
	// bytes have arrived; the buffer then grows with the data.
	frameChunk = 64 << 10
)

func frameLengthError(n uint32, max int) error {
	if n == 0 {
		return errcode.New(errcode.IPCProtocolError, "Malformed frame length: 0")
	}
	return errcode.New(errcode.IPCProtocolError, "Malformed frame length: "+strconv.FormatUint(uint64(n), 10)+" exceeds the maximum of "+strconv.Itoa(max))
}

// AppendFrame appends a frame header and body to dst. A body that is empty
// or longer than max (DefaultMaxFrameSize when max <= 0) is an
// E_IPC_PROTOCOL_ERROR, as in JS.
func AppendFrame(dst, body []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	if len(body) == 0 || len(body) > max {
		return dst, frameLengthError(uint32(min(len(body), 1<<32-1)), max)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// AppendPacketFrame appends p as one frame, encoding the packet in place
// after a reserved header: no intermediate copy.
func AppendPacketFrame(dst []byte, p Packet, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err := AppendPacket(dst, p)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - FrameHeaderSize
	if n > max {
		return dst[:start], frameLengthError(uint32(min(n, 1<<32-1)), max)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// FrameReader reads length-prefixed frames from a byte stream. It accepts
// any chunking of the stream (one byte at a time or many frames per read)
// in time linear in the bytes received, and allocates a declared length only
// as its bytes arrive, so a peer that announces 16 MiB and sends nothing
// costs 64 KiB. It is not safe for concurrent use.
type FrameReader struct {
	r    io.Reader
	max  int
	buf  []byte // read buffer
	head int    // start of unconsumed data in buf
	tail int    // end of data in buf
}

// NewFrameReader returns a reader of frames from r with the given maximum
// body size (DefaultMaxFrameSize when max <= 0).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	return &FrameReader{r: r, max: max, buf: make([]byte, 32<<10)}
}

// Buffered returns the bytes read from the stream but not yet consumed.
func (f *FrameReader) Buffered() []byte { return f.buf[f.head:f.tail] }

// Prepend makes b the next bytes the reader returns, before anything still
// unread in the stream: bytes that a line reader read past the end of the
// pre-auth line.
func (f *FrameReader) Prepend(b []byte) {
	if len(b) == 0 {
		return
	}
	rest := f.buf[f.head:f.tail]
	nb := make([]byte, max(len(b)+len(rest), len(f.buf)))
	n := copy(nb, b)
	n += copy(nb[n:], rest)
	f.buf, f.head, f.tail = nb, 0, n
}

// fill reads more data into buf; it returns the error of the underlying
// reader, if any, after data.
func (f *FrameReader) fill() error {
	if f.head > 0 && f.head == f.tail {
		f.head, f.tail = 0, 0
	}
	if f.tail == len(f.buf) {
		n := copy(f.buf, f.buf[f.head:f.tail])
		f.head, f.tail = 0, n
	}
	for i := 0; i < 100; i++ {
		n, err := f.r.Read(f.buf[f.tail:])
		f.tail += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// ReadFrame returns the next frame body. The slice is newly allocated and
// owned by the caller. At a frame boundary the end of the stream is io.EOF;
// inside a frame it is io.ErrUnexpectedEOF. A zero length or a length over
// the maximum is an E_IPC_PROTOCOL_ERROR, reported as soon as the header
// has arrived.
func (f *FrameReader) ReadFrame() ([]byte, error) {
	for f.tail-f.head < FrameHeaderSize {
		if err := f.fill(); err != nil {
			if errors.Is(err, io.EOF) && f.tail > f.head {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	n := binary.BigEndian.Uint32(f.buf[f.head:])
	if n == 0 || uint64(n) > uint64(f.max) {
		return nil, frameLengthError(n, f.max)
	}
	f.head += FrameHeaderSize
	size := int(n)
	if avail := f.tail - f.head; avail >= size {
		body := make([]byte, size)
		copy(body, f.buf[f.head:])
		f.head += size
		return body, nil
	}
	body := make([]byte, 0, min(size, max(frameChunk, f.tail-f.head)))
	body = append(body, f.buf[f.head:f.tail]...)
	f.head, f.tail = 0, 0
	for len(body) < size {
		if len(body) == cap(body) {
			nb := make([]byte, len(body), min(size, 2*cap(body)))
			copy(nb, body)
			body = nb
		}
		var err error
		var m int
		if size-len(body) >= len(f.buf) {
			// Large remainder: read straight into the body.
			m, err = f.r.Read(body[len(body):cap(body)])
			body = body[:len(body)+m]
		} else {
			// Small remainder: read through buf so that the next frames
			// arrive in the same read.
			err = f.fill()
			take := min(size-len(body), f.tail-f.head)
			body = append(body, f.buf[f.head:f.head+take]...)
			f.head += take
		}
		if err != nil && len(body) < size {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return body, nil
}
