package client_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/peertest"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// Go clients providing services to a Go daemon, over real Unix sockets.

// pvWorker is a service a client provides: methods the daemon calls, a
// callback into the daemon, a ref handed out, and a property.
type pvWorker struct {
	Label string // JS "label"

	name    string
	fail    bool          // MaybeFail fails
	block   chan struct{} // Slow waits for it (or the end of its call), nil: answers at once
	blocked chan struct{} // Slow closes it when it starts waiting, if set
}

func (w *pvWorker) Hello(name string) string { return "hello " + name + " from " + w.name }

// Callback calls the daemon's function fn with n and adds one.
func (w *pvWorker) Callback(ctx context.Context, fn *session.RemoteRef, n int) (int, error) {
	v, err := fn.Call(ctx, nil, n)
	if err != nil {
		return 0, err
	}
	f, ok := v.(float64)
	if !ok {
		return 0, errcode.New("E_TEST", "the callback did not return a number")
	}
	return int(f) + 1, nil
}

// MakeCounter hands out a counter by reference.
func (w *pvWorker) MakeCounter(start int) session.Invoker {
	return bind.Ref(peertest.NewCounter(start))
}

func (w *pvWorker) MaybeFail() (string, error) {
	if w.fail {
		return "", errcode.New("E_WORKER_DOWN", w.name+" is down")
	}
	return "ok from " + w.name, nil
}

func (w *pvWorker) Slow(ctx context.Context) (string, error) {
	if w.block == nil {
		return "fast " + w.name, nil
	}
	if w.blocked != nil {
		close(w.blocked)
	}
	select {
	case <-w.block:
		return "slow " + w.name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// pvWaitFor waits, until ctx ends, for the daemon to have a connection
// that provides token and matches where; it returns that connection.
func pvWaitFor(ctx context.Context, t *testing.T, d *daemon.Daemon, token string, where remote.Matcher) *daemon.Conn {
	t.Helper()
	svc, err := d.Select(ctx, token, &remote.SelectOptions{Where: where, Wait: true})
	if err != nil {
		t.Fatalf("waiting for a client providing %q: %v", token, err)
	}
	for _, c := range d.Conns() {
		if c.Session() == svc.Session() {
			return c
		}
	}
	t.Fatalf("no connection for the session Select chose")
	return nil
}

// pvDone waits for the client's session to end, until ctx ends.
func pvDone(ctx context.Context, t *testing.T, c *client.Client, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatalf("%s: the client's session did not end: %v", what, ctx.Err())
	}
}

// pvUntil polls cond until it holds or ctx ends: for states that nothing
// exported signals.
func pvUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// Options.Services travel in HANDSHAKE_READY, and the daemon calls,
// gets and sets them, passes callbacks and calls the refs they return,
// through Conn.Service and Daemon.Select.
func TestProvideServicesCalledByDaemon(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	w := &pvWorker{name: "a", Label: "initial"}
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{AppID: "app-w", Services: []client.Provided{
		{Token: "work", Service: w},
		{Token: "extra", Service: map[string]any{"ping": func() string { return "pong" }}},
		{Token: "third", Service: &pvWorker{name: "third"}},
	}})
	want := []string{"work", "extra", "third"}
	if got := c.Provided(); !slices.Equal(got, want) {
		t.Fatalf("c.Provided() = %v, want %v", got, want)
	}
	conn := pvWaitFor(ctx, t, d, "work", nil)
	if n := len(d.Conns()); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	if got := conn.Providers(); !slices.Equal(got, want) {
		t.Fatalf("the daemon's view of the client's catalog = %v, want %v (in order)", got, want)
	}
	if !conn.Provides("extra") || conn.Provides("nope") {
		t.Fatalf("Provides: extra %v, nope %v", conn.Provides("extra"), conn.Provides("nope"))
	}

	s := conn.Service("work")
	res, err := s.Call(ctx, "hello", "bob")
	peertest.Value(t, "hello", res, err, "hello bob from a")

	// properties
	res, err = s.Get(ctx, "label")
	peertest.Value(t, "get label", res, err, "initial")
	if err := s.Set(ctx, "label", "changed"); err != nil {
		t.Fatalf("set label: %v", err)
	}
	res, err = s.Get(ctx, "label")
	peertest.Value(t, "label after set", res, err, "changed")

	// a Go function of the daemon, called back by the client's service
	var calls atomic.Int32
	res, err = s.Call(ctx, "callback", func(n int) int { calls.Add(1); return n * 10 }, 4)
	peertest.Value(t, "callback", res, err, 41.0)
	if calls.Load() != 1 {
		t.Fatalf("the daemon's callback ran %d times, want 1", calls.Load())
	}

	// a ref the client's service returns
	res, err = s.Call(ctx, "makeCounter", 5)
	ref := peertest.Ref(t, "makeCounter", res, err)
	res, err = ref.Call(ctx, "inc")
	peertest.Value(t, "ref inc", res, err, 6.0)
	res, err = ref.Call(ctx, "inc")
	peertest.Value(t, "ref inc again", res, err, 7.0)
	res, err = ref.Get(ctx, "start")
	peertest.Value(t, "ref start", res, err, 5.0)
	if err := ref.Release(); err != nil {
		t.Fatal(err)
	}

	// the same services through Daemon.Select
	sel, err := d.Select(ctx, "extra", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = sel.Call(ctx, "ping")
	peertest.Value(t, "select extra ping", res, err, "pong")
	sel, err = d.Select(ctx, "work", &remote.SelectOptions{Where: remote.MatchClient("app-w")})
	if err != nil {
		t.Fatal(err)
	}
	res, err = sel.Call(ctx, "hello", "sel")
	peertest.Value(t, "select work hello", res, err, "hello sel from a")
	res, err = sel.Get(ctx, "label")
	peertest.Value(t, "select work label", res, err, "changed")
	if _, err := d.Select(ctx, "work", &remote.SelectOptions{Where: remote.MatchClient("other")}); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("select another appId: %v, want E_SERVICE_NO_MATCH", err)
	}
	if _, err := conn.Service("nope").Call(ctx, "x"); !errors.Is(err, errcode.ResourceNotFound) {
		t.Fatalf("a service the client does not provide: %v, want E_RESOURCE_NOT_FOUND", err)
	}
}

