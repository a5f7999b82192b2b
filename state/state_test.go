package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/leakcheck"
	"github.com/nexus-interop/nexus-go/internal/peertest"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/state"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

type demo struct {
	Count float64 `json:"count"`
	Label string  `json:"label"`
}

func demoStore(opts *state.Options[demo]) *state.Store[demo] {
	s := state.New(demo{Label: "demo"}, opts)
	s.Action("increment", func(d *demo, n float64) float64 { d.Count += n; return d.Count })
	s.Action("rename", func(d *demo, l string) string { d.Label = l; return l })
	s.Action("fail", func(d *demo) error { return errcode.New("E_DEMO", "demo failure") })
	s.Action("noop", func(d *demo) float64 { return 1 })
	return s
}

// waitFor waits until the mirror's status and version satisfy ok.
func waitFor(ctx context.Context, t *testing.T, m *state.Mirror[demo], what string, ok func(state.Status) bool) {
	t.Helper()
	for {
		ch := m.Changed()
		if st := m.Status(); ok(st) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s: status %+v", what, m.Status())
		}
	}
}

func TestHostAndMirror(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	store := demoStore(&state.Options[demo]{PublishWindow: 20 * time.Millisecond})
	d := peertest.Daemon(t, daemon.Options{AppID: "st"})
	if err := d.Provide("demo-store", store.Service()); err != nil {
		t.Fatal(err)
	}
	c := peertest.Dial(ctx, t, d, "st", nil)
	m, err := state.Connect[demo](ctx, c.Service("demo-store"))
	if err != nil {
		t.Fatal(err)
	}
	if st := m.Status(); st.Kind != state.Ready || st.Version != 0 || st.StoreInstanceID != store.InstanceID() {
		t.Fatalf("after init: %+v", st)
	}
	if s, _ := m.State(); s.Label != "demo" || s.Count != 0 {
		t.Fatalf("state %+v", s)
	}
	res, err := m.Act(ctx, "increment", 2)
	if err != nil || res.Value() != 2.0 {
		t.Fatalf("increment: %v %v", res.Value(), err)
	}
	// The result came after the snapshot: the mirror has it already.
	if s, _ := m.State(); s.Count != 2 || m.Status().Version != 1 {
		t.Fatalf("after increment: %+v %+v", s, m.Status())
	}
	if res, err := m.Act(ctx, "noop"); err != nil || res.Value() != 1.0 || m.Status().Version != 1 {
		t.Fatalf("noop: %v %v %+v", res.Value(), err, m.Status())
	}
	_, err = m.Act(ctx, "fail")
	if !errors.Is(err, errcode.StoreAction) || !errors.Is(err, errcode.Code("E_DEMO")) {
		t.Fatalf("fail: %v, want E_STORE_ACTION caused by E_DEMO", err)
	}
	// A change from the host's side reaches the mirror.
	store.Update(func(d *demo) { d.Label = "host" })
	waitFor(ctx, t, m, "host update", func(st state.Status) bool { return st.Version == 2 })
	// Shutdown: terminal provider-shutdown.
	store.Close()
	waitFor(ctx, t, m, "shutdown", func(st state.Status) bool { return st.Kind == state.Disconnected })
	if st := m.Status(); st.Reason != state.ReasonProviderShutdown || st.Version != 2 {
		t.Fatalf("after shutdown: %+v", st)
	}
	if _, err := state.Connect[demo](ctx, c.Service("demo-store")); !errors.Is(err, errcode.StoreDisconnected) {
		t.Fatalf("subscribe after Close: %v", err)
	}
	m.Destroy()
}

func TestAuthorizationRevokedAndUnsubscribe(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	allowed := true
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	store := demoStore(&state.Options[demo]{PublishWindow: 10 * time.Millisecond, Authorize: func(context.Context) bool {
		<-mu
		defer func() { mu <- struct{}{} }()
		return allowed
	}})
	d := peertest.Daemon(t, daemon.Options{AppID: "st"})
	d.Provide("demo-store", store.Service())
	c := peertest.Dial(ctx, t, d, "st", nil)
	m1, err := state.Connect[demo](ctx, c.Service("demo-store"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := state.Connect[demo](ctx, c.Service("demo-store"))
	if err != nil {
		t.Fatal(err)
	}
	m2.Destroy() // unsubscribes: the host forgets it
	if st := m2.Status(); st.Kind != state.Destroyed {
		t.Fatalf("m2: %+v", st)
	}
	<-mu
	allowed = false
	mu <- struct{}{}
	store.Revalidate()
	waitFor(ctx, t, m1, "revoked", func(st state.Status) bool { return st.Kind == state.Disconnected })
	if st := m1.Status(); st.Reason != state.ReasonAuthorizationRevoked {
		t.Fatalf("m1: %+v", st)
	}
	if _, err := state.Connect[demo](ctx, c.Service("demo-store")); !errors.Is(err, errcode.AuthCallDenied) {
		t.Fatalf("refused subscribe: %v", err)
	}
	m1.Destroy()
	store.Close()
}

// TestStuckSubscriberCutOff: a subscriber that acknowledges nothing after
// its init is cut off once MaxPending deliveries wait (terminal
// source-disconnected), and a healthy mirror of the same store gets every
// change meanwhile.
func TestStuckSubscriberCutOff(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	store := demoStore(&state.Options[demo]{PublishWindow: time.Millisecond, MaxPending: 2, DeliveryTimeout: time.Hour})
	d := peertest.Daemon(t, daemon.Options{AppID: "st"})
	d.Provide("demo-store", store.Service())
	c := peertest.Dial(ctx, t, d, "st", &client.Options{CallTimeout: client.NoCallTimeout})
	healthy, err := state.Connect[demo](ctx, c.Service("demo-store"))
	if err != nil {
		t.Fatal(err)
	}
	defer healthy.Destroy()
	unblock := make(chan struct{})
	defer close(unblock)
	terminal := make(chan string, 1)
	stuck := func(ctx context.Context, env *protocol.Object) error {
		switch protocol.Get(env, "type") {
		case "init":
			return nil
		case "terminal":
			terminal <- protocol.Get(env, "reason").(string)
			return nil
		}
		select { // never acknowledged while the test runs
		case <-unblock:
		case <-ctx.Done():
		}
		return nil
	}
	if _, err := c.Service("demo-store").Call(ctx, "subscribe", stuck); err != nil {
		t.Fatal(err)
	}
	if n := store.Subscribers(); n != 2 {
		t.Fatalf("%d subscribers", n)
	}
	for i := 1; ; i++ {
		store.Update(func(d *demo) { d.Count = float64(i) })
		waitFor(ctx, t, healthy, "healthy mirror", func(st state.Status) bool { return st.Version == int64(i) })
		if store.Subscribers() == 1 {
			break // the stuck one was cut off
		}
		if i > 10 {
			t.Fatal("the stuck subscriber was never cut off")
		}
	}
	select {
	case reason := <-terminal:
		if reason != state.ReasonSourceDisconnected {
			t.Fatalf("terminal reason %q", reason)
		}
	case <-ctx.Done():
		t.Fatal("no terminal delivery to the stuck subscriber")
	}
	store.Close()
}
