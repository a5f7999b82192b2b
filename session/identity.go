package session

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// DefaultCallTimeout is the call timeout of the client's and the
// daemon's sessions when their options leave it 0: JS's callTimeout
// default, which JS applies to calls on services and on references.
const DefaultCallTimeout = 5 * time.Second

// NoCallTimeout, as a client's or daemon's CallTimeout option, lets calls
// without a context deadline wait as long as the session lives.
const NoCallTimeout time.Duration = -1

// CallTimeoutOption turns a CallTimeout option (0: DefaultCallTimeout,
// negative: none) into Config.CallTimeout.
func CallTimeoutOption(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultCallTimeout
	case d < 0:
		return 0
	}
	return d
}

// Identity is an identity that IDENTITY_UPDATE changes: a side's own
// (updated by its updateIdentity) or its view of the peer's (updated by
// the peer's). Updates merge into it field by field, as core merges them
// ({...identity, ...updates}); each version is a fresh object, so one
// returned by Get never changes. It is safe for concurrent use.
type Identity struct {
	mu  sync.Mutex
	cur *protocol.Object
}

// NewIdentity returns an identity that starts as id (which it does not
// copy: do not change id afterwards).
func NewIdentity(id *protocol.Object) *Identity { return &Identity{cur: id} }

// Get returns the current identity (nil if the peer's metadata was not an
// object). The caller must not change it.
func (i *Identity) Get() *protocol.Object {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cur
}

// Merge applies updates and returns the identity before and after.
func (i *Identity) Merge(updates *protocol.Object) (prev, next *protocol.Object) {
	i.mu.Lock()
	defer i.mu.Unlock()
	prev = i.cur
	next = &protocol.Object{}
	if prev != nil {
		for k := 0; k < prev.Len(); k++ {
			key, v := prev.At(k)
			next.Set(key, v)
		}
	}
	for k := 0; k < updates.Len(); k++ {
		key, v := updates.At(k)
		next.Set(key, v)
	}
	i.cur = next
	return prev, next
}

// MaxPeerIdentity bounds what a peer's IDENTITY_UPDATEs can make its
// identity grow to, encoded (unless its handshake already sent a bigger
// one): updates add keys, and a peer that keeps adding them must not make
// this side hold an identity without bound.
const MaxPeerIdentity = 64 << 10

// MergeBounded is Merge for a peer's updates: when the merged identity,
// encoded, is over max bytes and over the identity before, it is
// E_PROTOCOL_ERROR and the identity is unchanged.
func (i *Identity) MergeBounded(updates *protocol.Object, max int) (prev, next *protocol.Object, err error) {
	i.mu.Lock()
	before := i.cur
	i.mu.Unlock()
	candidate := NewIdentity(before)
	_, next = candidate.Merge(updates)
	size, err := encodedSize(next)
	if err != nil {
		return nil, nil, err
	}
	if size > max {
		if old, _ := encodedSize(before); size > old {
			return nil, nil, errcode.New(errcode.ProtocolError, "IDENTITY_UPDATE makes the peer's identity "+strconv.Itoa(size)+" bytes, over the limit of "+strconv.Itoa(max))
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	prev, i.cur = i.cur, next
	return prev, next, nil
}

func encodedSize(o *protocol.Object) (int, error) {
	if o == nil {
		return 0, nil
	}
	b, err := protocol.AppendJSON(nil, o)
	return len(b), err
}

// DecodeIdentityUpdate decodes the updates of an IDENTITY_UPDATE, which
// must be an object (E_PROTOCOL_ERROR otherwise).
func DecodeIdentityUpdate(raw protocol.Raw) (*protocol.Object, error) {
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	u, ok := v.(*protocol.Object)
	if !ok {
		return nil, errcode.New(errcode.ProtocolError, "IDENTITY_UPDATE is not an object")
	}
	return u, nil
}

// UpdateIdentity sends an IDENTITY_UPDATE with these updates to the peer
// (core 0.x peers take it too).
func (c *Conn) UpdateIdentity(updates *protocol.Object) error {
	raw, err := protocol.AppendJSON(nil, updates)
	if err != nil {
		return err
	}
	return c.Notify(&protocol.IdentityUpdatePacket{ID: protocol.NullID, Updates: raw})
}

// ExtendIdentity adds extra fields to a side's identity metadata, in
// sorted key order (Go maps have none); a key the identity already has
// (context, appId, pid, ...) is E_USAGE_INVALID, since the standard
// fields are the adapter's, as in node-ipc.
func ExtendIdentity(meta *protocol.Object, extra map[string]any) error {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if _, ok := meta.Get(k); ok {
			return errcode.New(errcode.UsageInvalid, "identity metadata field "+strconv.Quote(k)+" is set by the adapter")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		meta.Set(k, extra[k])
	}
	return nil
}

// IdentityUpdates returns updates (a *protocol.Object, or a
// map[string]any whose keys are sent in sorted order) as the object an
// IDENTITY_UPDATE carries; anything else is E_USAGE_INVALID, as JS
// updateIdentity refuses what is not an object.
func IdentityUpdates(updates any) (*protocol.Object, error) {
	switch u := updates.(type) {
	case *protocol.Object:
		if u != nil {
			return u, nil
		}
	case map[string]any:
		o := &protocol.Object{}
		return o, ExtendIdentity(o, u)
	}
	return nil, errcode.New(errcode.UsageInvalid, "Invalid updateIdentity() input: the updates must be an object")
}
