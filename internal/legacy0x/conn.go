package legacy0x

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

type conn struct {
	d    *Daemon
	n    int
	name string // "conn-N", the 0.x connection id
	nc   *net.UnixConn

	wmu sync.Mutex // one write (and its record) at a time

	mu      sync.Mutex
	pending map[int64]chan reply // the daemon's calls into the client
	finC2S  bool
	finS2C  bool

	done      chan struct{} // closed when the connection ends
	closeOnce sync.Once
	async     sync.WaitGroup // calls that wait for the client
	sem       chan struct{}
}

// reply is the client's answer to one of the daemon's calls.
type reply struct {
	result []byte // RES payload (or "null" for [6,id,null])
	err    []byte // ERR payload, normalized
}

func newConn(d *Daemon, nc *net.UnixConn, n int) *conn {
	return &conn{
		d: d, n: n, name: "conn-" + strconv.Itoa(n), nc: nc,
		pending: map[int64]chan reply{},
		done:    make(chan struct{}),
		sem:     make(chan struct{}, maxAsync),
	}
}

// close closes the connection from the daemon's side (S>C FIN), once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.fin(true)
		close(c.done)
		c.nc.Close()
	})
}

func (c *conn) fin(sent bool) {
	c.mu.Lock()
	seen := &c.finC2S
	if sent {
		seen = &c.finS2C
	}
	if *seen {
		c.mu.Unlock()
		return
	}
	*seen = true
	c.mu.Unlock()
	c.d.record(Frame{Conn: c.n, Sent: sent, Kind: KindFIN})
}

func (c *conn) violation(msg string) { c.d.violation(c, msg) }

func (c *conn) serve() {
	defer c.d.wg.Done()
	defer c.d.dropConn(c)
	defer c.async.Wait()
	defer c.close()
	start := time.Now()
	if c.d.opts.Token != "" && !c.preauth(start) {
		return
	}
	c.nc.SetReadDeadline(start.Add(c.d.opts.HandshakeTimeout))
	fr := protocol.NewFrameReader(c.nc, MaxFrameSize)
	s := &state{}
	for {
		body, err := fr.ReadFrame()
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, net.ErrClosed):
				// Closed by this side.
			case errors.As(err, &ne) && ne.Timeout():
				// The handshake deadline: a 0.x daemon closes at 30 s.
			case errors.Is(err, errcode.IPCProtocolError):
				// A zero-length frame or one over 16 MiB.
				c.violation("bad frame (" + err.Error() + "): a 0.x daemon closes the connection")
			default:
				c.fin(false) // the client closed (EOF, reset, or in the middle of a frame)
			}
			return
		}
		c.d.record(Frame{Conn: c.n, Kind: KindFrame, Body: body})
		if !c.packet(s, body) {
			return
		}
		if s.ready && !s.deadlineCleared {
			s.deadlineCleared = true
			c.nc.SetReadDeadline(time.Time{})
		}
	}
}

// preauth reads the auth line as node-ipc 0.3.1 does and answers it.
func (c *conn) preauth(start time.Time) bool {
	c.nc.SetReadDeadline(start.Add(c.d.opts.AuthTimeout))
	var line []byte
	chunk := make([]byte, 4096)
	for {
		n, err := c.nc.Read(chunk)
		if i := bytes.IndexByte(chunk[:n], '\n'); i >= 0 {
			if len(line)+i+1 > MaxAuthLine {
				c.violation("auth line over 8 KiB: node-ipc closes the connection")
				return false
			}
			line = append(line, chunk[:i+1]...)
			c.d.record(Frame{Conn: c.n, Kind: KindLine, Body: line})
			if rest := n - i - 1; rest > 0 {
				// node-ipc drops what came with the line in the same read.
				c.violation(strconv.Itoa(rest) + " bytes sent behind the auth line before its answer: node-ipc drops them")
			}
			tok, perr := protocol.ParseAuthRequest(line[:len(line)-1])
			if perr != nil || subtle.ConstantTimeCompare([]byte(tok), []byte(c.d.opts.Token)) != 1 {
				return false // closed without a reply
			}
			return c.write([]byte(protocol.AuthOKLine), KindLine)
		}
		line = append(line, chunk[:n]...)
		if len(line) >= MaxAuthLine {
			c.violation("auth line over 8 KiB: node-ipc closes the connection")
			return false
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.fin(false)
			}
			return false
		}
	}
}