// Client.Provide after Dial announces the token (PROVIDER_AVAILABLE) and
// the daemon can call it; providing it again replaces the service for the
// daemon's next call.
func TestProvideAfterDial(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{AppID: "late"})
	if len(c.Provided()) != 0 {
		t.Fatalf("provided %v before Provide", c.Provided())
	}
	if err := c.Provide("late", &pvWorker{name: "v1"}, nil); err != nil {
		t.Fatal(err)
	}
	conn := pvWaitFor(ctx, t, d, "late", nil)
	if got := conn.Providers(); !slices.Equal(got, []string{"late"}) {
		t.Fatalf("the daemon's catalog of the client: %v", got)
	}
	s, err := d.Select(ctx, "late", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Call(ctx, "hello", "x")
	peertest.Value(t, "late hello", res, err, "hello x from v1")

	if err := c.Provide("late", &pvWorker{name: "v2"}, nil); err != nil {
		t.Fatalf("providing a token again after Dial: %v, want a replacement", err)
	}
	res, err = s.Call(ctx, "hello", "y")
	peertest.Value(t, "hello after the replacement", res, err, "hello y from v2")
	res, err = conn.Service("late").Call(ctx, "hello", "z")
	peertest.Value(t, "Conn.Service after the replacement", res, err, "hello z from v2")
	if got := c.Provided(); !slices.Equal(got, []string{"late"}) {
		t.Fatalf("c.Provided() after the replacement = %v", got)
	}

	// A second token: the re-announced one is not listed twice.
	if err := c.Provide("second", map[string]any{"n": func() int { return 2 }}, nil); err != nil {
		t.Fatal(err)
	}
	pvWaitFor(ctx, t, d, "second", nil)
	if got := conn.Providers(); !slices.Equal(got, []string{"late", "second"}) {
		t.Fatalf("the daemon's catalog of the client: %v, want [late second]", got)
	}
	if err := c.Provide("", &pvWorker{}, nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("empty token: %v, want E_USAGE_INVALID", err)
	}
	if err := c.Provide("nil", nil, nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("nil service: %v, want E_USAGE_INVALID", err)
	}
}

