// Package demo is the built-in "demo" service of `nexusctl serve` (Service:
// echo, add, callback, fail, counter, makeCounter, sleep, whoami) and, with
// the test helpers of Testkit, of the Go test daemon: the same surface as
// node-fixtures/peers/daemon.mjs, so that both daemons can be driven by
// the same clients.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Service is the demo service. Counter is a property clients get and set.
type Service struct {
	Counter float64 `json:"counter"`
}

// Echo returns x unchanged (any value, Map, Set, BigInt and undefined too).
func (s *Service) Echo(x any) any { return x }

// Add returns a + b.
func (s *Service) Add(a, b float64) float64 { return a + b }

// Callback calls fn(i) for i = 0..n-1, one after the other, awaiting each,
// and returns the results.
func (s *Service) Callback(ctx context.Context, fn *session.RemoteRef, n int) ([]any, error) {
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		v, err := fn.Call(ctx, nil, i)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CallbackParallel calls fn(i) for i = 0..n-1 at once.
func (s *Testkit) CallbackParallel(ctx context.Context, fn *session.RemoteRef, n int) ([]any, error) {
	out := make([]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = fn.Call(ctx, nil, i)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// CallbackCatch calls fn("x") and reports how it failed, if it did.
func (s *Testkit) CallbackCatch(ctx context.Context, fn func(context.Context, string) (any, error)) *protocol.Object {
	v, err := fn(ctx, "x")
	if err == nil {
		return protocol.NewObject("ok", v)
	}
	var re *protocol.RemoteError
	o := protocol.NewObject("caught", true)
	if errors.As(err, &re) {
		o.Set("code", re.Code)
		o.Set("message", re.Message)
	} else {
		o.Set("code", string(errcode.CodeOf(err)))
		o.Set("message", err.Error())
	}
	return o
}

// Fail fails with an error carrying code and message.
func (s *Service) Fail(code, message string) error { return errcode.New(errcode.Code(code), message) }

// FailPlain fails with an error that has no code (E_UNKNOWN on the wire).
func (s *Testkit) FailPlain(message string) error { return errors.New(message) }

// Testkit is the demo service plus the helpers the interop tests use
// (callbackParallel, callbackCatch, failPlain, types, describe), the same
// as the Node fixture daemon's "demo" service.
type Testkit struct {
	Service
}

// Counter is the object makeCounter returns by reference.
type Counter struct {
	mu    sync.Mutex
	Value float64 `json:"value"`
}

// Increment adds 1 and returns the new value.
func (c *Counter) Increment() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Value++
	return c.Value
}

// MakeCounter returns a reference to a counter starting at start.
func (s *Service) MakeCounter(start float64) session.Invoker {
	return bind.Ref(&Counter{Value: start})
}

// Sleep resolves after ms milliseconds (or when the client goes away) and
// returns ms.
func (s *Service) Sleep(ctx context.Context, ms float64) (float64, error) {
	select {
	case <-time.After(time.Duration(ms * float64(time.Millisecond))):
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Whoami returns the caller's identity metadata and the observed
// connection facts.
func (s *Service) Whoami(ctx context.Context) *protocol.Object {
	c := daemon.ConnFromContext(ctx)
	if c == nil {
		return nil
	}
	f := c.Observed()
	return protocol.NewObject("identity", c.Identity(), "facts", protocol.NewObject(
		"socket", f.Socket, "authenticated", f.Authenticated, "authMethod", f.AuthMethod,
		"pid", f.PID, "uid", f.UID, "gid", f.GID))
}

// Types returns values of every JS-only kind.
func (s *Testkit) Types() *protocol.Object {
	big, _ := new(big.Int).SetString("12345678901234567890", 10)
	return protocol.NewObject(
		"map", protocol.NewMap("a", 1, 2, "b"),
		"set", protocol.NewSet(1, "x"),
		"big", big,
		"undef", protocol.Undefined{},
		"esc3", "\x03R:res-999",
		"esc4", "\x04hello",
		"nested", protocol.NewObject("arr", []any{protocol.Undefined{}, nil, 1}),
	)
}

// Describe reports how each argument arrived, in the same words as the
// Node fixture daemon.
func (s *Testkit) Describe(xs ...any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = describe(x)
	}
	return out
}

func describe(x any) string {
	js := func(v any) string {
		b, err := protocol.AppendJSON(nil, v)
		if err != nil {
			return "?"
		}
		return string(b)
	}
	switch v := x.(type) {
	case protocol.Undefined:
		return "undefined"
	case nil:
		return "null"
	case *big.Int:
		return "bigint:" + v.String()
	case *protocol.Map:
		entries := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			k, val := v.At(i)
			entries = append(entries, []any{k, val})
		}
		return "map:" + js(entries)
	case *protocol.Set:
		return "set:" + js(v.Values())
	case *session.RemoteRef:
		return "function"
	case string:
		return "string:" + js(v)
	case float64:
		return "number:" + js(v)
	case bool:
		return "boolean:" + js(v)
	}
	return fmt.Sprintf("object:%s", js(x))
}
