package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexus-interop/nexus-go/protocol"
)

// The frames every case uses. The sentinel is the normal call sent behind
// a hostile frame: both daemons handle one connection's frames in order,
// so what arrives before its reply answers the hostile frame.
const (
	reqBody      = `[10,1,{"context":"node-ipc-client","appId":"hostile","pid":1},null,["provider-catalog-v1"]]`
	readyBody    = `[14,1,["provider-catalog-v1"],[]]`
	sentinelBody = `[3,"sentinel",null,["demo","add"],[2,3]]`
	addBody      = `[3,1,null,["demo","add"],[2,3]]`
)

const (
	// ioTimeout bounds every read and write that has no tighter deadline.
	ioTimeout = 20 * time.Second
	// servedTimeout bounds the normal client's dial, handshake and call.
	servedTimeout = 5 * time.Second
	// lateGrace is how long a probe keeps reading after the sentinel's
	// reply for a reply to the hostile frame that comes after it.
	lateGrace = 150 * time.Millisecond
	// rawKeep is how many frames of a connection are kept for the log,
	// and rawClip how many bytes of each.
	rawKeep, rawClip = 6, 400
)

// rawConn is a connection that speaks raw frames to a daemon.
type rawConn struct {
	nc *net.UnixConn
	fr *protocol.FrameReader

	mu   sync.Mutex
	seen []string // the first frames received, clipped, for the log
}

// dial connects to path; every read and write has ioTimeout until the
// caller sets another deadline.
func dial(path string) (*rawConn, error) {
	nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(ioTimeout))
	return &rawConn{nc: nc, fr: protocol.NewFrameReader(nc, 0)}, nil
}

func (c *rawConn) close() { c.nc.Close() }

// write writes b (with ioTimeout unless a deadline was set since).
func (c *rawConn) write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// frames writes the bodies as frames, in one write.
func (c *rawConn) frames(bodies ...string) error {
	var b []byte
	for _, s := range bodies {
		var err error
		if b, err = protocol.AppendFrame(b, []byte(s), 0); err != nil {
			return err
		}
	}
	return c.write(b)
}

// header writes a bare frame header declaring n bytes.
func (c *rawConn) header(n uint32) error {
	return c.write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// read returns the next frame and its packet (nil when the frame does not
// decode), keeping the frame for the log.
func (c *rawConn) read() ([]byte, protocol.Packet, error) {
	b, err := c.fr.ReadFrame()
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if len(c.seen) < rawKeep {
		c.seen = append(c.seen, clip(string(b), rawClip))
	}
	c.mu.Unlock()
	p, _ := protocol.DecodePacket(b, nil)
	return b, p, nil
}

// forget drops the frames kept so far (the ACK), so that the log shows
// the answers to the case.
func (c *rawConn) forget() {
	c.mu.Lock()
	c.seen = nil
	c.mu.Unlock()
}

// raw returns the frames kept for the log.
func (c *rawConn) raw() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// handshake sends REQ, waits for the ACK and sends READY.
func (c *rawConn) handshake() error {
	if err := c.frames(reqBody); err != nil {
		return fmt.Errorf("REQ: %w", err)
	}
	if err := c.expectAck(); err != nil {
		return err
	}
	if err := c.frames(readyBody); err != nil {
		return fmt.Errorf("READY: %w", err)
	}
	return nil
}

// expectAck reads the next frame, which must be the ACK of REQ id 1, and
// drops it from the frames kept for the log.
func (c *rawConn) expectAck() error {
	b, p, err := c.read()
	if err != nil {
		return fmt.Errorf("waiting for the ACK: %w", err)
	}
	if ack, ok := p.(*protocol.HandshakeAckPacket); !ok || ack.ID != protocol.NumID(1) {
		return fmt.Errorf("got %s, want the ACK", clip(string(b), rawClip))
	}
	c.forget()
	return nil
}

// served checks that a normal client is served: a fresh connection, a
// correct handshake and demo.add(2, 3) answered with 5, within timeout. It
// returns how long that took.
func served(path string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	c, err := dial(path)
	if err != nil {
		return 0, err
	}
	defer c.close()
	c.nc.SetDeadline(start.Add(timeout))
	if err := c.handshake(); err != nil {
		return 0, err
	}
	if err := c.frames(addBody); err != nil {
		return 0, err
	}
	b, p, err := c.read()
	if err != nil {
		return 0, fmt.Errorf("demo.add: %w", err)
	}
	if r, ok := p.(*protocol.ResPacket); !ok || r.ID != protocol.NumID(1) || string(r.Result) != "5" {
		return 0, fmt.Errorf("demo.add(2, 3): got %s", clip(string(b), rawClip))
	}
	return time.Since(start), nil
}

// closedErr reports whether err is the daemon closing the connection (a
// reset when it closed with our bytes unread).
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func timeoutErr(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// peerClosed reports whether the daemon has closed its end, without
// reading anything (poll for POLLRDHUP: the daemon's replies stay unread).
func (c *rawConn) peerClosed() bool {
	rc, err := c.nc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			closed = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return closed
}

// unread returns how many bytes written on c the daemon has not read yet
// (TIOCOUTQ: for a Unix stream socket, what sits in the peer's queue).
func (c *rawConn) unread() int {
	rc, err := c.nc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCOUTQ) })
	return n
}