// A token listed twice in Options.Services is provided once, by its last
// entry, at its first position, as a JS provide([...]) batch merges by key
// (since 58f9d7a; before, Dial failed with E_PROVIDER_DUPLICATE_TOKEN).
func TestProvideSameTokenTwiceInServices(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	c, err := peertest.DialErr(ctx, t, d, "pv", &client.Options{Services: []client.Provided{
		{Token: "dup", Service: &pvWorker{name: "first"}},
		{Token: "other", Service: &pvWorker{name: "o"}},
		{Token: "dup", Service: &pvWorker{name: "last"}},
	}})
	if err != nil {
		t.Fatalf("a token twice in Services: %v, want the last entry provided", err)
	}
	want := []string{"dup", "other"}
	if got := c.Provided(); !slices.Equal(got, want) {
		t.Fatalf("c.Provided() = %v, want %v", got, want)
	}
	conn := pvWaitFor(ctx, t, d, "dup", nil)
	if got := conn.Providers(); !slices.Equal(got, want) {
		t.Fatalf("the READY catalog = %v, want %v", got, want)
	}
	res, err := conn.Service("dup").Call(ctx, "hello", "x")
	peertest.Value(t, "dup.hello", res, err, "hello x from last")

	_, err = peertest.DialErr(ctx, t, d, "pv", &client.Options{Services: []client.Provided{{Token: "", Service: &pvWorker{}}}})
	if !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("empty token: %v, want E_USAGE_INVALID", err)
	}
	_, err = peertest.DialErr(ctx, t, d, "pv", &client.Options{Services: []client.Provided{{Token: "nil"}}})
	if !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("nil service: %v, want E_USAGE_INVALID", err)
	}
	pvUntil(ctx, t, "the refused dials leave one connection", func() bool { return len(d.Conns()) == 1 })
}

