package daemon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
)

// gate is a service whose Wait blocks until the test opens it.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func (g *gate) Wait(ctx context.Context) (string, error) {
	g.entered <- struct{}{}
	select {
	case <-g.open:
		return "drained", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// serve runs d.Serve(ctx) in a goroutine and returns its result channel.
func serve(ctx context.Context, d *daemon.Daemon) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	return done
}

// dialWhenUp connects once the daemon accepts (Serve listens in its own
// goroutine).
func dialWhenUp(t *testing.T, ctx context.Context, sock string) *client.Client {
	t.Helper()
	for {
		c, err := client.Dial(ctx, client.Address{AppID: "test"}, &client.Options{SocketPath: sock})
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("daemon never accepted: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// gated is a daemon under Serve with a client call running in its gate.
type gated struct {
	sock   string
	gate   *gate
	stop   context.CancelFunc // what SIGINT does through signal.NotifyContext
	served <-chan error       // Serve's result
	result chan error         // the call's
	got    string             // the call's result, once result has sent
	tctx   context.Context
}

// startGated serves a gate with the given ShutdownTimeout and returns once
// a client's call is running inside it.
func startGated(t *testing.T, shutdown time.Duration) *gated {
	t.Helper()
	gd := &gated{sock: filepath.Join(shortDir(t), "d.sock"), result: make(chan error, 1)}
	d, err := daemon.New(&daemon.Options{AppID: "test", SocketPath: gd.sock, ShutdownTimeout: shutdown})
	if err != nil {
		t.Fatal(err)
	}
	gd.gate = &gate{entered: make(chan struct{}, 1), open: make(chan struct{})}
	d.Provide("gate", gd.gate)
	ctx, cancel := context.WithCancel(context.Background())
	gd.stop, gd.served = cancel, serve(ctx, d)
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(tcancel)
	gd.tctx = tctx
	c := dialWhenUp(t, tctx, gd.sock)
	go func() {
		r, err := c.Service("gate").Call(tctx, "wait")
		if err == nil {
			err = r.Decode(&gd.got)
		}
		gd.result <- err
	}()
	<-gd.gate.entered
	return gd
}

func TestServeDrainsCallsWhenContextEnds(t *testing.T) {
	gd := startGated(t, time.Minute)
	gd.stop()
	// The socket goes at once, while the call is still running.
	for {
		if _, err := os.Lstat(gd.sock); errors.Is(err, os.ErrNotExist) {
			break
		}
		select {
		case err := <-gd.served:
			t.Fatalf("Serve returned %v before the call in flight finished", err)
		case <-gd.tctx.Done():
			t.Fatal("socket file still there after the context ended")
		case <-time.After(time.Millisecond):
		}
	}
	close(gd.gate.open)
	if err := <-gd.result; err != nil || gd.got != "drained" {
		t.Fatalf("call in flight: %q, %v; want it to finish during the drain", gd.got, err)
	}
	if err := <-gd.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestServeCancelsCallsAfterShutdownTimeout(t *testing.T) {
	gd := startGated(t, 20*time.Millisecond)
	gd.stop()
	if err := <-gd.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := <-gd.result; !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("stuck call ended with %v, want E_CONN_CLOSED", err)
	}
}

func TestServeReturnsOnClose(t *testing.T) {
	d := start(t, daemon.Options{}) // Listen was called: Serve only waits
	done := serve(context.Background(), d)
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer tcancel()
	c := dialWhenUp(t, tctx, d.Path())
	if _, err := c.Service("calc").Call(tctx, "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if _, err := os.Lstat(d.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after Close: %v", err)
	}
}

func TestServeReturnsListenError(t *testing.T) {
	sock := filepath.Join(shortDir(t), "d.sock")
	if err := os.WriteFile(sock, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, _ := daemon.New(&daemon.Options{AppID: "test", SocketPath: sock})
	err := d.Serve(context.Background())
	if !errors.Is(err, errcode.IPCStaleSocketCleanupFailed) {
		t.Fatalf("Serve on a regular file: %v, want E_IPC_STALE_SOCKET_CLEANUP_FAILED", err)
	}
	d.Close()
	if err := d.Serve(context.Background()); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("Serve after Close: %v, want E_USAGE_INVALID", err)
	}
}