// write writes a frame body (or a line) and records it; false when the
// connection failed (it is then closed).
func (c *conn) write(body []byte, kind Kind) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	b := body
	if kind == KindFrame {
		b = make([]byte, 4+len(body))
		binary.BigEndian.PutUint32(b, uint32(len(body)))
		copy(b[4:], body)
	}
	c.d.record(Frame{Conn: c.n, Sent: true, Kind: kind, Body: body})
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.close()
		return false
	}
	return true
}

func (c *conn) send(parts ...[]byte) bool {
	return c.write(bytes.Join(parts, nil), KindFrame)
}

// state is the handshake state of a connection.
type state struct {
	reqID           []byte // the REQ's id (normalized), once ACKed
	stuck           bool   // ACK sent for a REQ whose metadata is not an object
	ready           bool
	deadlineCleared bool
}

// packet handles one frame; false closes the connection.
func (c *conn) packet(s *state, body []byte) bool {
	elems, err := splitArray(body)
	if err != nil {
		c.violation("frame is not a JSON array (" + err.Error() + "): a 0.x daemon closes the connection")
		return false
	}
	if len(elems) == 0 {
		c.violation("frame without a type: a 0.x daemon closes the connection")
		return false
	}
	t, ok := msgType(elems[0])
	if !ok {
		c.violation("unknown message type " + string(elems[0]) + ": a 0.x daemon closes the connection")
		return false
	}
	id := norm(elem(elems, 1))
	typ := protocol.Type(t)
	switch typ {
	case protocol.TypeProviderAvailable:
		c.violation("PROVIDER_AVAILABLE " + string(body) + ": a 0.x daemon closes the connection")
		return false
	case protocol.TypeBatch, protocol.TypeBatchRes, protocol.TypeChunkStart, protocol.TypeChunkData:
		if !s.ready {
			// Not captured: the handshake drops what is not handshake.
			c.violation(typ.String() + " " + string(body) + " before READY: a 0.x daemon cannot take it")
			return true
		}
		c.violation(typ.String() + " " + string(body) + ": a 0.x daemon answers E_USAGE_INVALID")
		return c.send([]byte("[6,"), id, []byte(","), usageInvalid(t), []byte("]"))
	case protocol.TypeIdentityUpdate:
		return true // ignored before READY, accepted silently after
	case protocol.TypeHandshakeReject:
		if s.ready {
			c.violation("HANDSHAKE_REJECT after READY " + string(body))
		}
		return false // a 0.x daemon closes on a REJECT
	}
	if !s.ready {
		return c.handshake(s, typ, id, elems, body)
	}
	switch typ {
	case protocol.TypeHandshakeReq, protocol.TypeHandshakeAck, protocol.TypeHandshakeReady:
		c.violation(typ.String() + " " + string(body) + " after READY: a 0.x daemon answers E_USAGE_INVALID")
		return c.send([]byte("[6,"), id, []byte(","), usageInvalid(t), []byte("]"))
	case protocol.TypeRes, protocol.TypeErr:
		c.answer(typ, elems)
		return true
	case protocol.TypeRelease:
		if rid, ok := jsonString(elem(elems, 2)); ok {
			c.d.release(c, rid)
		}
		return true
	}
	c.call(typ, id, elems)
	return true
}

func (c *conn) handshake(s *state, typ protocol.Type, id []byte, elems []json.RawMessage, body []byte) bool {
	switch typ {
	case protocol.TypeHandshakeReq:
		if s.reqID != nil {
			// Not captured: a REQ while the first waits for READY.
			c.violation("second HANDSHAKE_REQ " + string(body) + " before READY")
			return true
		}
		meta := norm(elem(elems, 2))
		ack := c.d.meta
		if assigns := norm(elem(elems, 3)); len(assigns) > 0 && assigns[0] == '{' {
			ack = assigns // 0.x adopts the assigned identity as it is
		}
		s.reqID = id
		s.stuck = len(meta) == 0 || meta[0] != '{'
		return c.send([]byte("[11,"), id, []byte(","), ack, []byte("]"))
	case protocol.TypeHandshakeReady:
		if s.reqID == nil || s.stuck || !bytes.Equal(id, s.reqID) {
			return true // a READY for another id: the session stays stuck
		}
		if want := "[14," + string(s.reqID) + "]"; string(body) != want {
			c.violation("READY " + string(body) + " is not " + want + " (a 0.x daemon accepts it)")
		}
		s.ready = true
		return true
	}
	// Calls, replies, RELEASE and ACKs before READY are dropped.
	return true
}

