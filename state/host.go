package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Defaults of Options, those of @nexus-js/core/state 1.2.0.
const (
	DefaultPublishWindow   = 200 * time.Millisecond
	DefaultMaxPending      = 32
	DefaultDeliveryTimeout = 5 * time.Second
)

// Terminal reasons, as JS names them.
const (
	ReasonProviderShutdown     = "provider-shutdown"
	ReasonSourceDisconnected   = "source-disconnected"
	ReasonAuthorizationRevoked = "authorization-revoked"
	ReasonTargetChanged        = "target-changed"
	ReasonTargetReplaced       = "target-replaced"
)

// Options configures a Store. The zero value uses JS's defaults.
type Options[S any] struct {
	// PublishWindow is how long changes gather before they are published
	// to the subscribers (a fixed window that opens at the first change;
	// every change still counts one version). 0 means 200 ms.
	PublishWindow time.Duration
	// MaxPending bounds the deliveries a subscriber may leave
	// unacknowledged (init included); one more ends its subscription with
	// source-disconnected. 0 means 32.
	MaxPending int
	// DeliveryTimeout is each delivery's deadline; a subscriber that does
	// not acknowledge in time is ended with source-disconnected. 0 means
	// 5 s.
	DeliveryTimeout time.Duration
	// Snapshot projects the state into what subscribers see; nil sends the
	// state itself. It must give a JSON object.
	Snapshot func(S) any
	// Authorize, if set, decides whether the caller of a subscribe may
	// subscribe (ctx is the subscribe call's: daemon.ConnFromContext or
	// client.FromContext tell who called), and is asked again for every
	// subscriber at every publication and at Revalidate: a false answer
	// then ends that subscription with authorization-revoked. A refused
	// subscribe is E_AUTH_CALL_DENIED.
	Authorize func(ctx context.Context) bool
}

// Store hosts a state of type S for Nexus State mirrors. Provide its
// Service under the store token's id (daemon.Provide, client.Provide).
// It is safe for concurrent use; actions run one at a time.
type Store[S any] struct {
	opts     Options[S]
	instance string

	mu        sync.Mutex
	state     S
	version   int64
	published []byte // the snapshot as last encoded, to tell changes
	actions   map[string]reflect.Value
	order     []string
	subs      map[*subscriber]struct{}
	timer     *time.Timer // the publish window, nil when closed
	closed    bool
	wg        sync.WaitGroup // deliveries in flight
	ctx       context.Context
	cancel    context.CancelFunc // Close abandons the snapshots in flight
}

