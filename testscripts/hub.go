package testscripts

import (
	"context"
	"errors"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/state"
)

// hub is the "hub" service of the Go test daemon: through it a test (a
// client calling the daemon) makes the daemon act toward its clients,
// with the same methods as the hub of node-fixtures/peers/daemon.mjs.
func hub(d *daemon.Daemon) map[string]any {
	sel := func(ctx context.Context, token string, where any, waitMs any) (*remote.Service, error) {
		opts := &remote.SelectOptions{Where: whereSpec(where)}
		if ms, ok := waitMs.(float64); ok && ms > 0 { // as the Node hub: 0 or null is no wait
			opts.Wait, opts.WaitTimeout = true, msDuration(ms)
		}
		return d.Select(ctx, token, opts)
	}
	return map[string]any{
		"select": func(ctx context.Context, token, method string, args []any, where, waitMs any) (any, error) {
			s, err := sel(ctx, token, where, waitMs)
			if err != nil {
				return nil, err
			}
			res, err := s.Call(ctx, method, args...)
			return res.Value(), err
		},
		"multicast": func(ctx context.Context, token, method string, args []any, where any, expects string) ([]any, error) {
			m := d.SelectMulticast(token, whereSpec(where))
			var out []any
			if expects == "stream" {
				for s := range m.StreamCall(ctx, method, args...) {
					out = append(out, settledObject(s))
				}
				return out, nil
			}
			for _, s := range m.Call(ctx, method, args...) {
				out = append(out, settledObject(s))
			}
			return out, nil
		},
		"selectCallback": func(ctx context.Context, token, method string, n float64) (any, error) {
			s, err := sel(ctx, token, nil, nil)
			if err != nil {
				return nil, err
			}
			res, err := s.Call(ctx, method, func(i float64) float64 { return i * 10 }, n)
			return res.Value(), err
		},
		"selectRef": func(ctx context.Context, token, method string, args []any, refMethod any, refArgs []any) (any, error) {
			s, err := sel(ctx, token, nil, nil)
			if err != nil {
				return nil, err
			}
			res, err := s.Call(ctx, method, args...)
			if err != nil {
				return nil, err
			}
			ref, err := res.Ref()
			if err != nil {
				return nil, err
			}
			defer ref.Release()
			if m, ok := refMethod.(string); ok {
				res, err = ref.Call(ctx, m, refArgs...)
			} else {
				res, err = ref.Invoke(ctx, refArgs...)
			}
			return res.Value(), err
		},
		"peers": func() []any {
			var out []any
			for _, c := range d.Conns() {
				out = append(out, protocol.NewObject("identity", c.Identity(), "observed", observedObject(c.Observed()), "providers", c.Providers()))
			}
			return out
		},
		"updateIdentity": func(updates *protocol.Object) (bool, error) {
			return true, d.UpdateIdentity(updates)
		},
		// mirror(token, where, action, args): the daemon mirrors the store
		// a client provides (state.Connect; it waits up to 10 s for such a
		// client), runs action (unless null),
		// and returns {status, version, state, result} of its mirror.
		"mirror": func(ctx context.Context, token string, where any, action any, args []any) (any, error) {
			s, err := d.Select(ctx, token, &remote.SelectOptions{Where: whereSpec(where), Wait: true, WaitTimeout: 10 * time.Second})
			if err != nil {
				return nil, err
			}
			m, err := state.Connect[any](ctx, s)
			if err != nil {
				return nil, err
			}
			defer m.Destroy()
			var result any
			if name, ok := action.(string); ok {
				res, err := m.Act(ctx, name, args...)
				if err != nil {
					return nil, err
				}
				result = res.Value()
			}
			st := m.Status()
			return protocol.NewObject("status", st.Kind, "version", float64(st.Version), "state", m.Raw(), "result", result), nil
		},
		"get": func(ctx context.Context, token, prop string) (any, error) {
			s, err := sel(ctx, token, nil, nil)
			if err != nil {
				return nil, err
			}
			res, err := s.Get(ctx, prop)
			return res.Value(), err
		},
		"set": func(ctx context.Context, token, prop string, v any) (bool, error) {
			s, err := sel(ctx, token, nil, nil)
			if err != nil {
				return false, err
			}
			return true, s.Set(ctx, prop, v)
		},
	}
}

// settledObject is a multicast outcome as JS's settled result:
// {status: "fulfilled", value} or {status: "rejected", reason: {message,
// code, name}}.
func settledObject(s remote.Settled) *protocol.Object {
	if s.Err == nil {
		return protocol.NewObject("status", "fulfilled", "value", s.Result.Value())
	}
	reason := protocol.NewObject("message", s.Err.Error(), "code", string(errcode.CodeOf(s.Err)))
	var re *protocol.RemoteError
	if errors.As(s.Err, &re) {
		reason = protocol.NewObject("message", re.Message, "code", re.Code, "name", re.Name)
	}
	return protocol.NewObject("status", "rejected", "reason", reason)
}

// msDuration is a JS millisecond count as a time.Duration.
func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
