package session

import (
	"reflect"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Local resources (callbacks and referenced objects the peer may call)
// and the encoding of payloads that registers them.

// Encode encodes a payload for this session: functions and
// protocol.Resource values in it become local resources (see Register).
func (c *Conn) Encode(v any) (protocol.Raw, error) { return c.EncodeFor(v, "") }

// EncodeFor is Encode for a result of a call to service: resources made
// from it remember that service, so that later calls on them carry it in
// Call.Service (and policy can judge them as calls to that service).
func (c *Conn) EncodeFor(v any, service string) (protocol.Raw, error) {
	eb := encBuf{c: c, service: service}
	eb.opts.Resource = eb.register
	b, err := protocol.AppendValue(nil, v, &eb.opts)
	return protocol.Raw(b), err
}

// resource is a local resource and the service it came from.
type resource struct {
	target  Invoker
	service string
}

// Register makes t a resource of this session and returns its id. The peer
// may call it until it sends RELEASE or the session ends.
func (c *Conn) Register(t Invoker) (string, error) { return c.RegisterFor(t, "") }

// RegisterFor is Register for a resource made by a call to service.
func (c *Conn) RegisterFor(t Invoker, service string) (string, error) {
	id := c.group.resourceID()
	if !c.local.add(id, resource{target: t, service: service}) {
		return "", c.closedErr()
	}
	return id, nil
}

// Resources returns the number of local resources the peer holds.
func (c *Conn) Resources() int {
	return c.local.len()
}

// Release tells the peer that this side no longer holds its resource id.
func (c *Conn) Release(id string) error {
	return c.send(&protocol.ReleasePacket{ResourceID: id})
}

// encBuf is a pooled payload buffer with the encoding state that goes
// with it, so that encoding a call's payload allocates nothing per call.
type encBuf struct {
	b       []byte
	c       *Conn
	service string
	opts    protocol.EncodeOptions
}

// register is the buffer's resource hook (bound once, when the buffer is
// made).
func (eb *encBuf) register(v any) (string, error) {
	t, ok := v.(Invoker)
	if !ok {
		if eb.c.cfg.Bind == nil {
			return "", errcode.New(errcode.UsageInvalid, "cannot pass a "+reflect.TypeOf(v).String()+" by reference: it is not a session.Invoker and the session has no Config.Bind")
		}
		var err error
		if t, err = eb.c.cfg.Bind(v); err != nil {
			return "", err
		}
	}
	return eb.c.RegisterFor(t, eb.service)
}

// encodeBufs recycles payload buffers once send has copied them (small) or
// written them (big).
var encodeBufs = sync.Pool{New: func() any {
	eb := &encBuf{b: make([]byte, 0, 512)}
	eb.opts.Resource = eb.register
	return eb
}}

// encodePooledArgs is encodePooled for an argument list.
func (c *Conn) encodePooledArgs(args []any) (protocol.Raw, *encBuf, error) {
	eb := c.pooledBuf("")
	var err error
	eb.b, err = protocol.AppendValues(eb.b[:0], args, &eb.opts)
	return eb.result(err)
}

// encodePooled is EncodeFor into a pooled buffer; enqueue (or release)
// returns it to the pool once the payload is no longer needed.
func (c *Conn) encodePooled(v any, service string) (protocol.Raw, *encBuf, error) {
	eb := c.pooledBuf(service)
	var err error
	eb.b, err = protocol.AppendValue(eb.b[:0], v, &eb.opts)
	return eb.result(err)
}

// pooledBuf takes a buffer from the pool for a payload of this session,
// resources in it made by a call to service.
func (c *Conn) pooledBuf(service string) *encBuf {
	eb := encodeBufs.Get().(*encBuf)
	eb.c, eb.service = c, service
	return eb
}

// result is what the encodePooled functions return once eb holds the
// payload or encoding failed with err (the buffer then goes back).
func (eb *encBuf) result(err error) (protocol.Raw, *encBuf, error) {
	if err != nil {
		eb.Release()
		return nil, nil, err
	}
	return protocol.Raw(eb.b), eb, nil
}

// Release returns the buffer to the pool (a nil buffer is ignored; a huge
// one is left to the collector).
func (eb *encBuf) Release() {
	if eb == nil {
		return
	}
	eb.c, eb.service = nil, ""
	if cap(eb.b) <= 4<<20 {
		eb.b = eb.b[:0]
		encodeBufs.Put(eb)
	}
}