// The client's policy decides what the daemon may call; a service's own
// CanCall replaces it for that service (and the resources its calls hand
// out), both ways.
func TestProvidePolicy(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	var self atomic.Pointer[client.Client]
	var wrongPeer atomic.Bool
	check := func(c *client.Client) {
		if p := self.Load(); p != nil && p != c {
			wrongPeer.Store(true)
		}
	}
	allow := func(c *client.Client, _ string, _ []string, _ session.Op) bool { check(c); return true }
	deny := func(c *client.Client, _ string, _ []string, _ session.Op) bool { check(c); return false }
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{
		AppID: "policy",
		Policy: client.Policy{CanCall: func(c *client.Client, service string, _ []string, _ session.Op) bool {
			check(c)
			return service == "plain" || service == "plain-but-denied"
		}},
		Services: []client.Provided{
			{Token: "plain", Service: &pvWorker{name: "plain"}},
			{Token: "denied", Service: &pvWorker{name: "denied"}},
			{Token: "denied-but-allowed", Service: &pvWorker{name: "dba"}, CanCall: allow},
			{Token: "plain-but-denied", Service: &pvWorker{name: "pbd"}, CanCall: deny},
		},
	})
	self.Store(c)
	conn := pvWaitFor(ctx, t, d, "plain", nil)

	res, err := conn.Service("plain").Call(ctx, "hello", "p")
	peertest.Value(t, "allowed by the client's policy", res, err, "hello p from plain")
	_, err = conn.Service("denied").Call(ctx, "hello", "d")
	peertest.Denied(t, "denied by the client's policy", err)
	peertest.Denied(t, "get denied by the client's policy", pvErrOf(conn.Service("denied").Get(ctx, "label")))
	peertest.Denied(t, "set denied by the client's policy", conn.Service("denied").Set(ctx, "label", "x"))

	res, err = conn.Service("denied-but-allowed").Call(ctx, "hello", "o")
	peertest.Value(t, "the service's CanCall allows what the client's denies", res, err, "hello o from dba")
	// A ref from that service is decided by that service's policy too.
	res, err = conn.Service("denied-but-allowed").Call(ctx, "makeCounter", 1)
	ref := peertest.Ref(t, "makeCounter", res, err)
	res, err = ref.Call(ctx, "inc")
	peertest.Value(t, "a ref of the allowing service", res, err, 2.0)

	_, err = conn.Service("plain-but-denied").Call(ctx, "hello", "x")
	peertest.Denied(t, "the service's CanCall denies what the client's allows", err)
	peertest.Denied(t, "get on the denying service", pvErrOf(conn.Service("plain-but-denied").Get(ctx, "label")))

	// The other services keep the client-wide policy.
	res, err = conn.Service("plain").Call(ctx, "maybeFail")
	peertest.Value(t, "plain again", res, err, "ok from plain")
	_, err = conn.Service("denied").Call(ctx, "maybeFail")
	peertest.Denied(t, "denied again", err)
	if wrongPeer.Load() {
		t.Fatal("a policy hook was given another *Client")
	}
}

// pvErrOf drops a result.
func pvErrOf(_ remote.Result, err error) error { return err }

// A client whose CanConnect refuses the daemon fails Dial with a local
// *session.HandshakeError, and the daemon keeps no connection.
func TestProvideCanConnectRefused(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	var asked atomic.Int32
	d := peertest.Daemon(t, daemon.Options{AppID: "pv", Policy: daemon.Policy{CanConnect: func(*daemon.Conn) bool { asked.Add(1); return true }}})
	var sawDaemon atomic.Value
	_, err := peertest.DialErr(ctx, t, d, "pv", &client.Options{
		Services: []client.Provided{{Token: "w", Service: &pvWorker{}}},
		Policy: client.Policy{CanConnect: func(c *client.Client) bool {
			sawDaemon.Store(protocol.Get(c.Daemon(), "appId"))
			return false
		}},
	})
	var he *session.HandshakeError
	if !errors.As(err, &he) || he.Remote || !errors.Is(err, errcode.AuthConnectDenied) || !errors.Is(err, errcode.HandshakeRejected) {
		t.Fatalf("refused daemon: %v, want a local *session.HandshakeError E_AUTH_CONNECT_DENIED", err)
	}
	if sawDaemon.Load() != "pv" {
		t.Fatalf("CanConnect saw the daemon's appId %v, want pv", sawDaemon.Load())
	}
	if asked.Load() != 1 {
		t.Fatalf("the daemon's CanConnect was asked %d times, want 1 (the ACK came after it)", asked.Load())
	}
	pvUntil(ctx, t, "the refused session leaves no connection", func() bool { return len(d.Conns()) == 0 })
	// The daemon still serves others.
	peertest.Dial(ctx, t, d, "pv", &client.Options{Services: []client.Provided{{Token: "ok", Service: &pvWorker{name: "ok"}}}})
	conn := pvWaitFor(ctx, t, d, "ok", nil)
	if n := len(d.Conns()); n != 1 {
		t.Fatalf("%d connections, want only the accepted one", n)
	}
	res, err := conn.Service("ok").Call(ctx, "hello", "again")
	peertest.Value(t, "accepted client", res, err, "hello again from ok")
}

