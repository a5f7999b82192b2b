package session

import (
	"context"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Outgoing calls: the table of pending requests and the wait for their
// replies.

// Request sends a GET, SET or APPLY and waits for its reply. payload is the
// SET value or the APPLY argument list, encoded with this session's
// resource registration. The result is the raw RES payload; an ERR becomes
// a *protocol.RemoteError. When ctx ends first, the call is abandoned:
// nothing is sent (the protocol has no cancel message), and resources in a
// late reply are released. When ctx has no deadline, Config.CallTimeout
// (if set) bounds the wait the same way, with E_CALL_TIMEOUT.
func (c *Conn) Request(ctx context.Context, op Op, t protocol.Callee, payload any) (protocol.Raw, error) {
	var raw protocol.Raw
	var buf *encBuf
	if op != OpGet {
		var err error
		raw, buf, err = c.encodePooled(payload, "")
		if err != nil {
			return nil, err
		}
	}
	return c.request(ctx, op, t, raw, buf)
}

// Apply is Request for an APPLY with the argument list args.
func (c *Conn) Apply(ctx context.Context, t protocol.Callee, args []any) (protocol.Raw, error) {
	raw, buf, err := c.encodePooledArgs(args)
	if err != nil {
		return nil, err
	}
	return c.request(ctx, OpApply, t, raw, buf)
}

// outCall is the state of one outgoing call, recycled: its reply channel,
// the packet it sends and room for a short path.
type outCall struct {
	ch    chan reply
	path  [4]string
	get   protocol.GetPacket
	set   protocol.SetPacket
	apply protocol.ApplyPacket
}

// outCalls recycles outCall values once their reply has been taken (or can
// no longer come).
var outCalls = sync.Pool{New: func() any { return &outCall{ch: make(chan reply, 1)} }}

func (oc *outCall) put() {
	oc.path = [4]string{}
	oc.get, oc.set, oc.apply = protocol.GetPacket{}, protocol.SetPacket{}, protocol.ApplyPacket{}
	outCalls.Put(oc)
}

// request sends an encoded call and waits for its reply.
func (c *Conn) request(ctx context.Context, op Op, t protocol.Callee, raw protocol.Raw, buf *encBuf) (protocol.Raw, error) {
	oc := outCalls.Get().(*outCall)
	timed := false
	if c.cfg.CallTimeout > 0 {
		_, hasDeadline := ctx.Deadline()
		timed = !hasDeadline
	}
	id, ok := c.calls.add(oc.ch, timed)
	if !ok {
		buf.Release()
		oc.put()
		return nil, c.closedErr()
	}

	// The path goes into the recycled array (a nil path stays nil: it is
	// written as null).
	tg := t
	if t.Path != nil {
		tg.Path = append(oc.path[:0:len(oc.path)], t.Path...)
	}
	var p protocol.Packet
	pid := protocol.NumID(float64(id))
	switch op {
	case OpGet:
		oc.get = protocol.GetPacket{ID: pid, Callee: tg}
		p = &oc.get
	case OpSet:
		oc.set = protocol.SetPacket{ID: pid, Callee: tg, Value: raw}
		p = &oc.set
	default:
		oc.apply = protocol.ApplyPacket{ID: pid, Callee: tg, Args: raw}
		p = &oc.apply
	}
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	if err := c.enqueue(ctx, p, buf, false); err != nil {
		if c.forget(id) {
			oc.put()
		}
		return nil, err
	}
	// A call the reader runs itself may be the one waiting here (a
	// handler calling back into the peer): the reply can only arrive if
	// another goroutine reads.
	c.takeOver()
	done := ctx.Done()
	if done == nil {
		// A context that never ends (context.Background): a plain receive
		// is cheaper than a select. The call timeout comes as a reply.
		r := <-oc.ch
		oc.put()
		return r.result, r.err
	}
	select {
	case r := <-oc.ch:
		oc.put()
		return r.result, r.err
	case <-done:
		if c.forget(id) {
			oc.put() // nobody will send on it any more
			return nil, errcode.FromContext(ctx)
		}
		r := <-oc.ch // the reply raced the cancellation: honour it
		oc.put()
		return r.result, r.err
	}
}

// forget removes a pending call; false if a reply already claimed it.
func (c *Conn) forget(id uint64) bool { return c.calls.take(id) != nil }
