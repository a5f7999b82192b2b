// Package peertest holds the helpers that the client and daemon tests
// share for running a Go daemon and Go clients against each other over
// real Unix sockets: a daemon on a short socket path, clients dialling
// it, a test context, and checks of call outcomes. Everything it starts
// is closed when the test ends, so the packages' leak checks hold.
//
// Only tests may import it.
package peertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
)

// Ctx returns a context that ends after 20 seconds or when the test
// ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// SocketDir returns a new directory under /tmp, short enough for Unix
// socket paths (t.TempDir's can be too long); it is removed when the test
// ends.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "nxt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// NewDaemon returns a daemon made with opts that is not listening yet;
// an empty opts.SocketPath becomes d.sock in a new SocketDir. The daemon
// is closed when the test ends.
func NewDaemon(t testing.TB, opts daemon.Options) *daemon.Daemon {
	t.Helper()
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(SocketDir(t), "d.sock")
	}
	d, err := daemon.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Daemon is NewDaemon, listening.
func Daemon(t testing.TB, opts daemon.Options) *daemon.Daemon {
	t.Helper()
	d := NewDaemon(t, opts)
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	return d
}

// DialErr dials d for the target appID with opts (nil: the defaults),
// its SocketPath set to d's; a client is closed when the test ends.
func DialErr(ctx context.Context, t testing.TB, d *daemon.Daemon, appID string, opts *client.Options) (*client.Client, error) {
	t.Helper()
	var o client.Options
	if opts != nil {
		o = *opts
	}
	o.SocketPath = d.Path()
	c, err := client.Dial(ctx, client.Address{AppID: appID}, &o)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// Dial is DialErr, failing the test on an error.
func Dial(ctx context.Context, t testing.TB, d *daemon.Daemon, appID string, opts *client.Options) *client.Client {
	t.Helper()
	c, err := DialErr(ctx, t, d, appID, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Value fails the test unless a call named what succeeded with want.
func Value(t testing.TB, what string, res remote.Result, err error, want any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.Value() != want {
		t.Fatalf("%s = %#v, want %#v", what, res.Value(), want)
	}
}

// Ref fails the test unless a call named what succeeded with a ref, and
// returns that ref.
func Ref(t testing.TB, what string, res remote.Result, err error) *remote.Ref {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ref, err := res.Ref()
	if err != nil {
		t.Fatalf("%s: %#v is not a ref: %v", what, res.Value(), err)
	}
	return ref
}

// Denied fails the test unless err, of a call named what, is the
// remote side's *protocol.RemoteError E_AUTH_CALL_DENIED.
func Denied(t testing.TB, what string, err error) {
	t.Helper()
	var re *protocol.RemoteError
	if !errors.As(err, &re) || re.Code != string(errcode.AuthCallDenied) || !errors.Is(err, errcode.AuthCallDenied) {
		t.Fatalf("%s: %v, want a *protocol.RemoteError E_AUTH_CALL_DENIED", what, err)
	}
}

// Counter is a resource for services to hand out by reference (with
// bind.Ref): Inc counts up from Start, which never changes (JS "start").
type Counter struct {
	Start int

	mu sync.Mutex
	n  int
}

// NewCounter returns a Counter starting at start.
func NewCounter(start int) *Counter { return &Counter{Start: start, n: start} }

// Inc adds one and returns the count.
func (c *Counter) Inc() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}
