// Package provider is the table of services one side of a session
// provides, shared by the daemon (daemon.Daemon.Provide) and the client
// (client.Options.Services, client.Client.Provide), so that both bind Go
// values, name them, refuse duplicates and apply policy by one set of
// rules, core 1.2.0's:
//
//   - a service is a Go value adapted by bind.Object (a session.Invoker is
//     used as is), registered under a non-empty token id;
//   - providing a token again replaces the service for new calls, with
//     no error, as JS provide() does (before ready its configurations
//     merge by token id, and a provide([...]) batch by key, the last one
//     winning: core's E_PROVIDER_DUPLICATE_TOKEN check never sees a
//     duplicate, measured with 1.2.0); once the side is serving (Start),
//     the token is also announced again (PROVIDER_AVAILABLE), as JS sends
//     it again;
//   - a service may carry its own CanCall policy, which then decides for
//     calls on that service and on the resources its calls hand out,
//     instead of the side-wide one (JS: provide(token, impl, {policy}),
//     whose canCall replaces the Nexus-wide canCall for that service);
//     calls on other resources (callbacks the peer passed) use the
//     side-wide policy.
package provider

import (
	"context"
	"slices"
	"sync"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// CanCall decides whether the peer of a session may run a call; P is the
// side's view of that peer (*daemon.Conn, *client.Client).
type CanCall[P any] func(peer P, service string, path []string, op session.Op) bool

type entry[P any] struct {
	target  session.Invoker
	canCall CanCall[P]
}

// Table is a side's provided services. The zero value is not usable: use
// New. It is safe for concurrent use.
type Table[P any] struct {
	who string // "daemon" or "client", for the denial message

	mu       sync.Mutex
	services map[string]*entry[P]
	order    []string
	started  bool
}

// New returns an empty table; who names the side in denial messages
// ("daemon", "client").
func New[P any](who string) *Table[P] {
	return &Table[P]{who: who, services: map[string]*entry[P]{}}
}

// Provide registers svc under token with its own policy (nil: the
// side-wide one), replacing a service already provided under token. It
// reports whether the token must be announced to the sessions already
// open: true once Start was called (for a new token, and again for a
// replaced one, as JS does).
func (t *Table[P]) Provide(token string, svc any, canCall CanCall[P]) (announce bool, err error) {
	if token == "" {
		return false, errcode.New(errcode.UsageInvalid, "a service token id must not be empty")
	}
	target, err := bind.Object(svc)
	if err != nil {
		return false, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, existed := t.services[token]
	t.services[token] = &entry[P]{target: target, canCall: canCall}
	if !existed {
		t.order = append(t.order, token)
	}
	return t.started, nil
}

// Start marks the side as serving: from now on a token provided, new or
// again, is to be announced. It returns the catalog to announce in the
// handshake.
func (t *Table[P]) Start() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started = true
	return slices.Clone(t.order)
}

// Providers returns the catalog: the tokens provided, in order.
func (t *Table[P]) Providers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.order)
}

// Has reports whether token is provided.
func (t *Table[P]) Has(token string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.services[token] != nil
}

// Invoke serves a service call (a session.Handler): an unknown service is
// E_RESOURCE_NOT_FOUND, as in JS.
func (t *Table[P]) Invoke(ctx context.Context, call *session.Call) (any, error) {
	t.mu.Lock()
	e := t.services[call.Service]
	t.mu.Unlock()
	if e == nil {
		return nil, call.ResourceError(errcode.ResourceNotFound, "no service "+call.Service)
	}
	return e.target.Invoke(ctx, call)
}

// Authorize decides on a call from peer: the policy of the service the
// call is about (for a resource, the service whose call made it) when it
// has one, else sideWide (nil allows). A denial, or a policy that panics,
// is the ERR core sends: E_AUTH_CALL_DENIED with the service, path and
// operation in its context.
func (t *Table[P]) Authorize(peer P, call *session.Call, sideWide CanCall[P]) error {
	policy := sideWide
	if call.Service != "" {
		t.mu.Lock()
		if e := t.services[call.Service]; e != nil && e.canCall != nil {
			policy = e.canCall
		}
		t.mu.Unlock()
	}
	if policy == nil || SafeBool(func() bool { return policy(peer, call.Service, call.Path, call.Op) }) {
		return nil
	}
	ctx := protocol.NewObject("serviceName", call.Service, "path", call.Path, "operation", call.Op.String())
	return &protocol.RemoteError{Name: "MessageResourceError", Code: string(errcode.AuthCallDenied), Message: "call denied by the " + t.who + "'s policy", Context: ctx}
}

// SafeBool runs a policy hook (CanCall, or a side's CanConnect): a panic
// is a denial.
func SafeBool(f func() bool) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f()
}
