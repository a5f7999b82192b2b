package session

import (
	"context"
	"sync/atomic"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// RemoteRef is a resource owned by the peer: a function or nexus.ref
// object that arrived as "\u0003R:res-N". It is bound to its session: once
// the session ends every use fails with E_CONN_CLOSED. It is safe for
// concurrent use.
type RemoteRef struct {
	conn     *Conn
	id       string
	released atomic.Bool
}

// ID returns the peer's resource id.
func (r *RemoteRef) ID() string { return r.id }

// Conn returns the session the reference belongs to.
func (r *RemoteRef) Conn() *Conn { return r.conn }

// NexusResource marks a RemoteRef as a resource. Passing it back to its
// owner makes a new local resource that forwards calls, as JS does.
func (r *RemoteRef) NexusResource() {}

// Invoke forwards a call made on the re-exported reference to the peer.
func (r *RemoteRef) Invoke(ctx context.Context, call *Call) (any, error) {
	var payload any
	switch call.Op {
	case OpSet:
		payload = call.Value
	case OpApply:
		payload = call.Args
	}
	raw, err := r.request(ctx, call.Op, call.Path, payload)
	if err != nil {
		return nil, err
	}
	return r.conn.Decode(raw)
}

func (r *RemoteRef) request(ctx context.Context, op Op, path []string, payload any) (protocol.Raw, error) {
	if r.released.Load() {
		return nil, errcode.New(errcode.UsageInvalid, "resource "+r.id+" was released")
	}
	if path == nil {
		path = []string{}
	}
	return r.conn.Request(ctx, op, protocol.Callee{ResourceID: r.id, Path: path}, payload)
}

// Call applies the function at path below the resource (an empty path
// calls the resource itself, as for a callback) and returns the decoded
// result.
func (r *RemoteRef) Call(ctx context.Context, path []string, args ...any) (any, error) {
	if args == nil {
		args = []any{}
	}
	raw, err := r.request(ctx, OpApply, path, args)
	if err != nil {
		return nil, err
	}
	return r.conn.Decode(raw)
}

// Get reads the property at path.
func (r *RemoteRef) Get(ctx context.Context, path []string) (any, error) {
	raw, err := r.request(ctx, OpGet, path, nil)
	if err != nil {
		return nil, err
	}
	return r.conn.Decode(raw)
}

// Set writes the property at path.
func (r *RemoteRef) Set(ctx context.Context, path []string, v any) error {
	_, err := r.request(ctx, OpSet, path, v)
	return err
}

// Release tells the owner that this side no longer uses the resource.
// Later uses fail; releasing twice does nothing.
func (r *RemoteRef) Release() error {
	if r.released.Swap(true) {
		return nil
	}
	return r.conn.Release(r.id)
}

// Decode decodes a payload received on this session: placeholders become
// protocol values and resource references become *RemoteRef bound to it.
func (c *Conn) Decode(raw protocol.Raw) (any, error) {
	if raw == nil {
		return protocol.Undefined{}, nil
	}
	v, err := protocol.DecodeValue(raw)
	if err != nil {
		return nil, err
	}
	return c.revive(v), nil
}

// revive replaces protocol.Ref values by *RemoteRef of this session.
func (c *Conn) revive(v any) any {
	switch x := v.(type) {
	case protocol.Ref:
		return &RemoteRef{conn: c, id: x.ID}
	case []any:
		for i, e := range x {
			x[i] = c.revive(e)
		}
	case *protocol.Object:
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if ref, ok := e.(protocol.Ref); ok {
				x.Set(k, &RemoteRef{conn: c, id: ref.ID})
			} else {
				c.revive(e)
			}
		}
	}
	return v
}
