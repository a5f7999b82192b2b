package state

import (
	"context"
	"errors"
	"sync"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// Status kinds, JS's connectNexusStore model.
const (
	Initializing = "initializing"
	Ready        = "ready"
	Disconnected = "disconnected"
	Stale        = "stale"
	Destroyed    = "destroyed"
)

// Status is a mirror's status.
type Status struct {
	// Kind is Initializing, Ready, Disconnected, Stale or Destroyed.
	Kind string
	// StoreInstanceID is the host store's storeInstanceId (from init).
	StoreInstanceID string
	// Version is the version of the state held (for Disconnected and
	// Stale, the last known one; after a terminal, the host's
	// lastKnownVersion).
	Version int64
	// Reason is why a mirror is Disconnected or Stale: the terminal's
	// reason (provider-shutdown, source-disconnected,
	// authorization-revoked, target-changed, target-replaced), or
	// "session-lost" when the session ended.
	Reason string
	// Err is the error the host sent with a terminal, or the session's.
	Err error
}

// Update is one delivery a mirror applied, or a status change.
type Update struct {
	// Type is "init", "snapshot" or "terminal" for a delivery, "status"
	// for a change of status without one (session lost, destroyed).
	Type string
	// Status is the mirror's status after the update.
	Status Status
	// State is the state after the update (the decoded snapshot); nil for
	// terminal and status updates.
	State any
}

// Mirror is a local mirror of a store hosted by the peer: the Go form of
// JS's connectNexusStore. State reads the mirror without a round trip;
// Subscribe delivers every update; Act runs the host's actions. It is
// safe for concurrent use.
type Mirror[S any] struct {
	svc *remote.Service

	mu        sync.Mutex
	status    Status
	state     any
	actions   map[string]*remote.Ref
	order     []string // the actions in the init's order
	unsub     *remote.Ref
	listeners map[int]func(Update)
	nextID    int
	inited    bool
	changes   remote.Changes
	wg        sync.WaitGroup // the unsubscribe of a terminal mirror
}

// Connect subscribes to the store served as svc (remote.Service on the
// store token's id: client.Service, daemon.Conn.Service) and returns its
// mirror once the host's init is applied. Errors, as JS's: the host's
// refusal is E_STORE_PROTOCOL wrapping it (E_STORE_DISCONNECTED when the
// store is shut down), a subscribe that answers before its init is
// E_STORE_PROTOCOL, ctx's end is E_STORE_CONNECT ("Store subscribe
// handshake timed out."), the session's end E_STORE_DISCONNECTED.
//
// listeners are subscribed (see Subscribe) before the subscribe call, so
// that they see the init and every update after it.
func Connect[S any](ctx context.Context, svc *remote.Service, listeners ...func(Update)) (*Mirror[S], error) {
	m := &Mirror[S]{svc: svc, status: Status{Kind: Initializing}, listeners: map[int]func(Update){}}
	for _, f := range listeners {
		m.listeners[m.nextID] = f
		m.nextID++
	}
	onSync := func(ctx context.Context, env *protocol.Object) error { return m.onSync(env) }
	_, err := svc.Call(ctx, "subscribe", onSync)
	if err != nil {
		m.Destroy()
		switch {
		case ctx.Err() != nil:
			return nil, errcode.Wrap(errcode.StoreConnect, "Store subscribe handshake timed out.", err)
		case errors.Is(err, errcode.ConnClosed):
			return nil, errcode.Wrap(errcode.StoreDisconnected, "Store connection closed during the handshake.", err)
		}
		return nil, errcode.Wrap(errcode.StoreProtocol, "Store subscribe failed.", err)
	}
	m.mu.Lock()
	inited := m.inited
	m.mu.Unlock()
	if !inited {
		m.Destroy()
		return nil, errcode.New(errcode.StoreProtocol, "Subscribe completed without an initial snapshot.")
	}
	svc.Session().AfterDone(func() {
		m.leave(Status{Kind: Disconnected, Reason: "session-lost", Err: svc.Session().Err()}, "status", false)
	})
	return m, nil
}

// onSync applies one delivery; its error is the ERR the host gets.
func (m *Mirror[S]) onSync(env *protocol.Object) error {
	typ, _ := protocol.Get(env, "type").(string)
	id, _ := protocol.Get(env, "storeInstanceId").(string)
	m.mu.Lock()
	live := m.status.Kind == Initializing || m.status.Kind == Ready
	switch {
	case typ == "init" && live && !m.inited:
		m.inited = true
		version, _ := protocol.Get(env, "version").(float64)
		m.status = Status{Kind: Ready, StoreInstanceID: id, Version: int64(version)}
		m.state = protocol.Get(env, "state")
		m.actions = map[string]*remote.Ref{}
		if acts, ok := protocol.Get(env, "actions").(*protocol.Object); ok {
			for i := 0; i < acts.Len(); i++ {
				k, v := acts.At(i)
				if r, ok := remote.AsRef(v); ok {
					m.actions[k] = r
					m.order = append(m.order, k)
				}
			}
		}
		m.unsub, _ = remote.AsRef(protocol.Get(env, "unsubscribe"))
		u := Update{Type: "init", Status: m.status, State: m.state}
		m.mu.Unlock()
		m.notify(u)
		return nil
	case typ == "init":
		m.mu.Unlock()
		if live {
			m.leave(Status{Kind: Disconnected, Reason: ReasonSourceDisconnected, Err: errcode.New(errcode.StoreProtocol, "a second init")}, "status", true)
		}
		return errcode.New(errcode.StoreProtocol, "Store received a second init.")
	case !live || !m.inited:
		m.mu.Unlock()
		return nil // acknowledged, as JS acknowledges what it cannot use
	case id != m.status.StoreInstanceID && typ == "terminal":
		m.mu.Unlock()
		return nil
	case id != m.status.StoreInstanceID:
		v := m.status.Version
		m.mu.Unlock()
		m.leave(Status{Kind: Stale, StoreInstanceID: id, Version: v, Reason: ReasonTargetChanged}, "status", true)
		return errcode.New(errcode.StoreDisconnected, "Store target changed.")
	case typ == "snapshot":
		version, _ := protocol.Get(env, "version").(float64)
		if int64(version) <= m.status.Version {
			m.mu.Unlock()
			return nil // an old version: dropped
		}
		m.status.Version = int64(version)
		m.state = protocol.Get(env, "state")
		u := Update{Type: "snapshot", Status: m.status, State: m.state}
		m.mu.Unlock()
		m.notify(u)
		return nil
	case typ == "terminal":
		reason, _ := protocol.Get(env, "reason").(string)
		last, _ := protocol.Get(env, "lastKnownVersion").(float64)
		var cause error
		if e, ok := protocol.Get(env, "error").(*protocol.Object); ok {
			if raw, err := protocol.AppendJSON(nil, e); err == nil {
				if re, err := protocol.ParseRemoteError(raw); err == nil {
					cause = re
				}
			}
		}
		st := Status{Kind: Disconnected, StoreInstanceID: id, Version: int64(last), Reason: reason, Err: cause}
		if reason == ReasonTargetChanged || reason == ReasonTargetReplaced {
			st.Kind = Stale
		}
		m.mu.Unlock()
		m.leave(st, "terminal", true)
		return errcode.Wrap(errcode.StoreDisconnected, "Store became terminal ("+reason+").", cause)
	}
	m.mu.Unlock()
	return errcode.New(errcode.StoreProtocol, "Store received an invalid delivery.")
}

// leave moves a live mirror to st, once; with unsubscribe it also tells
// the host and releases the host's resources, in the background.
func (m *Mirror[S]) leave(st Status, typ string, unsubscribe bool) {
	m.mu.Lock()
	if m.status.Kind != Initializing && m.status.Kind != Ready {
		m.mu.Unlock()
		return
	}
	m.status = st
	unsub, actions := m.unsub, m.actions
	m.unsub, m.actions = nil, nil
	if unsubscribe {
		m.wg.Add(1)
	}
	m.mu.Unlock()
	if unsubscribe {
		go func() {
			defer m.wg.Done()
			dispose(unsub, actions)
		}()
	}
	m.notify(Update{Type: typ, Status: st})
}

// dispose unsubscribes (bounded by the session's call timeout) and
// releases the host's resources, as JS's disposeSubscription does.
func dispose(unsub *remote.Ref, actions map[string]*remote.Ref) {
	if unsub != nil {
		_, _ = unsub.Invoke(context.Background())
		_ = unsub.Release()
	}
	for _, a := range actions {
		_ = a.Release()
	}
}

func (m *Mirror[S]) notify(u Update) {
	m.mu.Lock()
	fs := make([]func(Update), 0, len(m.listeners))
	for _, f := range m.listeners {
		fs = append(fs, f)
	}
	m.mu.Unlock()
	m.changes.Notify()
	for _, f := range fs {
		f(u)
	}
}

// Status returns the mirror's status.
func (m *Mirror[S]) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Raw returns the mirrored state as decoded (a *protocol.Object), without
// a round trip; nil before init.
func (m *Mirror[S]) Raw() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// State returns the mirrored state as an S (assigned with bind.Assign),
// without a round trip. It is the last state received, also once the
// mirror is Disconnected or Stale.
func (m *Mirror[S]) State() (S, error) {
	var s S
	err := bind.Assign(&s, m.Raw())
	return s, err
}

// Changed returns a channel closed at the next update.
func (m *Mirror[S]) Changed() <-chan struct{} { return m.changes.Wait() }

// Subscribe calls f with every later update, on the session's goroutine
// that received it (f must not block: it holds up the host's
// acknowledgement), until the returned function is called.
func (m *Mirror[S]) Subscribe(f func(Update)) (cancel func()) {
	m.mu.Lock()
	id := m.nextID
	m.nextID++
	m.listeners[id] = f
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.listeners, id)
		m.mu.Unlock()
	}
}

