package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"sync"

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

// Payload returns the payload of a SET, APPLY, RES or ERR packet (its last
// field), and nil for other packets.
func Payload(p Packet) Raw {
	switch x := p.(type) {
	case *SetPacket:
		return x.Value
	case *ApplyPacket:
		return x.Args
	case *ResPacket:
		return x.Result
	case *ErrPacket:
		return x.Error
	}
	return nil
}

// AppendFrameHead is AppendPacketFrame for a packet whose payload (the SET
// value, APPLY args, RES result or ERR error, always its last field) is
// large: it appends the frame header and the packet text up to the
// payload, and returns the payload, which the caller writes next, followed
// by a closing ']'. This lets a writer send big payloads without copying
// them (writev).
func AppendFrameHead(dst []byte, p Packet, max int) ([]byte, Raw, error) {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	var payload Raw
	var head Packet
	switch x := p.(type) {
	case *SetPacket:
		y := *x
		payload, y.Value = x.Value, nil
		head = &y
	case *ApplyPacket:
		y := *x
		payload, y.Args = x.Args, nil
		head = &y
	case *ResPacket:
		y := *x
		payload, y.Result = x.Result, nil
		head = &y
	case *ErrPacket:
		y := *x
		payload, y.Error = x.Error, nil
		head = &y
	default:
		return dst, nil, errcode.New(errcode.ProtocolError, "AppendFrameHead: "+p.Type().String()+" has no trailing payload")
	}
	if payload == nil {
		payload = Raw("null")
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err := AppendPacket(dst, head)
	if err != nil {
		return dst[:start], nil, err
	}
	dst = dst[:len(dst)-len("null]")] // the nil payload and the closing bracket
	n := len(dst) - start - FrameHeaderSize + len(payload) + 1
	if n > max {
		return dst[:start], nil, frameLengthError(uint32(min(n, 1<<32-1)), max)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, payload, nil
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

var chunkPool = sync.Pool{New: func() any { b := make([]byte, frameChunk); return &b }}

func getChunk() []byte { return (*chunkPool.Get().(*[]byte))[:0] }

func putChunk(b []byte) {
	b = b[:cap(b)]
	chunkPool.Put(&b)
}

// FrameReader reads length-prefixed frames from a byte stream. It accepts
// any chunking of the stream (one byte at a time or many frames per read)
// in time linear in the bytes received, and allocates a declared length only
// as its bytes arrive, so a peer that announces 16 MiB and sends nothing
// costs 64 KiB. Its read buffer follows the traffic: 4 KiB for a
// connection that sends a frame at a time, up to 32 KiB for one whose
// reads fill it, and back when they stop. It is not safe for concurrent
// use.
type FrameReader struct {
	r     io.Reader
	max   int
	buf   []byte // read buffer
	head  int    // start of unconsumed data in buf
	tail  int    // end of data in buf
	grow  bool   // a read filled buf, or a frame did not fit in it
	small int    // reads in a row that used at most a quarter of buf
}

// Sizes of FrameReader's read buffer, and the reads in a row that use at
// most a quarter of it after which it shrinks.
const (
	minReadBuf  = 4 << 10
	maxReadBuf  = 32 << 10
	shrinkAfter = 16
)

// NewFrameReader returns a reader of frames from r with the given maximum
// body size (DefaultMaxFrameSize when max <= 0).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	return &FrameReader{r: r, max: max, buf: make([]byte, minReadBuf)}
}

// NewFrameReaderAfter returns a reader of frames from r that starts with
// the bytes br (which read from r, for a pre-auth line) has buffered: the
// frames that followed the line in the same read. br may be nil.
func NewFrameReaderAfter(r io.Reader, br *bufio.Reader, max int) *FrameReader {
	f := NewFrameReader(r, max)
	if br != nil && br.Buffered() > 0 {
		b, _ := br.Peek(br.Buffered())
		f.Prepend(b)
	}
	return f
}

// resize grows or shrinks the empty read buffer as the last reads asked.
func (f *FrameReader) resize() {
	switch {
	case f.grow && len(f.buf) < maxReadBuf:
		f.buf = make([]byte, 2*len(f.buf))
	case f.small >= shrinkAfter && len(f.buf) > minReadBuf:
		f.buf = make([]byte, len(f.buf)/2)
	default:
		return
	}
	f.head, f.tail, f.grow, f.small = 0, 0, false, 0
}

// sized records how much of buf a read of n bytes used.
func (f *FrameReader) sized(n, space int) {
	switch {
	case n == space:
		f.grow, f.small = true, 0
	case n <= len(f.buf)/4:
		f.small++
	default:
		f.small = 0
	}
}

// SetMax changes the maximum body size for the frames read from now on
// (DefaultMaxFrameSize when max <= 0): a daemon reads the handshake with a
// small one.
func (f *FrameReader) SetMax(max int) {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	f.max = max
}

// Buffered returns the bytes read from the stream but not yet consumed.
func (f *FrameReader) Buffered() []byte { return f.buf[f.head:f.tail] }

// FrameReady reports whether a whole frame is already buffered, so that the
// next ReadFrame returns without reading from the stream.
func (f *FrameReader) FrameReady() bool {
	b := f.buf[f.head:f.tail]
	if len(b) < FrameHeaderSize {
		return false
	}
	n := binary.BigEndian.Uint32(b)
	return uint64(len(b)-FrameHeaderSize) >= uint64(n)
}

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
	if f.head == f.tail {
		f.head, f.tail = 0, 0
		f.resize() // nothing to move: the moment to change its size
	}
	if f.tail == len(f.buf) {
		n := copy(f.buf, f.buf[f.head:f.tail])
		f.head, f.tail = 0, n
	}
	for i := 0; i < 100; i++ {
		space := len(f.buf) - f.tail
		n, err := f.r.Read(f.buf[f.tail:])
		f.tail += n
		if n > 0 {
			f.sized(n, space)
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
	if size+FrameHeaderSize > len(f.buf) && size < maxReadBuf {
		f.grow = true // it would have arrived in one read
	}
	if avail := f.tail - f.head; avail >= size {
		body := make([]byte, size)
		copy(body, f.buf[f.head:])
		f.head += size
		return body, nil
	}
	// A large frame: collect it in pooled chunks until a quarter of it has
	// arrived, then allocate it whole, copy the chunks in (returning them
	// to the pool) and read the rest straight into it. Memory held is at
	// most four times what has arrived plus one chunk, and most of a big
	// frame is never copied.
	chunks := make([][]byte, 0, 4)
	defer func() {
		for _, c := range chunks {
			putChunk(c)
		}
	}()
	got := 0
	cur := getChunk()
	var body []byte
	eof := func(err error) ([]byte, error) {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	for got < size {
		if body == nil && got >= size/4 {
			body = make([]byte, 0, size)
			for _, c := range chunks {
				body = append(body, c...)
				putChunk(c)
			}
			body = append(body, cur...)
			putChunk(cur)
			clear(chunks) // the pool has them now
			chunks, cur = chunks[:0], nil
		}
		if body != nil {
			if f.head < f.tail {
				n := min(f.tail-f.head, size-got)
				body = append(body, f.buf[f.head:f.head+n]...)
				f.head += n
				got += n
				continue
			}
			if size-got < len(f.buf) {
				// The end of the frame: read through buf so that the
				// next frames arrive in the same read.
				if err := f.fill(); err != nil {
					return eof(err)
				}
				continue
			}
			m, err := f.r.Read(body[len(body):size])
			body = body[:len(body)+m]
			got += m
			if err != nil && got < size {
				return eof(err)
			}
			continue
		}
		if len(cur) == cap(cur) {
			chunks = append(chunks, cur)
			cur = getChunk()
		}
		if f.head < f.tail {
			n := copy(cur[len(cur):cap(cur)], f.buf[f.head:min(f.tail, f.head+size-got)])
			cur = cur[:len(cur)+n]
			f.head += n
			got += n
			continue
		}
		m, err := f.r.Read(cur[len(cur):min(cap(cur), len(cur)+size-got)])
		cur = cur[:len(cur)+m]
		got += m
		if err != nil && got < size {
			chunks = append(chunks, cur)
			return eof(err)
		}
	}
	if body == nil { // the whole frame fit in the chunks
		chunks = append(chunks, cur)
		body = make([]byte, 0, size)
		for _, c := range chunks {
			body = append(body, c...)
		}
	}
	return body, nil
}
