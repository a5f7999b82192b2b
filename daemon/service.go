package daemon

import (
	"context"
	"log/slog"

	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/provider"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// ServiceOption configures one provided service (Provide).
type ServiceOption func(*serviceOptions)

type serviceOptions struct {
	canCall provider.CanCall[*Conn]
}

// WithCanCall gives the service its own policy, as JS's
// provide(token, impl, {policy: {canCall}}) does: it decides for calls on
// this service and on the resources its calls hand out, instead of
// Options.Policy.CanCall (which still decides for every other service and
// for callbacks clients pass). A false answer (or a panic) is an ERR with
// E_AUTH_CALL_DENIED.
func WithCanCall(f func(c *Conn, service string, path []string, op session.Op) bool) ServiceOption {
	return func(o *serviceOptions) { o.canCall = f }
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
//
// Providing a token again replaces the service for new calls, as JS
// provide() does (silently before ready; after ready it also announces
// the token again): once listening, the token is sent again in a
// PROVIDER_AVAILABLE to every 1.x client. An empty token is
// E_USAGE_INVALID.
func (d *Daemon) Provide(token string, svc any, opts ...ServiceOption) error {
	var o serviceOptions
	for _, f := range opts {
		f(&o)
	}
	announce, err := d.services.Provide(token, svc, o.canCall)
	if err != nil {
		return err
	}
	if announce {
		for _, c := range d.Conns() {
			// A 0.x session refuses it (session.Conn.Notify): nothing is sent.
			_ = c.sess.Notify(&protocol.ProviderAvailablePacket{Providers: []string{token}})
		}
	}
	d.log.Info("provided", "service", token)
	return nil
}

// Providers returns the provider catalog: the tokens provided, in order.
func (d *Daemon) Providers() []string { return d.services.Providers() }

// router dispatches service calls to the provided services.
type router struct{ d *Daemon }

func (r *router) Invoke(ctx context.Context, call *session.Call) (any, error) {
	if r.d.log.Enabled(ctx, slog.LevelDebug) {
		r.d.log.Debug("call", "service", call.Service, "path", call.Path, "op", call.Op.String())
	}
	return r.d.services.Invoke(ctx, call)
}

// Select chooses the one connected client whose identity and connection
// facts match opts.Where and whose catalog provides token, and returns
// that client's service: the Go form of a JS daemon's nexus.select(token,
// {where, wait}). Errors are core 1.2.0's: E_SERVICE_NO_MATCH when no
// client matches, E_SERVICE_AMBIGUOUS when several do, and, with
// opts.Wait, E_SERVICE_WAIT_TIMEOUT when none came before opts.WaitTimeout
// or ctx's end (see remote.Select). Core 0.x clients have no catalog and
// are never chosen; reach them with Conn.Service.
func (d *Daemon) Select(ctx context.Context, token string, opts *remote.SelectOptions) (*remote.Service, error) {
	return remote.Select(ctx, d.source, token, opts)
}

// SelectMulticast returns a multicast over every connected client that
// matches where (nil: all) and provides token now, as a JS daemon's
// nexus.selectMulticast does: All-style calls return every client's
// outcome, Stream-style ones yield them as they arrive (see
// remote.Multicast).
func (d *Daemon) SelectMulticast(token string, where remote.Matcher) *remote.Multicast {
	return remote.SelectMulticast(d.source, token, where)
}

// source lists the connected clients as candidates for token.
func (d *Daemon) source(token string) ([]remote.Candidate, []<-chan struct{}) {
	changed := d.changes.Wait()
	conns := d.Conns()
	cands := make([]remote.Candidate, 0, len(conns))
	for _, c := range conns {
		if c.sess.Err() != nil {
			continue
		}
		cands = append(cands, remote.Candidate{Identity: c.Identity(), Observed: c.observed, Session: c.sess, Provides: c.Provides(token)})
	}
	return cands, []<-chan struct{}{changed}
}