// client.FromContext in a provided service's method is the client.
func TestProvideFromContext(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	got := make(chan *client.Client, 1)
	svc := map[string]any{"who": func(ctx context.Context) bool {
		c := client.FromContext(ctx)
		got <- c
		return c != nil
	}}
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{Services: []client.Provided{{Token: "who", Service: svc}}})
	conn := pvWaitFor(ctx, t, d, "who", nil)
	res, err := conn.Service("who").Call(ctx, "who")
	peertest.Value(t, "who", res, err, true)
	if g := <-got; g != c {
		t.Fatalf("FromContext = %p, want the client %p", g, c)
	}
	if client.FromContext(ctx) != nil {
		t.Fatal("FromContext outside a call is not nil")
	}
}

// Identity metadata: Options.Metadata in the daemon's view, updates both
// ways, and CanConnect asked again on every update.
func TestProvideIdentity(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	if err := d.Provide("dsvc", map[string]any{"v": func() int { return 1 }}); err != nil {
		t.Fatal(err)
	}
	if _, err := peertest.DialErr(ctx, t, d, "pv", &client.Options{Metadata: map[string]any{"appId": "x"}}); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("Metadata with appId: %v, want E_USAGE_INVALID", err)
	}
	opts := &client.Options{AppID: "idc", SocketPath: d.Path(), Metadata: map[string]any{"role": "worker"},
		Services: []client.Provided{{Token: "id", Service: &pvWorker{name: "id"}}}}
	pool := client.NewPool(opts, nil)
	t.Cleanup(func() { pool.Close() })
	c, err := pool.Client(ctx, client.Address{AppID: "pv"})
	if err != nil {
		t.Fatal(err)
	}
	conn := pvWaitFor(ctx, t, d, "id", remote.MatchField("role", "worker"))
	if id := conn.Identity(); protocol.Get(id, "role") != "worker" || protocol.Get(id, "appId") != "idc" || protocol.Get(id, "context") != "node-ipc-client" {
		t.Fatalf("the daemon's view of the client: %v", id.Keys())
	}

	if err := c.UpdateIdentity(ctx, map[string]any{"role": "boss"}); err != nil {
		t.Fatal(err)
	}
	if v := protocol.Get(c.Identity(), "role"); v != "boss" {
		t.Fatalf("c.Identity() role = %v right after UpdateIdentity, want boss", v)
	}
	if v := protocol.Get(c.Identity(), "appId"); v != "idc" {
		t.Fatalf("UpdateIdentity lost appId: %v", v)
	}
	pvWaitFor(ctx, t, d, "id", remote.MatchField("role", "boss"))
	if v := protocol.Get(conn.Identity(), "role"); v != "boss" {
		t.Fatalf("the daemon's view after the update: role %v", v)
	}
	if _, err := d.Select(ctx, "id", &remote.SelectOptions{Where: remote.MatchField("role", "worker")}); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("select the old role: %v, want E_SERVICE_NO_MATCH", err)
	}
	if err := c.UpdateIdentity(ctx, "not an object"); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("UpdateIdentity with a string: %v, want E_USAGE_INVALID", err)
	}

	if err := d.UpdateIdentity(map[string]any{"version": 2.0}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Select(ctx, "dsvc", &client.SelectOptions{Wait: true, Where: client.MatchField("version", 2.0)}); err != nil {
		t.Fatalf("waiting for the daemon's update: %v", err)
	}
	if v := protocol.Get(c.Daemon(), "version"); v != 2.0 {
		t.Fatalf("c.Daemon() version = %v, want 2", v)
	}
	if v := protocol.Get(c.Daemon(), "appId"); v != "pv" {
		t.Fatalf("the update lost the daemon's appId: %v", v)
	}
	// A later session gets the merged identity in its handshake.
	later := peertest.Dial(ctx, t, d, "pv", nil)
	if v := protocol.Get(later.Daemon(), "version"); v != 2.0 {
		t.Fatalf("a later client's c.Daemon() version = %v, want 2", v)
	}
	if c.Err() != nil {
		t.Fatalf("the session ended: %v", c.Err())
	}
}

