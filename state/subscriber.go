package state

import (
	"context"
	"errors"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// subscriber is one subscription: the mirror's onSync, what it was sent
// and what it acknowledged. Its fields are guarded by the store's lock.
type subscriber struct {
	ctx  context.Context // the subscribe call's, for Authorize
	conn *session.Conn
	cb   *session.RemoteRef

	pending      int   // deliveries not acknowledged yet
	sentVersion  int64 // the version of the last delivery sent
	ackedVersion int64 // the highest version acknowledged
	moved        chan struct{}
	ended        bool
}

// wake tells the actions waiting for an acknowledgement to look again.
func (sub *subscriber) wake() {
	close(sub.moved)
	sub.moved = make(chan struct{})
}

var errClosed = errcode.New(errcode.StoreDisconnected, "Store is disconnected.")

func (s *Store[S]) subscribe(ctx context.Context, call *session.Call, cb *session.RemoteRef) (any, error) {
	if s.opts.Authorize != nil && !safeAuthorize(s.opts.Authorize, ctx) {
		_ = cb.Release()
		return nil, &protocol.RemoteError{Name: "MessageResourceError", Code: string(errcode.AuthCallDenied), Message: "subscribe denied by the store's policy"}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = cb.Release()
		return nil, errClosed
	}
	snap, err := s.snapshotLocked()
	if err != nil {
		s.mu.Unlock()
		_ = cb.Release()
		return nil, err
	}
	sub := &subscriber{ctx: ctx, conn: call.Conn, cb: cb, moved: make(chan struct{}), sentVersion: s.version, pending: 1}
	actions := &protocol.Object{}
	for _, name := range s.order {
		actions.Set(name, &action[S]{s: s, sub: sub, name: name})
	}
	version := s.version
	init := protocol.NewObject("type", "init", "storeInstanceId", s.instance, "version", float64(version),
		"state", snap, "actions", actions, "unsubscribe", &unsubscribe[S]{s: s, sub: sub})
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	if call.Conn != nil {
		call.Conn.AfterDone(func() { s.drop(sub) })
	}
	// The init is acknowledged before subscribe answers.
	if err := s.acked(sub, version, s.call(sub, init)); err != nil {
		return nil, errcode.Wrap(errcode.StoreDisconnected, "State subscription failed.", err)
	}
	return protocol.Undefined{}, nil
}

// call delivers env to the subscriber, bounded by DeliveryTimeout (and,
// for init and snapshots, by Close).
func (s *Store[S]) call(sub *subscriber, env *protocol.Object) error {
	parent := s.ctx
	if protocol.Get(env, "type") == "terminal" {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, s.opts.DeliveryTimeout)
	defer cancel()
	_, err := sub.cb.Call(ctx, nil, env)
	return err
}

// deliver sends env (of version) to sub without waiting; past
// MaxPending unacknowledged deliveries the subscription ends instead.
func (s *Store[S]) deliver(sub *subscriber, env *protocol.Object, version int64) {
	s.mu.Lock()
	if sub.ended {
		s.mu.Unlock()
		return
	}
	if sub.pending >= s.opts.MaxPending {
		s.mu.Unlock()
		s.end(sub, ReasonSourceDisconnected, errcode.New(errcode.StoreDisconnected, "State subscriber exceeded its pending snapshot budget."))
		return
	}
	sub.pending++
	sub.sentVersion = version
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		_ = s.acked(sub, version, s.call(sub, env))
	}()
}

// acked records the outcome of a delivery: an acknowledgement moves the
// subscriber on; a failure ends it (silently when its session ended).
func (s *Store[S]) acked(sub *subscriber, version int64, err error) error {
	s.mu.Lock()
	sub.pending--
	if err == nil {
		if version > sub.ackedVersion {
			sub.ackedVersion = version
		}
		sub.wake()
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if sub.conn != nil && sub.conn.Err() != nil {
		s.drop(sub)
	} else {
		s.end(sub, ReasonSourceDisconnected, err)
	}
	return err
}

// detach removes sub; false if it was gone already.
func (s *Store[S]) detach(sub *subscriber) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.ended {
		return false
	}
	sub.ended = true
	delete(s.subs, sub)
	sub.wake()
	if len(s.subs) == 0 && s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	return true
}