// drained waits up to timeout until the daemon has read everything
// written on c, or has closed it; it reports which.
func (c *rawConn) drained(timeout time.Duration) (read, closed bool) {
	end := time.Now().Add(timeout)
	for {
		if c.peerClosed() {
			return false, true
		}
		if c.unread() == 0 {
			return true, false
		}
		if time.Now().After(end) {
			return false, false
		}
		time.Sleep(time.Millisecond)
	}
}

// outcome is what a connection got in answer to what a case sent.
type outcome struct {
	text  string        // "closed", "ERR 1 E_…", "RES 1 3", "no answer in 1000 ms", …
	after time.Duration // time from the hostile bytes to that outcome
	raw   []string      // the frames received, clipped
}

// probe writes the bodies as frames and the sentinel behind them in one
// write, and reads until the sentinel's reply (then lateGrace more when
// nothing else came), a close, or wait. The outcome lists the replies to
// the bodies, then "closed", "ignored (session goes on)" or "no answer in
// N ms (still open)".
func probe(c *rawConn, wait time.Duration, bodies ...string) outcome {
	var b []byte
	for _, s := range append(bodies, sentinelBody) {
		var err error
		if b, err = protocol.AppendFrame(b, []byte(s), 0); err != nil {
			return outcome{text: "tool error: " + err.Error()}
		}
	}
	start := time.Now()
	c.nc.SetWriteDeadline(start.Add(ioTimeout))
	c.write(b) // a write refused by a close is read as the close below
	return collect(c, start, wait)
}

// collect reads what the daemon sends after start, as probe describes.
func collect(c *rawConn, start time.Time, wait time.Duration) outcome {
	var o outcome
	var replies []string
	var first time.Duration
	sentinel := time.Duration(-1)
	c.nc.SetReadDeadline(start.Add(wait))
	finish := func(tail string) outcome {
		o.text = strings.Join(append(replies, tail), ", ")
		o.text = strings.TrimSuffix(o.text, ", ")
		o.raw = c.raw()
		return o
	}
	for {
		b, p, err := c.read()
		switch {
		case err == nil:
		case closedErr(err):
			o.after = time.Since(start)
			if first > 0 {
				o.after = first
			}
			return finish("closed")
		case timeoutErr(err) && sentinel >= 0:
			o.after = sentinel
			if first > 0 {
				o.after = first
				return finish("")
			}
			return finish("ignored (session goes on)")
		case timeoutErr(err):
			o.after = first // 0: the wait is in the text
			return finish("no answer in " + ms(wait) + " (still open)")
		default:
			o.after = time.Since(start)
			return finish("read error: " + err.Error())
		}
		if r, ok := p.(*protocol.ResPacket); ok && r.ID == protocol.StringID("sentinel") {
			sentinel = time.Since(start)
			if first > 0 {
				o.after = first
				return finish("")
			}
			c.nc.SetReadDeadline(time.Now().Add(lateGrace))
			continue
		}
		if first == 0 {
			first = time.Since(start)
		}
		replies = append(replies, describe(b, p))
		if sentinel >= 0 {
			o.after = first
			return finish("")
		}
	}
}