// A daemon whose CanConnect refuses the client's updated identity closes
// the session.
func TestProvideDaemonRefusesIdentityUpdate(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv", Policy: daemon.Policy{CanConnect: func(c *daemon.Conn) bool {
		return protocol.Get(c.Identity(), "role") != "banned"
	}}})
	if _, err := peertest.DialErr(ctx, t, d, "pv", &client.Options{Metadata: map[string]any{"role": "banned"}}); !errors.Is(err, errcode.AuthConnectDenied) {
		t.Fatalf("banned at the handshake: %v, want E_AUTH_CONNECT_DENIED", err)
	}
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{Metadata: map[string]any{"role": "worker"},
		Services: []client.Provided{{Token: "w", Service: &pvWorker{name: "w"}}}})
	pvWaitFor(ctx, t, d, "w", nil)
	if err := c.UpdateIdentity(ctx, map[string]any{"role": "banned"}); err != nil {
		t.Fatal(err)
	}
	pvDone(ctx, t, c, "banned by an update")
	if !errors.Is(c.Err(), errcode.ConnClosed) {
		t.Fatalf("c.Err() = %v, want E_CONN_CLOSED", c.Err())
	}
	pvUntil(ctx, t, "the daemon drops the banned client", func() bool { return len(d.Conns()) == 0 })
}

// A client whose CanConnect refuses the daemon's updated identity closes
// the session.
func TestProvideClientRefusesDaemonUpdate(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv"})
	c := peertest.Dial(ctx, t, d, "pv", &client.Options{
		Services: []client.Provided{{Token: "w", Service: &pvWorker{name: "w"}}},
		Policy: client.Policy{CanConnect: func(c *client.Client) bool {
			return protocol.Get(c.Daemon(), "mode") != "maintenance"
		}},
	})
	pvWaitFor(ctx, t, d, "w", nil)
	if err := d.UpdateIdentity(map[string]any{"mode": "serving"}); err != nil {
		t.Fatal(err)
	}
	if err := d.UpdateIdentity(map[string]any{"mode": "maintenance"}); err != nil {
		t.Fatal(err)
	}
	pvDone(ctx, t, c, "daemon in maintenance")
	if v := protocol.Get(c.Daemon(), "mode"); v != "maintenance" {
		t.Fatalf("c.Daemon() mode = %v, want maintenance", v)
	}
	pvUntil(ctx, t, "the daemon drops the client", func() bool { return len(d.Conns()) == 0 })
	// A new client is refused at the handshake now.
	_, err := peertest.DialErr(ctx, t, d, "pv", &client.Options{Policy: client.Policy{CanConnect: func(c *client.Client) bool {
		return protocol.Get(c.Daemon(), "mode") != "maintenance"
	}}})
	if !errors.Is(err, errcode.AuthConnectDenied) {
		t.Fatalf("dial a daemon in maintenance: %v, want E_AUTH_CONNECT_DENIED", err)
	}
}

