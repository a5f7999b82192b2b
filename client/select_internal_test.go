package client

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
)

type lateService struct{}

func (lateService) Ping() string { return "pong" }

// TestSelectSeesProviderArrivingBeforeItWaits: a provider announced after
// Select checked the catalogs but before it waits must wake it (an
// earlier version lost that wakeup and waited until its context ended).
func TestSelectSeesProviderArrivingBeforeItWaits(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "nxs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d, err := daemon.New(&daemon.Options{AppID: "sel", SocketPath: filepath.Join(dir, "d.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	target := Address{AppID: "sel"}
	pool := NewPool(&Options{SocketPath: d.Path()}, &target)
	defer pool.Close()
	c, err := pool.Client(ctx, target)
	if err != nil {
		t.Fatal(err)
	}

	selectWaitHook = func() {
		selectWaitHook = nil
		if err := d.Provide("late", lateService{}); err != nil {
			t.Error(err)
		}
		// Let the announcement reach the client's catalog before Select
		// waits.
		for !slices.Contains(c.Providers(), "late") {
			if ctx.Err() != nil {
				t.Error("PROVIDER_AVAILABLE never arrived")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Cleanup(func() { selectWaitHook = nil })
	svc, err := pool.Select(ctx, "late", nil)
	if err != nil {
		t.Fatalf("Select: %v (the provider had arrived)", err)
	}
	res, err := svc.Call(ctx, "ping")
	if err != nil || res.Value() != "pong" {
		t.Fatalf("late.ping: %v %v", res.Value(), err)
	}
}