// answer routes the client's RES or ERR to the daemon's pending call.
func (c *conn) answer(typ protocol.Type, elems []json.RawMessage) {
	raw := elem(elems, 1)
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return // a JS caller matches ids strictly: "1" is not 1
	}
	f := compat.ParseNumber(raw)
	id := int64(f)
	if float64(id) != f {
		return
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch == nil {
		return // unknown or late: ignored
	}
	raw2 := elem(elems, 2)
	payload := norm(raw2)
	var r reply
	switch {
	case typ == protocol.TypeRes && raw2 == nil:
		r.result = []byte(undefinedJSON)
	case typ == protocol.TypeRes:
		r.result = payload
	case raw2 == nil || string(payload) == "null":
		// [6,id,null] resolves the call with null.
		r.result = []byte("null")
	default:
		r.err = payload
	}
	ch <- r
}

// thrown is an error a service method throws: its wire form in ERR and
// the code and message a JS catch sees.
type thrown struct {
	wire    []byte
	code    string
	message string
}

// errClosed is the connection ending while a call waits: nothing can be
// answered any more.
var errClosed = &thrown{}

// invoke calls the client's resource rid at path with the encoded args and
// waits for its answer, as a 0.x service awaiting a callback does.
func (c *conn) invoke(rid string, path []string, args []byte) ([]byte, *thrown) {
	id := c.d.nextCallID()
	ch := make(chan reply, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	p, _ := protocol.AppendJSON(nil, path)
	sid := strconv.FormatInt(id, 10)
	var ok bool
	if svc := c.d.collision(rid); svc != "" && !c.d.opts.FixLongForm {
		// 0.x's bug (§1b): the caller's own resource with the same id
		// gives the long form and that resource's service name.
		ok = c.send([]byte("[3,"+sid+","), compat.AppendString(nil, rid), []byte(","), p, []byte(","), compat.AppendString(nil, svc), []byte(","), args, []byte("]"))
	} else {
		ok = c.send([]byte("[3,"+sid+","), compat.AppendString(nil, rid), []byte(","), p, []byte(","), args, []byte("]"))
	}
	if !ok {
		return nil, errClosed
	}
	timer := time.NewTimer(c.d.opts.CallTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, remoteException(r.err)
		}
		return r.result, nil
	case <-timer.C:
		return nil, &thrown{
			wire:    []byte(`{"code":"E_CALL_TIMEOUT","context":{"messageId":` + sid + `},"name":"PendingCallTimeoutError"}`),
			code:    "E_CALL_TIMEOUT",
			message: "Call #" + sid + " timed out after timeout.",
		}
	case <-c.done:
		return nil, errClosed
	}
}

// remoteException is the CallProcessorRemoteError a 0.x caller throws
// for an ERR: no message or cause on the wire, the raw error in
// context.remoteError.
func remoteException(remote []byte) *thrown {
	msg := "Unknown error"
	if v, err := protocol.DecodeJSON(remote); err == nil {
		if o, ok := v.(*protocol.Object); ok {
			if m, ok := protocol.Get(o, "message").(string); ok && m != "" {
				msg = m
			}
		}
	}
	var w []byte
	w = append(w, `{"code":"E_REMOTE_EXCEPTION","context":{"remoteError":`...)
	w = append(w, remote...)
	w = append(w, `},"name":"CallProcessorRemoteError"}`...)
	return &thrown{wire: w, code: "E_REMOTE_EXCEPTION", message: "Remote call failed: " + msg}
}

func usageInvalid(t int) []byte {
	return []byte(`{"code":"E_USAGE_INVALID","context":{"messageType":` + strconv.Itoa(t) + `},"name":"MessageHandlerInvalidMessageError"}`)
}

// splitArray splits a frame body into its elements; the body must be a
// JSON array.
func splitArray(body []byte) ([]json.RawMessage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, err
	}
	if elems == nil {
		return nil, errors.New("null")
	}
	return elems, nil
}

// msgType reads the type element: a number that is a known type.
func msgType(raw []byte) (int, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f := compat.ParseNumber(raw)
	t := int(f)
	if float64(t) != f || t < 1 || t > 17 || !protocol.Type(t).Known() {
		return 0, false
	}
	return t, true
}

// elem returns element i, or nil when the array is shorter (absent,
// undefined in JS).
func elem(elems []json.RawMessage, i int) json.RawMessage {
	if i < len(elems) {
		return elems[i]
	}
	return nil
}

// norm rewrites JSON as JSON.stringify(JSON.parse(raw)) does; an absent
// element (undefined) becomes null, as JSON.stringify writes it in an
// array.
func norm(raw []byte) []byte {
	if raw == nil {
		return []byte("null")
	}
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return raw
	}
	b, err := protocol.AppendJSON(nil, v)
	if err != nil {
		return raw
	}
	return b
}

func jsonString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
