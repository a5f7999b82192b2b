package daemon_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/peertest"
	"github.com/nexus-interop/nexus-go/remote"
)

type limitSvc struct{}

func (limitSvc) Ping() string { return "pong" }

// TestClientCatalogBounded: a client that announces more services than
// MaxClientProviders is disconnected; the daemon holds no more of its
// catalog, and other clients go on.
func TestClientCatalogBounded(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "lim", MaxClientProviders: 3})
	d.Provide("demo", limitSvc{})
	c := peertest.Dial(ctx, t, d, "lim", nil)
	for i := range 4 {
		if err := c.Provide("svc"+strings.Repeat("x", i), limitSvc{}, nil); err != nil {
			break // the session may already be gone
		}
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("a client over MaxClientProviders was not disconnected")
	}
	other := peertest.Dial(ctx, t, d, "lim", nil)
	if _, err := other.Service("demo").Call(ctx, "ping"); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// Three announcements are fine (the limit is reached, not passed).
	ok := peertest.Dial(ctx, t, d, "lim", nil)
	for i := range 3 {
		if err := ok.Provide("svc"+strings.Repeat("y", i), limitSvc{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Select(ctx, "svcyy", &remote.SelectOptions{Wait: true}); err != nil {
		t.Fatalf("the third announcement: %v", err)
	}
}

// TestClientIdentityBounded: IDENTITY_UPDATEs that make a client's
// identity bigger than MaxHandshakeFrame disconnect it.
func TestClientIdentityBounded(t *testing.T) {
	t.Parallel()
	ctx := peertest.Ctx(t)
	d := peertest.Daemon(t, daemon.Options{AppID: "lim", MaxHandshakeFrame: 4096})
	c := peertest.Dial(ctx, t, d, "lim", nil)
	if err := c.UpdateIdentity(ctx, map[string]any{"small": "ok"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // 3 x 2 KiB: over 4 KiB at the second
		if err := c.UpdateIdentity(ctx, map[string]any{"k" + strings.Repeat("i", i): strings.Repeat("v", 2048)}); err != nil {
			break
		}
	}
	select {
	case <-c.Done():
		if !errors.Is(c.Err(), errcode.ConnClosed) {
			t.Fatalf("session ended with %v", c.Err())
		}
	case <-ctx.Done():
		t.Fatal("a client whose identity grew past MaxHandshakeFrame was not disconnected")
	}
}
