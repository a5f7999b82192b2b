package daemon

import (
	"context"
	"log/slog"
	"slices"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

type service struct {
	token  string
	target session.Invoker
}

// Provide makes svc available under the service token id token, before or
// after Listen. Core 1.x clients that are already connected learn of it
// through PROVIDER_AVAILABLE, as JS clients do; core 0.x clients have no
// catalog (and close the connection on PROVIDER_AVAILABLE), so they are
// sent nothing and can call it at once.
//
// svc is adapted by bind.Object: usually a pointer to a struct whose
// methods clients call and whose exported fields they get and set (see
// docs/PROTOCOL.md, "Go names in JS"); a session.Invoker is used as is.
// Providing a token twice replaces the service for new calls.
func (d *Daemon) Provide(token string, svc any) error {
	if token == "" {
		return errcode.New(errcode.UsageInvalid, "a service token id must not be empty")
	}
	t, err := bind.Object(svc)
	if err != nil {
		return err
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
		// A 0.x session refuses it (session.Conn.Notify): nothing is sent.
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
		return nil, call.ResourceError(errcode.ResourceNotFound, "no service "+call.Service)
	}
	if r.d.log.Enabled(ctx, slog.LevelDebug) {
		r.d.log.Debug("call", "service", call.Service, "path", call.Path, "op", call.Op.String())
	}
	return svc.target.Invoke(ctx, call)
}