// New returns a store holding initial; register its actions with Action
// before providing it.
func New[S any](initial S, opts *Options[S]) *Store[S] {
	s := &Store[S]{state: initial, instance: newInstanceID(), actions: map[string]reflect.Value{}, subs: map[*subscriber]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.PublishWindow <= 0 {
		s.opts.PublishWindow = DefaultPublishWindow
	}
	if s.opts.MaxPending <= 0 {
		s.opts.MaxPending = DefaultMaxPending
	}
	if s.opts.DeliveryTimeout <= 0 {
		s.opts.DeliveryTimeout = DefaultDeliveryTimeout
	}
	s.published, _ = s.encode()
	return s
}

// newInstanceID is a random v4 UUID, as JS's crypto.randomUUID.
func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// InstanceID returns the store's storeInstanceId.
func (s *Store[S]) InstanceID() string { return s.instance }

// Action exposes fn as the action name. fn takes the state as a *S
// first (an optional context.Context before it), then the action's
// arguments, assigned as bind.Func assigns them; it may change the state
// and returns nothing, a result, an error, or both. An action runs with
// the store locked, one at a time; it must not wait for the peer. A
// change to the state (the snapshot's encoding differs) counts one version
// and is published; the caller's own result waits until its mirror
// acknowledged that snapshot, as in JS. An error reaches the mirror as
// E_STORE_ACTION, with its message (JS drops it) and the error as cause.
func (s *Store[S]) Action(name string, fn any) error {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func || name == "" || name == "then" {
		return errcode.New(errcode.StoreProtocol, "Exposed State actions must be callable and cannot be named then.")
	}
	t := v.Type()
	i := 0
	if t.NumIn() > 0 && t.In(0) == reflect.TypeFor[context.Context]() {
		i = 1
	}
	if t.NumIn() <= i || t.In(i) != reflect.TypeFor[*S]() {
		return errcode.New(errcode.UsageInvalid, "a State action takes the state (*"+reflect.TypeFor[S]().String()+") first: "+t.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.actions[name]; !ok {
		s.order = append(s.order, name)
	}
	s.actions[name] = v
	return nil
}

// State returns a copy of the state (a shallow one: do not change what
// it points to).
func (s *Store[S]) State() S {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Subscribers returns the number of live subscriptions.
func (s *Store[S]) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Version returns the current version (one per change, published or not).
func (s *Store[S]) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Update changes the state from the host's side; a change is published
// as an action's is.
func (s *Store[S]) Update(f func(*S)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errcode.New(errcode.StoreDisconnected, "the store is closed")
	}
	f(&s.state)
	return s.changedLocked()
}

func (s *Store[S]) encode() ([]byte, error) {
	var v any = s.state
	if s.opts.Snapshot != nil {
		v = s.opts.Snapshot(s.state)
	}
	b, err := protocol.AppendJSON(nil, v)
	if err != nil {
		return nil, errcode.Wrap(errcode.StoreProtocol, "State snapshot failed.", err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errcode.New(errcode.StoreProtocol, "Invalid State snapshot.")
	}
	return b, nil
}

// changedLocked counts a change when the snapshot's encoding moved, and
// opens the publish window for every subscriber.
func (s *Store[S]) changedLocked() error {
	b, err := s.encode()
	if err != nil {
		return err
	}
	if bytes.Equal(b, s.published) {
		return nil
	}
	s.published = b
	s.version++
	if len(s.subs) > 0 && s.timer == nil {
		s.timer = time.AfterFunc(s.opts.PublishWindow, s.publish)
	}
	return nil
}

// snapshotLocked is the snapshot as a value to send.
func (s *Store[S]) snapshotLocked() (any, error) {
	return protocol.DecodeJSON(protocol.Raw(s.published))
}

// publish sends the current snapshot to every subscriber behind it.
func (s *Store[S]) publish() {
	s.mu.Lock()
	s.timer = nil
	if s.closed {
		s.mu.Unlock()
		return
	}
	snap, err := s.snapshotLocked()
	version := s.version
	var revoked, behind []*subscriber
	for sub := range s.subs {
		if s.opts.Authorize != nil && !safeAuthorize(s.opts.Authorize, sub.ctx) {
			revoked = append(revoked, sub)
			continue
		}
		if sub.sentVersion < version {
			behind = append(behind, sub)
		}
	}
	s.mu.Unlock()
	for _, sub := range revoked {
		s.end(sub, ReasonAuthorizationRevoked, errcode.New(errcode.StoreDisconnected, "the subscriber is no longer authorized"))
	}
	if err != nil {
		for _, sub := range behind {
			s.end(sub, ReasonSourceDisconnected, err)
		}
		return
	}
	env := protocol.NewObject("type", "snapshot", "storeInstanceId", s.instance, "version", float64(version), "state", snap)
	for _, sub := range behind {
		s.deliver(sub, env, version)
	}
}

// Revalidate asks Options.Authorize again for every subscriber now, and
// ends with authorization-revoked those it refuses.
func (s *Store[S]) Revalidate() {
	if s.opts.Authorize == nil {
		return
	}
	s.mu.Lock()
	var revoked []*subscriber
	for sub := range s.subs {
		if !safeAuthorize(s.opts.Authorize, sub.ctx) {
			revoked = append(revoked, sub)
		}
	}
	s.mu.Unlock()
	for _, sub := range revoked {
		s.end(sub, ReasonAuthorizationRevoked, errcode.New(errcode.StoreDisconnected, "the subscriber is no longer authorized"))
	}
}

func safeAuthorize(f func(context.Context) bool, ctx context.Context) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f(ctx)
}

// Close ends every subscription with provider-shutdown (their mirrors
// become disconnected) and refuses later subscribes and actions with
// E_STORE_DISCONNECTED. Snapshots still in flight are abandoned; Close
// waits for the terminal deliveries (each bounded by DeliveryTimeout).
func (s *Store[S]) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	s.cancel()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		s.end(sub, ReasonProviderShutdown, errcode.New(errcode.StoreDisconnected, "the store was shut down"))
	}
	s.wg.Wait()
}

// Service returns the store as the service to provide under the store
// token's id: subscribe(onSync).
func (s *Store[S]) Service() session.Invoker { return storeService[S]{s} }

type storeService[S any] struct{ s *Store[S] }

func (v storeService[S]) Invoke(ctx context.Context, call *session.Call) (any, error) {
	if call.Op != session.OpApply || len(call.Path) != 1 || call.Path[0] != "subscribe" {
		return nil, call.ResourceError(errcode.TargetNotCallable, "a State store has one method, subscribe(onSync)")
	}
	var cb *session.RemoteRef
	if len(call.Args) > 0 {
		cb, _ = call.Args[0].(*session.RemoteRef)
	}
	if cb == nil {
		return nil, errcode.New(errcode.StoreProtocol, "subscribe needs an onSync function")
	}
	return v.s.subscribe(ctx, call, cb)
}