// waitClose reads until the daemon closes c or wait passes, and describes
// which happened and when (measured from start).
func waitClose(c *rawConn, start time.Time, wait time.Duration) outcome {
	c.nc.SetReadDeadline(start.Add(wait))
	buf := make([]byte, 64<<10)
	got := 0
	for {
		n, err := c.nc.Read(buf)
		got += n
		switch {
		case err == nil:
			continue
		case closedErr(err):
			text := "closed"
			if got > 0 {
				text = fmt.Sprintf("closed (%d bytes sent first)", got)
			}
			return outcome{text: text, after: time.Since(start)}
		case timeoutErr(err):
			text := "still open after " + ms(wait)
			if got > 0 {
				text += fmt.Sprintf(" (%d bytes received)", got)
			}
			return outcome{text: text} // the wait is in the text
		default:
			return outcome{text: "read error: " + err.Error(), after: time.Since(start)}
		}
	}
}

// describe names a packet the daemon sent: "RES id value", "ERR id CODE",
// or its type and id.
func describe(b []byte, p protocol.Packet) string {
	switch x := p.(type) {
	case nil:
		return describeRaw(b)
	case *protocol.ErrPacket:
		re, err := protocol.ParseRemoteError(x.Error)
		if err != nil {
			return "ERR " + x.ID.String() + " " + clip(string(x.Error), 40)
		}
		if re.Code == "E_UNKNOWN" && re.Message != "" {
			// A generic code: the error's name and message say what it is.
			return "ERR " + x.ID.String() + " " + re.Code + " (" + clip(re.Name+": "+re.Message, 60) + ")"
		}
		return "ERR " + x.ID.String() + " " + re.Code
	case *protocol.ResPacket:
		return "RES " + x.ID.String() + " " + clip(string(x.Result), 40)
	case *protocol.HandshakeRejectPacket:
		re, err := protocol.ParseRemoteError(x.Error)
		if err != nil {
			return "REJECT " + clip(string(x.Error), 40)
		}
		return "REJECT " + re.Code
	}
	return p.Type().String() + " " + p.MessageID().String()
}

// clip shortens s to n bytes, saying how long it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// ms formats d in milliseconds, one decimal below 10 ms, none above; from
// 10 s on, in seconds with one decimal.
func ms(d time.Duration) string {
	f := float64(d) / 1e6
	switch {
	case f < 10:
		return strconv.FormatFloat(f, 'f', 1, 64) + " ms"
	case f < 10_000:
		return strconv.FormatFloat(f, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(f/1000, 'f', 1, 64) + " s"
}

// describeRaw names a frame that protocol.DecodePacket refuses (a JS
// daemon echoes ids of any JSON type): its type's name and its raw id, as
// "RES id={"n":1} 3", or the clipped frame when it is not even that.
func describeRaw(b []byte) string {
	var f []json.RawMessage
	var typ int
	if json.Unmarshal(b, &f) != nil || len(f) < 2 || json.Unmarshal(f[0], &typ) != nil {
		return "not a packet: " + clip(string(b), 60)
	}
	name := "type " + strconv.Itoa(typ)
	if typ >= 0 && typ <= 255 {
		name = protocol.Type(typ).String()
	}
	if len(f) == 3 && (typ == int(protocol.TypeRes) || typ == int(protocol.TypeErr)) {
		return name + " id=" + string(f[1]) + " " + clip(string(f[2]), 40)
	}
	return name + " id=" + string(f[1]) + " " + clip(string(b), 60)
}
