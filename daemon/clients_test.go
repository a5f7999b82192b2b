package daemon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/peertest"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Per-service policy, duplicate and replaced providers, and identity
// metadata of a Go daemon, as Go clients see them over real Unix sockets.

// clSvc is a service named by who answers.
type clSvc struct{ name string }

func (s *clSvc) Who() string               { return s.name }
func (s *clSvc) Add(a, b float64) float64  { return a + b }
func (s *clSvc) MakeCounter(start int) any { return bind.Ref(peertest.NewCounter(start)) }
func (s *clSvc) MakeAdder(k float64) any   { return func(x float64) float64 { return x + k } }
func (s *clSvc) Call(ctx context.Context, fn func(context.Context) (string, error)) (string, error) {
	return fn(ctx)
}

type clSeen struct {
	service string
	path    string
	op      session.Op
}

// WithCanCall decides for its service and the resources that service's
// calls hand out; the daemon-wide policy decides for every other service
// and for callbacks.
func TestClientsPerServicePolicy(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	var mu sync.Mutex
	var wide, own []clSeen
	d := peertest.NewDaemon(t, daemon.Options{AppID: "cl", Policy: daemon.Policy{CanCall: func(_ *daemon.Conn, service string, path []string, op session.Op) bool {
		mu.Lock()
		wide = append(wide, clSeen{service, joinPath(path), op})
		mu.Unlock()
		return false
	}}})
	var wrongConn bool
	if err := d.Provide("open", &clSvc{name: "open"}, daemon.WithCanCall(func(c *daemon.Conn, service string, path []string, op session.Op) bool {
		mu.Lock()
		own = append(own, clSeen{service, joinPath(path), op})
		if c == nil || protocol.Get(c.Identity(), "appId") != "pol" {
			wrongConn = true
		}
		mu.Unlock()
		return op != session.OpSet // refs of "open" may not be written
	})); err != nil {
		t.Fatal(err)
	}
	if err := d.Provide("closed", &clSvc{name: "closed"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	c := peertest.Dial(ctx, t, d, "cl", &client.Options{AppID: "pol"})

	res, err := c.Service("open").Call(ctx, "add", 2, 3)
	peertest.Value(t, "open.add under a deny-all daemon policy", res, err, 5.0)
	res, err = c.Service("open").Call(ctx, "who")
	peertest.Value(t, "open.who", res, err, "open")
	_, err = c.Service("closed").Call(ctx, "who")
	peertest.Denied(t, "closed.who", err)
	_, err = c.Service("closed").Get(ctx, "")
	peertest.Denied(t, "get closed", err)

	// A ref handed out by open's call: open's policy decides (it allows
	// calls and gets, refuses sets), not the daemon-wide one.
	res, err = c.Service("open").Call(ctx, "makeCounter", 10)
	ref := peertest.Ref(t, "makeCounter", res, err)
	res, err = ref.Call(ctx, "inc")
	peertest.Value(t, "open's ref inc", res, err, 11.0)
	res, err = ref.Get(ctx, "start")
	peertest.Value(t, "open's ref start", res, err, 10.0)
	peertest.Denied(t, "set on open's ref", ref.Set(ctx, "start", 1))
	// A function handed out by open's call, the same.
	res, err = c.Service("open").Call(ctx, "makeAdder", 100)
	adder := peertest.Ref(t, "makeAdder", res, err)
	res, err = adder.Invoke(ctx, 1)
	peertest.Value(t, "open's adder", res, err, 101.0)

	// open's method calling back a function the client passed: that
	// function is the client's resource (the client's policy, which
	// allows all), and the daemon-wide policy is not asked.
	res, err = c.Service("open").Call(ctx, "call", func() string { return "from the client" })
	peertest.Value(t, "open calls the client's callback", res, err, "from the client")

	mu.Lock()
	defer mu.Unlock()
	if wrongConn {
		t.Fatal("WithCanCall was given another connection")
	}
	want := []clSeen{
		{"open", "add", session.OpApply},
		{"open", "who", session.OpApply},
		{"open", "makeCounter", session.OpApply},
		{"open", "inc", session.OpApply},
		{"open", "start", session.OpGet},
		{"open", "start", session.OpSet},
		{"open", "makeAdder", session.OpApply},
		{"open", "", session.OpApply},
		{"open", "call", session.OpApply},
	}
	if !slices.Equal(own, want) {
		t.Fatalf("open's policy saw\n %v\nwant\n %v", own, want)
	}
	wantWide := []clSeen{{"closed", "who", session.OpApply}, {"closed", "", session.OpGet}}
	if !slices.Equal(wide, wantWide) {
		t.Fatalf("the daemon-wide policy saw\n %v\nwant\n %v", wide, wantWide)
	}
}

func joinPath(p []string) string {
	s := ""
	for i, seg := range p {
		if i > 0 {
			s += "."
		}
		s += seg
	}
	return s
}

// The daemon's callbacks passed to a client (resources made outside any
// service call) are decided by the daemon-wide policy, even when the
// client calls them from inside its own service.
func TestClientsCallbackUsesDaemonWidePolicy(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.NewDaemon(t, daemon.Options{AppID: "cl", Policy: daemon.Policy{CanCall: func(_ *daemon.Conn, service string, _ []string, _ session.Op) bool {
		return service != "" // deny callbacks only
	}}})
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	// The client provides "run", which calls back the function it is given.
	run := map[string]any{"run": func(ctx context.Context, fn *session.RemoteRef) (any, error) { return fn.Call(ctx, nil) }}
	peertest.Dial(ctx, t, d, "cl", &client.Options{AppID: "cb", Services: []client.Provided{{Token: "run", Service: run}}})
	svc, err := d.Select(ctx, "run", &client.SelectOptions{Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	_, err = svc.Call(ctx, "run", func() string { ran = true; return "ran" })
	peertest.Denied(t, "the client calling the daemon's callback", err)
	if ran {
		t.Fatal("the denied callback ran")
	}
}

// clAnnounced dials d with the session package alone, waits until the
// daemon lists that session, and returns a channel of every provider list
// the daemon announces to it (PROVIDER_AVAILABLE) and the handshake's.
func clAnnounced(ctx context.Context, t *testing.T, d *daemon.Daemon) (<-chan []string, []string) {
	t.Helper()
	var dialer net.Dialer
	nc, err := dialer.DialContext(ctx, "unix", d.Path())
	if err != nil {
		t.Fatal(err)
	}
	fr := protocol.NewFrameReader(nc, 0)
	peer, err := session.ClientHandshake(ctx, nc, fr, session.Hello{Metadata: protocol.NewObject("context", "node-ipc-client", "appId", "raw", "pid", 1.0), Providers: []string{"raw"}}, nil, 0)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	ch := make(chan []string, 64)
	s := session.New(nc, fr, session.Config{OnProviders: func(ps []string) error { ch <- slices.Clone(ps); return nil }})
	t.Cleanup(func() { s.Close() })
	// Once the daemon lists the session (its catalog has "raw"), every
	// later Provide is announced to it exactly once.
	if _, err := d.Select(ctx, "raw", &client.SelectOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	return ch, peer.Providers
}

func clNextAnnounce(ctx context.Context, t *testing.T, ch <-chan []string, want ...string) {
	t.Helper()
	select {
	case got := <-ch:
		if !slices.Equal(got, want) {
			t.Fatalf("PROVIDER_AVAILABLE %v, want %v", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("no PROVIDER_AVAILABLE %v: %v", want, ctx.Err())
	}
}

// A token provided again replaces the service with no error, before
// Listen (silently, the last one winning, as JS does before ready) and
// after (announced again with PROVIDER_AVAILABLE); connected clients see
// new tokens announced and the new implementation answer.
func TestClientsProvideTwiceReplaces(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.NewDaemon(t, daemon.Options{AppID: "cl"})
	if err := d.Provide("svc", &clSvc{name: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Provide("other", &clSvc{name: "other"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Provide("svc", &clSvc{name: "second"}); err != nil {
		t.Fatalf("a token provided twice before Listen: %v, want a replacement", err)
	}
	if err := d.Provide("", &clSvc{}); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("empty token: %v, want E_USAGE_INVALID", err)
	}
	if err := d.Provide("nil", nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("nil service: %v, want E_USAGE_INVALID", err)
	}
	if got := d.Providers(); !slices.Equal(got, []string{"svc", "other"}) {
		t.Fatalf("d.Providers() before Listen = %v, want [svc other]", got)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	c := peertest.Dial(ctx, t, d, "cl", nil)
	if got := c.Providers(); !slices.Equal(got, []string{"svc", "other"}) {
		t.Fatalf("the ACK catalog = %v, want [svc other]", got)
	}
	res, err := c.Service("svc").Call(ctx, "who")
	peertest.Value(t, "svc: the last of the two before Listen", res, err, "second")
	announced, acked := clAnnounced(ctx, t, d)
	if !slices.Equal(acked, []string{"svc", "other"}) {
		t.Fatalf("the raw session's ACK catalog = %v", acked)
	}

	if err := d.Provide("late", &clSvc{name: "late v1"}); err != nil {
		t.Fatal(err)
	}
	clNextAnnounce(ctx, t, announced, "late")
	if err := c.WaitProvider(ctx, "late"); err != nil {
		t.Fatalf("the connected client did not see the new token: %v", err)
	}
	res, err = c.Service("late").Call(ctx, "who")
	peertest.Value(t, "late", res, err, "late v1")

	if err := d.Provide("svc", &clSvc{name: "third"}); err != nil {
		t.Fatalf("replacing after Listen: %v", err)
	}
	clNextAnnounce(ctx, t, announced, "svc")
	if err := d.Provide("late", &clSvc{name: "late v2"}); err != nil {
		t.Fatalf("replacing after Listen: %v", err)
	}
	clNextAnnounce(ctx, t, announced, "late")
	res, err = c.Service("svc").Call(ctx, "who")
	peertest.Value(t, "svc after the replacement", res, err, "third")
	res, err = c.Service("late").Call(ctx, "who")
	peertest.Value(t, "late after the replacement", res, err, "late v2")

	// The catalogs list each token once.
	if err := d.Provide("last", &clSvc{name: "last"}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitProvider(ctx, "last"); err != nil {
		t.Fatal(err)
	}
	want := []string{"svc", "other", "late", "last"}
	if got := d.Providers(); !slices.Equal(got, want) {
		t.Fatalf("d.Providers() = %v, want %v", got, want)
	}
	if got := c.Providers(); !slices.Equal(got, want) {
		t.Fatalf("the client's catalog = %v, want %v", got, want)
	}
	// A later client gets the replaced services in its handshake.
	later := peertest.Dial(ctx, t, d, "cl", nil)
	if got := later.Providers(); !slices.Equal(got, want) {
		t.Fatalf("a later client's catalog = %v, want %v", got, want)
	}
	res, err = later.Service("svc").Call(ctx, "who")
	peertest.Value(t, "svc for a later client", res, err, "third")
}

// Options.Metadata adds fields to the daemon's identity; the standard
// keys are refused.
func TestClientsDaemonMetadata(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.NewDaemon(t, daemon.Options{AppID: "meta", Instance: "blue", Metadata: map[string]any{"region": "eu", "weight": 3.0, "tags": []any{"a", "b"}}})
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	c := peertest.Dial(ctx, t, d, "cl", nil)
	id := c.Daemon()
	for k, want := range map[string]any{"context": "node-ipc-daemon", "appId": "meta", "instance": "blue", "pid": float64(os.Getpid()), "region": "eu", "weight": 3.0} {
		if got := protocol.Get(id, k); got != want {
			t.Errorf("c.Daemon()[%q] = %#v, want %#v", k, got, want)
		}
	}
	if tags, _ := protocol.Get(id, "tags").([]any); !slices.Equal(tags, []any{"a", "b"}) {
		t.Errorf("c.Daemon() tags = %#v", protocol.Get(id, "tags"))
	}
	// The standard fields first, then the extra ones in sorted key order.
	if keys := id.Keys(); !slices.Equal(keys, []string{"context", "appId", "instance", "pid", "region", "tags", "weight"}) {
		t.Errorf("c.Daemon() keys %v", keys)
	}
	if got := protocol.Get(d.Identity(), "region"); got != "eu" {
		t.Errorf("d.Identity() region = %v", got)
	}

	dir := peertest.SocketDir(t)
	for _, tc := range []struct {
		name   string
		opts   daemon.Options
		reject bool
	}{
		{"instance", daemon.Options{Metadata: map[string]any{"instance": "x"}}, true},
		{"appId", daemon.Options{Metadata: map[string]any{"appId": "x"}}, true},
		{"context", daemon.Options{Metadata: map[string]any{"context": "x"}}, true},
		{"pid", daemon.Options{Metadata: map[string]any{"pid": 1.0}}, true},
		{"groups with Groups", daemon.Options{Groups: []string{"g"}, Metadata: map[string]any{"groups": []any{"h"}}}, true},
		{"groups without Groups", daemon.Options{Metadata: map[string]any{"groups": []any{"h"}}}, false},
	} {
		tc.opts.AppID = "meta"
		tc.opts.SocketPath = filepath.Join(dir, "x.sock")
		_, err := daemon.New(&tc.opts)
		if tc.reject && !errors.Is(err, errcode.UsageInvalid) {
			t.Errorf("Metadata %s: %v, want E_USAGE_INVALID", tc.name, err)
		}
		if !tc.reject && err != nil {
			t.Errorf("Metadata %s: %v", tc.name, err)
		}
	}
}