// drop forgets a subscriber whose session ended: nothing can be sent.
func (s *Store[S]) drop(sub *subscriber) { s.detach(sub) }

// end sends sub a terminal delivery with reason, then releases its
// onSync once that delivery is settled.
func (s *Store[S]) end(sub *subscriber, reason string, cause error) {
	if !s.detach(sub) {
		return
	}
	s.mu.Lock()
	version := s.version
	s.wg.Add(1)
	s.mu.Unlock()
	env := protocol.NewObject("type", "terminal", "storeInstanceId", s.instance, "lastKnownVersion", float64(version),
		"reason", reason, "error", terminalError(cause))
	go func() {
		defer s.wg.Done()
		_ = s.call(sub, env)
		_ = sub.cb.Release()
	}()
}

// terminalError is the error a terminal delivery carries:
// E_STORE_DISCONNECTED, with the cause's code and message.
func terminalError(cause error) *protocol.Object {
	e := protocol.NewObject("name", "NexusStoreDisconnectedError", "code", string(errcode.StoreDisconnected), "message", "Store is disconnected.")
	if cause != nil {
		c := protocol.NewObject("code", string(errcode.CodeOf(cause)), "message", errcode.MessageOf(cause))
		var re *protocol.RemoteError
		if errors.As(cause, &re) {
			c = protocol.NewObject("name", re.Name, "code", re.Code, "message", re.Message)
		}
		e.Set("message", errcode.MessageOf(cause))
		e.Set("cause", c)
	}
	return e
}

// action is one exposed action of one subscription (a host resource).
type action[S any] struct {
	s    *Store[S]
	sub  *subscriber
	name string
}

func (a *action[S]) NexusResource() {}

func (a *action[S]) Invoke(ctx context.Context, call *session.Call) (any, error) {
	if call.Op != session.OpApply || len(call.Path) != 0 {
		return nil, call.ResourceError(errcode.TargetNotCallable, "a State action only supports being called")
	}
	s := a.s
	s.mu.Lock()
	if a.sub.ended || s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	fn := s.actions[a.name]
	args := append([]any{&s.state}, call.Args...)
	before := s.version
	res, err := bind.CallFunc(ctx, fn, call, args)
	cerr := s.changedLocked()
	version := s.version
	s.mu.Unlock()
	if err != nil {
		// JS sends {"cause":…,"code":"E_STORE_ACTION","name":"Ce"}; Go
		// keeps the message too.
		cause := session.ToRemoteError(err)
		return nil, &protocol.RemoteError{Name: "NexusStoreActionError", Code: string(errcode.StoreAction), Message: "Store action failed: " + cause.Message, Cause: cause}
	}
	if cerr != nil {
		return nil, cerr
	}
	if version == before {
		return res, nil
	}
	// A change: answer once this mirror acknowledged it.
	for {
		s.mu.Lock()
		acked, ended, moved := a.sub.ackedVersion >= version, a.sub.ended, a.sub.moved
		s.mu.Unlock()
		switch {
		case acked:
			return res, nil
		case ended:
			return nil, errClosed
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return nil, errcode.FromContext(ctx)
		}
	}
}

// unsubscribe is a subscription's unsubscribe function (a host resource).
type unsubscribe[S any] struct {
	s   *Store[S]
	sub *subscriber
}

func (u *unsubscribe[S]) NexusResource() {}

func (u *unsubscribe[S]) Invoke(ctx context.Context, call *session.Call) (any, error) {
	if u.s.detach(u.sub) {
		_ = u.sub.cb.Release()
	}
	return protocol.Undefined{}, nil
}