// The daemon multicasts to the clients providing a token, and selects
// among them.
func TestProvideMulticast(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "pv", CallTimeout: daemon.NoCallTimeout})
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	blocked := make(chan struct{})
	a := &pvWorker{name: "a"}
	b := &pvWorker{name: "b", fail: true, block: release, blocked: blocked}
	peertest.Dial(ctx, t, d, "pv", &client.Options{AppID: "app-a", Services: []client.Provided{{Token: "w", Service: a}}})
	peertest.Dial(ctx, t, d, "pv", &client.Options{AppID: "app-b", Services: []client.Provided{{Token: "w", Service: b}}})
	peertest.Dial(ctx, t, d, "pv", &client.Options{AppID: "app-n", Services: []client.Provided{{Token: "other", Service: &pvWorker{name: "n"}}}})
	pvWaitFor(ctx, t, d, "w", remote.MatchClient("app-a"))
	pvWaitFor(ctx, t, d, "w", remote.MatchClient("app-b"))
	pvWaitFor(ctx, t, d, "other", nil)

	m := d.SelectMulticast("w", nil)
	if m.Len() != 2 || m.Token() != "w" {
		t.Fatalf("multicast over %d clients (token %q), want 2", m.Len(), m.Token())
	}
	appOf := func(s remote.Settled) any { return protocol.Get(s.Identity, "appId") }
	got := map[any]any{}
	for _, s := range m.Call(ctx, "hello", "m") {
		if s.Err != nil {
			t.Fatalf("%v: %v", appOf(s), s.Err)
		}
		got[appOf(s)] = s.Result.Value()
	}
	if len(got) != 2 || got["app-a"] != "hello m from a" || got["app-b"] != "hello m from b" {
		t.Fatalf("multicast results %v", got)
	}

	// One client's method fails: its Settled carries the code.
	var sawA, sawB bool
	for _, s := range m.Call(ctx, "maybeFail") {
		switch appOf(s) {
		case "app-a":
			sawA = true
			if s.Err != nil || s.Result.Value() != "ok from a" {
				t.Fatalf("app-a: %v, %v", s.Result.Value(), s.Err)
			}
		case "app-b":
			sawB = true
			var re *protocol.RemoteError
			if !errors.As(s.Err, &re) || re.Code != "E_WORKER_DOWN" || re.Message != "b is down" || !errors.Is(s.Err, errcode.Code("E_WORKER_DOWN")) {
				t.Fatalf("app-b: %v, want E_WORKER_DOWN", s.Err)
			}
			// The Settled's Service reaches that peer again.
			res, err := s.Service.Call(ctx, "hello", "again")
			peertest.Value(t, "app-b's Settled.Service", res, err, "hello again from b")
		default:
			t.Fatalf("a Settled from %v", appOf(s))
		}
	}
	if !sawA || !sawB {
		t.Fatalf("maybeFail outcomes: a %v, b %v", sawA, sawB)
	}

	n := 0
	for s := range m.StreamCall(ctx, "hello", "s") {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("StreamCall yielded %d, want 2", n)
	}

	// Breaking out early: a answers at once, b blocks until its call is
	// abandoned; the daemon's session has no call timeout and the context
	// has no deadline, so only the break can end b's call.
	stream := context.WithoutCancel(ctx)
	done := make(chan any, 1)
	go func() {
		var first any
		for s := range m.StreamCall(stream, "slow") {
			first = s.Result.Value()
			if s.Err != nil {
				first = s.Err
			}
			break
		}
		done <- first
	}()
	select {
	case first := <-done:
		if first != "fast a" {
			t.Fatalf("first streamed outcome %v, want fast a", first)
		}
	case <-ctx.Done():
		t.Fatalf("breaking out of StreamCall did not return: %v", ctx.Err())
	}
	// b's method did start (and is still waiting: the protocol cannot
	// cancel it); let it finish.
	select {
	case <-blocked:
	case <-ctx.Done():
		t.Fatal("b's slow method never ran")
	}
	releaseOnce.Do(func() { close(release) })

	if _, err := d.Select(ctx, "w", nil); !errors.Is(err, errcode.ServiceAmbiguous) {
		t.Fatalf("select with two providers: %v, want E_SERVICE_AMBIGUOUS", err)
	}
	s, err := d.Select(ctx, "w", &remote.SelectOptions{Where: remote.MatchClient("app-a")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Call(ctx, "hello", "one")
	peertest.Value(t, "selected app-a", res, err, "hello one from a")
	if one := d.SelectMulticast("w", remote.MatchClient("app-b")); one.Len() != 1 {
		t.Fatalf("multicast where app-b: %d peers", one.Len())
	}
	if none := d.SelectMulticast("nobody", nil); none.Len() != 0 || len(none.Call(ctx, "x")) != 0 {
		t.Fatalf("multicast over a token nobody provides: %d peers", none.Len())
	}
}
