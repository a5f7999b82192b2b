package daemon

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

type service struct {
	token  string
	target session.Invoker
}

// Provide makes svc available under the service token id token, before or
// after Listen. Clients that are already connected learn of it through
// PROVIDER_AVAILABLE, as JS clients do.
//
// svc is usually a pointer to a struct: its methods are callable (Go Echo
// is JS echo, see compat.JSName and Naming), taking an optional context.Context
// (cancelled when the client disconnects) and arguments decoded into their
// Go types, and returning nothing, a value, an error, or both; its exported
// fields are properties clients can get and set; nested structs, maps and
// slices are reached by longer paths. A map[string]any is the explicit
// form: func entries are methods, other entries properties. A
// session.Target is used as is. Providing a token twice replaces the
// service for new calls.
func (d *Daemon) Provide(token string, svc any) error {
	if token == "" {
		return errcode.New(errcode.UsageInvalid, "a service token id must not be empty")
	}
	var t session.Invoker
	switch x := svc.(type) {
	case nil:
		return errcode.New(errcode.UsageInvalid, "nil service")
	case *object:
		t = x
	case session.Invoker:
		t = x
	default:
		t = &object{root: reflect.ValueOf(svc), service: token, mu: new(sync.Mutex)}
	}
	d.mu.Lock()
	_, existed := d.services[token]
	d.services[token] = &service{token: token, target: t}
	var conns []*Conn
	if !existed {
		d.order = append(d.order, token)
		for c := range d.conns {
			conns = append(conns, c)
		}
	}
	d.mu.Unlock()
	for _, c := range conns {
		_ = c.sess.Notify(&protocol.ProviderAvailablePacket{Providers: []string{token}})
	}
	d.log.Info("provided", "service", token)
	return nil
}

// Providers returns the provider catalog: the tokens provided, in order.
func (d *Daemon) Providers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.order)
}

// router dispatches service calls to the provided services.
type router struct{ d *Daemon }

func (r *router) Invoke(ctx context.Context, call *session.Call) (any, error) {
	r.d.mu.Lock()
	svc := r.d.services[call.Service]
	r.d.mu.Unlock()
	if svc == nil {
		return nil, resourceError(errcode.ResourceNotFound, "no service "+call.Service, call)
	}
	if r.d.log.Enabled(ctx, slog.LevelDebug) {
		r.d.log.Debug("call", "service", call.Service, "path", call.Path, "op", call.Op.String())
	}
	return svc.target.Invoke(ctx, call)
}
