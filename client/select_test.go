package client_test

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/peertest"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

type pinger struct{ name string }

func (p pinger) Ping() string { return "pong from " + p.name }

func selectDaemon(t *testing.T, dir, instance string, groups ...string) *daemon.Daemon {
	t.Helper()
	return peertest.Daemon(t, daemon.Options{AppID: "sel", Instance: instance, Groups: groups, SocketPath: filepath.Join(dir, instance+".sock")})
}

// TestPoolSelect: select's codes and wait over real sessions, and a
// multicast over two daemons.
func TestPoolSelect(t *testing.T) {
	dir := peertest.SocketDir(t)
	blue := selectDaemon(t, dir, "blue", "g-blue")
	red := selectDaemon(t, dir, "red")
	ctx := peertest.Ctx(t)
	pool := client.NewPool(&client.Options{Resolve: func(a client.Address) (string, error) {
		return filepath.Join(dir, a.Instance+".sock"), nil
	}}, nil)
	defer pool.Close()

	if _, err := pool.Select(ctx, "svc", nil); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("no session: %v, want E_SERVICE_NO_MATCH", err)
	}
	for _, inst := range []string{"blue", "red"} {
		if _, err := pool.Client(ctx, client.Address{AppID: "sel", Instance: inst}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait: the provider comes after Select started.
	got := make(chan error, 1)
	go func() {
		svc, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchInstance("blue"), Wait: true})
		if err == nil {
			var res client.Result
			res, err = svc.Call(ctx, "ping")
			if err == nil && res.Value() != "pong from blue" {
				err = errors.New("wrong answer")
			}
		}
		got <- err
	}()
	if err := blue.Provide("svc", pinger{"blue"}); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Select with Wait: %v", err)
	}
	if err := red.Provide("svc", pinger{"red"}); err != nil {
		t.Fatal(err)
	}
	// Both provide now; wait until the red catalog has it.
	if _, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchInstance("red"), Wait: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Select(ctx, "svc", nil); !errors.Is(err, errcode.ServiceAmbiguous) {
		t.Fatalf("two daemons: %v, want E_SERVICE_AMBIGUOUS", err)
	}
	if _, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchGroup("g-blue")}); err != nil {
		t.Fatalf("MatchGroup: %v", err)
	}
	if _, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchGroup("none"), Wait: true, WaitTimeout: 10 * time.Millisecond}); !errors.Is(err, errcode.ServiceWaitTimeout) {
		t.Fatalf("expired wait: %v, want E_SERVICE_WAIT_TIMEOUT", err)
	}

	m := pool.SelectMulticast("svc", nil)
	if m.Len() != 2 {
		t.Fatalf("multicast over %d daemons, want 2", m.Len())
	}
	seen := map[any]bool{}
	for _, s := range m.Call(ctx, "ping") {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		seen[s.Result.Value()] = true
	}
	n := 0
	for s := range m.StreamCall(ctx, "ping") {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		n++
	}
	if !seen["pong from blue"] || !seen["pong from red"] || n != 2 {
		t.Fatalf("multicast results %v, stream %d", seen, n)
	}
	for s := range m.StreamCall(ctx, "ping") {
		_ = s
		break // stopping early joins the other call
	}
}

// TestPoolUpdateIdentityAndProvide: the pool's UpdateIdentity and Provide
// reach its open sessions (IDENTITY_UPDATE, PROVIDER_AVAILABLE) and the
// sessions it opens later (in their handshake).
func TestPoolUpdateIdentityAndProvide(t *testing.T) {
	dir := peertest.SocketDir(t)
	one := selectDaemon(t, dir, "one")
	two := selectDaemon(t, dir, "two")
	ctx := peertest.Ctx(t)
	pool := client.NewPool(&client.Options{AppID: "pooled", Resolve: func(a client.Address) (string, error) {
		return filepath.Join(dir, a.Instance+".sock"), nil
	}}, nil)
	defer pool.Close()
	if _, err := pool.Client(ctx, client.Address{AppID: "sel", Instance: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := pool.UpdateIdentity(ctx, map[string]any{"role": "busy"}); err != nil {
		t.Fatal(err)
	}
	if err := pool.Provide("late", pinger{"pooled"}, nil); err != nil {
		t.Fatal(err)
	}
	busy := &client.SelectOptions{Where: client.MatchField("role", "busy"), Wait: true}
	for _, d := range []*daemon.Daemon{one, two} {
		if d == two {
			if _, err := pool.Client(ctx, client.Address{AppID: "sel", Instance: "two"}); err != nil {
				t.Fatal(err)
			}
		}
		svc, err := d.Select(ctx, "late", busy)
		if err != nil {
			t.Fatalf("daemon %s: %v", protocol.Get(d.Identity(), "instance"), err)
		}
		if res, err := svc.Call(ctx, "ping"); err != nil || res.Value() != "pong from pooled" {
			t.Fatalf("late.ping: %v %v", res.Value(), err)
		}
	}
	// The later session had both in its handshake.
	c := two.Conns()[0]
	if got := c.Providers(); len(got) != 1 || got[0] != "late" {
		t.Errorf("the later session's READY providers: %v", got)
	}
}

// TestDaemonIdentityBounded: a daemon whose IDENTITY_UPDATEs make its
// identity bigger than session.MaxPeerIdentity is disconnected by the
// client, which holds no more of it.
func TestDaemonIdentityBounded(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "big"})
	c := peertest.Dial(ctx, t, d, "big", nil)
	for i := 0; i < 3 && c.Err() == nil; i++ {
		d.UpdateIdentity(map[string]any{"k" + strconv.Itoa(i): strings.Repeat("v", session.MaxPeerIdentity/2)})
	}
	select {
	case <-c.Done():
		if !errors.Is(c.Err(), errcode.ProtocolError) {
			t.Fatalf("session ended with %v, want E_PROTOCOL_ERROR inside E_CONN_CLOSED", c.Err())
		}
	case <-ctx.Done():
		t.Fatal("the client kept a daemon identity past MaxPeerIdentity")
	}
}
