package remote

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// SplitPath splits a dotted path ("store.items.add") into segments. An
// empty string is the empty path.
func SplitPath(p string) []string {
	if p == "" {
		return []string{}
	}
	return strings.Split(p, ".")
}

// Service is a handle on one service of the peer at the other end of a
// session, the Go counterpart of the proxy that nexus.create(Token) or
// nexus.select(Token) returns in JS. It is cheap and safe for concurrent
// use, and bound to its session: once that ends, every call fails with
// E_CONN_CLOSED.
type Service struct {
	conn  *session.Conn
	token string
}

// NewService returns a handle on the service token of the peer of conn.
// It does not check the peer's catalog: a call to a service the peer does
// not provide fails with the peer's error (E_RESOURCE_NOT_FOUND).
func NewService(conn *session.Conn, token string) *Service {
	return &Service{conn: conn, token: token}
}

// Token returns the service token id.
func (s *Service) Token() string { return s.token }

// Session returns the session the service is reached through.
func (s *Service) Session() *session.Conn { return s.conn }

func (s *Service) target(path []string) protocol.Callee {
	p := make([]string, 1+len(path))
	p[0] = s.token
	copy(p[1:], path)
	return protocol.Callee{Path: p}
}

// Call calls the method at a dotted path ("echo", "store.items.add") with
// args and returns its result. Go functions among the args (at any depth)
// become callbacks the peer can call, concurrently and many times, until
// it releases them or the session ends. Without a deadline on ctx, the
// session's call timeout applies (5 s by default, as in JS; see the
// CallTimeout options of the client and daemon packages).
func (s *Service) Call(ctx context.Context, method string, args ...any) (Result, error) {
	if !strings.Contains(method, ".") && method != "" {
		raw, err := s.conn.Apply(ctx, protocol.Callee{Path: []string{s.token, method}}, args)
		return s.result(raw, err)
	}
	return s.CallPath(ctx, SplitPath(method), args...)
}

// CallPath is Call with the path as segments (for names that contain dots).
func (s *Service) CallPath(ctx context.Context, path []string, args ...any) (Result, error) {
	raw, err := s.conn.Apply(ctx, s.target(path), args)
	return s.result(raw, err)
}

// Get reads the property at a dotted path; "" reads the whole service
// (every method arrives as a reference, as in JS).
func (s *Service) Get(ctx context.Context, path string) (Result, error) {
	raw, err := s.conn.Request(ctx, session.OpGet, s.target(SplitPath(path)), nil)
	return s.result(raw, err)
}

// Set writes the property at a dotted path. A JS proxy can only set
// properties of refs; JS peers accept SET on service properties too, and
// so does this method.
func (s *Service) Set(ctx context.Context, path string, v any) error {
	_, err := s.conn.Request(ctx, session.OpSet, s.target(SplitPath(path)), v)
	return s.unavailable(err)
}

func (s *Service) result(raw protocol.Raw, err error) (Result, error) {
	if err = s.unavailable(err); err != nil {
		return Result{}, err
	}
	v, err := s.conn.Decode(raw)
	if err != nil {
		return Result{}, err
	}
	return Result{v: v}, nil
}

// unavailable turns a core 0.x peer's E_RESOURCE_NOT_FOUND for a service
// call into E_SERVICE_UNAVAILABLE (wrapping it): with no catalog, that
// answer is how a 0.x peer says it does not provide the service. Other
// errors, and every error of a 1.x peer, are returned as they are.
func (s *Service) unavailable(err error) error {
	var re *protocol.RemoteError
	if err == nil || !s.conn.Generation().Legacy() || !errors.As(err, &re) || re.Code != string(errcode.ResourceNotFound) {
		return err
	}
	if ctx, ok := re.Context.(*protocol.Object); ok {
		// core's context: {resourceId: null, path: [service, …]}
		if path, _ := protocol.Get(ctx, "path").([]any); protocol.Get(ctx, "resourceId") != nil || (len(path) > 0 && path[0] != s.token) {
			return err
		}
	}
	return errcode.Wrap(errcode.ServiceUnavailable, "Service "+strconv.Quote(s.token)+" is unavailable (the core 0.x peer does not provide it)", re)
}

// Result is a decoded result. Its Value is nil, bool, float64, string,
// []any, *protocol.Object, protocol.Undefined, *protocol.Map,
// *protocol.Set, *big.Int, or a *session.RemoteRef for a reference, nested
// as the peer sent it. Result.Ref wraps a top-level reference as a *Ref;
// AsRef wraps one found inside the value.
type Result struct{ v any }

// Value returns the decoded value.
func (r Result) Value() any { return r.v }

// Decode assigns the result to dst (a pointer) with bind.Assign's
// rules: into user structs by their JS field names (protocol.StructFields),
// numbers into integer types when integral, and so on. A
// *session.RemoteRef field or *Ref receives refs.
func (r Result) Decode(dst any) error {
	if p, ok := dst.(**Ref); ok {
		ref, err := r.Ref()
		*p = ref
		return err
	}
	return bind.Assign(dst, r.v)
}

// Ref returns the result as a reference, when the peer returned a
// function or a nexus.ref object.
func (r Result) Ref() (*Ref, error) {
	rr, ok := r.v.(*session.RemoteRef)
	if !ok {
		return nil, errcode.New(errcode.UsageInvalid, "the result is not a reference")
	}
	return &Ref{r: rr}, nil
}

// Ref is a reference to a resource of the peer: a function or a nexus.ref
// object. It is bound to its session and safe for concurrent use.
type Ref struct{ r *session.RemoteRef }

// AsRef wraps a reference found inside a decoded value (a
// *session.RemoteRef) as a *Ref.
func AsRef(v any) (*Ref, bool) {
	rr, ok := v.(*session.RemoteRef)
	if !ok {
		return nil, false
	}
	return &Ref{r: rr}, true
}

// ID returns the peer's resource id ("res-3").
func (r *Ref) ID() string { return r.r.ID() }

// Invoke calls the referenced function itself.
func (r *Ref) Invoke(ctx context.Context, args ...any) (Result, error) {
	return r.CallPath(ctx, []string{}, args...)
}

// Call calls the method at a dotted path of the referenced object.
func (r *Ref) Call(ctx context.Context, method string, args ...any) (Result, error) {
	return r.CallPath(ctx, SplitPath(method), args...)
}

// CallPath is Call with the path as segments.
func (r *Ref) CallPath(ctx context.Context, path []string, args ...any) (Result, error) {
	v, err := r.r.Call(ctx, path, args...)
	if err != nil {
		return Result{}, err
	}
	return Result{v: v}, nil
}

// Get reads a property of the referenced object.
func (r *Ref) Get(ctx context.Context, path string) (Result, error) {
	v, err := r.r.Get(ctx, SplitPath(path))
	if err != nil {
		return Result{}, err
	}
	return Result{v: v}, nil
}

// Set writes a property of the referenced object.
func (r *Ref) Set(ctx context.Context, path string, v any) error {
	return r.r.Set(ctx, SplitPath(path), v)
}

// Release tells the peer this side no longer uses the resource; later
// uses fail.
func (r *Ref) Release() error { return r.r.Release() }