// Actions returns the names of the host's exposed actions, in the order
// of its init.
func (m *Mirror[S]) Actions() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

// Act runs the host's action name with args and returns its result; the
// host answers once this mirror has the snapshot of what the action
// changed. Errors: E_STORE_DISCONNECTED when the mirror is not ready,
// E_TARGET_NOT_CALLABLE for an action the host does not expose, the
// host's error (E_STORE_ACTION for an action that failed) otherwise.
func (m *Mirror[S]) Act(ctx context.Context, name string, args ...any) (remote.Result, error) {
	m.mu.Lock()
	ready, ref := m.status.Kind == Ready, m.actions[name]
	m.mu.Unlock()
	if !ready {
		return remote.Result{}, errcode.New(errcode.StoreDisconnected, "Store is "+m.Status().Kind+".")
	}
	if ref == nil {
		return remote.Result{}, errcode.New(errcode.TargetNotCallable, "the store exposes no action "+name)
	}
	return ref.Invoke(ctx, args...)
}

// Destroy ends the mirror: it unsubscribes, releases the host's
// resources, and its status becomes Destroyed. It waits for the
// unsubscribe (bounded by the session's call timeout).
func (m *Mirror[S]) Destroy() {
	m.mu.Lock()
	if m.status.Kind == Destroyed {
		m.mu.Unlock()
		m.wg.Wait()
		return
	}
	unsub, actions := m.unsub, m.actions
	m.unsub, m.actions = nil, nil
	st := m.status
	st.Kind, st.Reason, st.Err = Destroyed, "", nil
	m.status = st
	m.mu.Unlock()
	dispose(unsub, actions)
	m.wg.Wait()
	m.notify(Update{Type: "status", Status: st})
}

var _ session.Invoker = storeService[struct{}]{}
