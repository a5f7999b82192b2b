package daemon_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// shortDir returns a private directory short enough for socket paths.
func shortDir(t testing.TB) string {
	dir, err := os.MkdirTemp("/tmp", "nxd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// served checks that a normal client can dial the daemon at path (with
// token, "" for none) and get calc.add(2, 3) answered within timeout.
func served(t testing.TB, path, token string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := client.Dial(ctx, client.Address{AppID: "test"}, &client.Options{SocketPath: path, Token: token})
	if err != nil {
		t.Fatalf("a normal client cannot connect: %v", err)
	}
	defer c.Close()
	res, err := c.Service("calc").Call(ctx, "add", 2, 3)
	if err != nil || res.Value() != 5.0 {
		t.Fatalf("a normal client is not served: add(2, 3) = %v, %v", res.Value(), err)
	}
}

type calc struct {
	Total  float64             `json:"total"`
	Label  string              // JS "label"
	Nested struct{ Depth int } `json:"nested"`
	Notes  map[string]any      `json:"notes"`
}

func (c *calc) Add(a, b float64) float64 { return a + b }
func (c *calc) Div(a, b float64) (float64, error) {
	if b == 0 {
		return 0, errcode.New("E_DIV_ZERO", "division by zero")
	}
	return a / b, nil
}
func (c *calc) GetHTTPStatus() int { return 200 }
func (c *calc) NexusNames() map[string]string {
	return map[string]string{"httpStatus": "GetHTTPStatus"}
}
func (c *calc) Twice(ctx context.Context, fn func(context.Context, int) (int, error)) (int, error) {
	a, err := fn(ctx, 1)
	if err != nil {
		return 0, err
	}
	b, err := fn(ctx, 2)
	return a + b, err
}

func start(t *testing.T, opts daemon.Options) *daemon.Daemon {
	t.Helper()
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(shortDir(t), "d.sock")
	}
	if opts.AppID == "" {
		opts.AppID = "test"
	}
	d, err := daemon.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Provide("calc", &calc{Notes: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func dial(t *testing.T, d *daemon.Daemon, opts *client.Options) *client.Client {
	t.Helper()
	if opts == nil {
		opts = &client.Options{}
	}
	opts.SocketPath = d.Path()
	c, err := client.Dial(context.Background(), client.Address{AppID: "test"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServiceAdapter(t *testing.T) {
	d := start(t, daemon.Options{})
	c := dial(t, d, nil)
	ctx := context.Background()
	svc := c.Service("calc")
	check := func(res client.Result, err error, want any) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if res.Value() != want {
			t.Fatalf("got %#v, want %#v", res.Value(), want)
		}
	}
	res, err := svc.Call(ctx, "add", 2, 3)
	check(res, err, 5.0)
	res, err = svc.Call(ctx, "httpStatus")
	check(res, err, 200.0)
	if _, err := svc.Call(ctx, "getHTTPStatus"); !errors.Is(err, errcode.TargetNotCallable) {
		t.Fatalf("renamed method still reachable: %v", err)
	}
	_, err = svc.Call(ctx, "div", 1, 0)
	var re *protocol.RemoteError
	if !errors.As(err, &re) || re.Code != "E_DIV_ZERO" || re.Message != "division by zero" {
		t.Fatalf("div: %v", err)
	}
	res, err = svc.Call(ctx, "twice", func(i int) int { return i * 10 })
	check(res, err, 30.0)

	// properties
	if err := svc.Set(ctx, "total", 12); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Get(ctx, "total")
	check(res, err, 12.0)
	if err := svc.Set(ctx, "label", "x"); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Get(ctx, "label")
	check(res, err, "x")
	if err := svc.Set(ctx, "nested.depth", 3); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Get(ctx, "nested.depth")
	check(res, err, 3.0)
	if err := svc.Set(ctx, "notes.k", "v"); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Get(ctx, "notes.k")
	check(res, err, "v")
	res, err = svc.Get(ctx, "missing")
	check(res, err, protocol.Undefined{})
	if err := svc.Set(ctx, "total", "not a number"); !errors.Is(err, errcode.InvalidServicePath) {
		t.Fatalf("bad set: %v", err)
	} else if re := (*protocol.RemoteError)(nil); !errors.As(err, &re) || strings.Contains(re.Message, "E_") {
		t.Fatalf("bad set: the message repeats a code: %v", err)
	}

	// the whole service: fields by value, methods as references
	res, err = svc.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	whole := res.Value().(*protocol.Object)
	if protocol.Get(whole, "total") != 12.0 {
		t.Fatalf("whole service: %v", whole.Keys())
	}
	add, ok := client.AsRef(protocol.Get(whole, "add"))
	if !ok {
		t.Fatalf("add is not a reference: %#v", protocol.Get(whole, "add"))
	}
	res, err = add.Invoke(ctx, 20, 22)
	check(res, err, 42.0)

	// JS error codes for bad calls
	for _, tc := range []struct {
		err  error
		code errcode.Code
	}{
		{second(svc.Call(ctx, "nosuch")), errcode.TargetNotCallable},
		{second(svc.Call(ctx, "total")), errcode.TargetNotCallable},
		{second(svc.Call(ctx, "__proto__.x")), errcode.InvalidServicePath},
		{second(svc.Get(ctx, "constructor")), errcode.InvalidServicePath},
		{second(svc.Call(ctx, "prototype")), errcode.InvalidServicePath},
		{svc.Set(ctx, "", 1), errcode.SetOnRoot},
		{second(c.Service("nope").Call(ctx, "x")), errcode.ResourceNotFound},
	} {
		if !errors.Is(tc.err, tc.code) {
			t.Errorf("want %s, got %v", tc.code, tc.err)
		}
	}
}

func second(_ client.Result, err error) error { return err }

// A resource of one connection is E_RESOURCE_ACCESS_DENIED on another.
func TestResourceAccessDenied(t *testing.T) {
	d := start(t, daemon.Options{})
	d.Provide("refs", map[string]any{"make": func() session.Invoker { return bind.Ref(&calc{}) }})
	a := dial(t, d, nil)
	b := dial(t, d, nil)
	ctx := context.Background()
	res, err := a.Service("refs").Call(ctx, "make")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := res.Ref()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Session().Request(ctx, session.OpApply, protocol.Callee{ResourceID: ref.ID(), Path: []string{"add"}}, []any{1, 2})
	if !errors.Is(err, errcode.ResourceAccessDenied) {
		t.Fatalf("got %s %v", raw, err)
	}
	if _, err := b.Session().Request(ctx, session.OpApply, protocol.Callee{ResourceID: "res-999999", Path: []string{}}, []any{}); !errors.Is(err, errcode.ResourceNotFound) {
		t.Fatalf("unknown resource: %v", err)
	}
}

func TestLateProviderAndPolicy(t *testing.T) {
	var seen sync.Map
	d := start(t, daemon.Options{Policy: daemon.Policy{
		CanConnect: func(c *daemon.Conn) bool {
			seen.Store("facts", c.Observed())
			return protocol.Get(c.Identity(), "appId") != "blocked"
		},
		CanCall: func(c *daemon.Conn, service string, path []string, op session.Op) bool {
			return !(service == "calc" && len(path) > 0 && path[0] == "div")
		},
	}})
	c := dial(t, d, &client.Options{AppID: "ok"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Provide("late", map[string]any{"hi": func() string { return "hi" }}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitProvider(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Service("calc").Call(ctx, "div", 1, 1); !errors.Is(err, errcode.AuthCallDenied) {
		t.Fatalf("canCall: %v", err)
	}
	f, _ := seen.Load("facts")
	if facts := f.(session.Observed); facts.PID != os.Getpid() || facts.UID != os.Getuid() {
		t.Fatalf("peer credentials %+v", facts)
	}
	_, err := client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: d.Path(), AppID: "blocked"})
	if !errors.Is(err, errcode.AuthConnectDenied) {
		t.Fatalf("canConnect: %v", err)
	}
}

// rawConn dials the daemon without the client package.
func rawConn(t *testing.T, d *daemon.Daemon) (net.Conn, *protocol.FrameReader) {
	nc, err := net.Dial("unix", d.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	return nc, protocol.NewFrameReader(nc, 0)
}

// With RefuseLegacy, a 0.x REQ (no capabilities) is refused byte for byte
// as a JS 1.2.0 daemon refuses it; so is a 1.x REQ whose capabilities lack
// provider-catalog-v1, with or without the option.
func TestRefusesPeerWithoutCapability(t *testing.T) {
	for _, tc := range []struct {
		name, req string
		refuse    bool
	}{
		{"legacy refused", `[10,1,{"context":"node-ipc-client","appId":"old","pid":1},null]`, true},
		{"legacy 3 elements refused", `[10,1,{"context":"node-ipc-client","appId":"old","pid":1}]`, true},
		{"no catalog capability", `[10,1,{"context":"node-ipc-client","appId":"new","pid":1},null,["other"]]`, false},
		{"empty capabilities", `[10,1,{"context":"node-ipc-client","appId":"new","pid":1},null,[]]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, daemon.Options{RefuseLegacy: tc.refuse})
			nc, fr := rawConn(t, d)
			b, _ := protocol.AppendFrame(nil, []byte(tc.req), 0)
			nc.Write(b)
			got, err := fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != `[12,1,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]` {
				t.Fatalf("got %s", got)
			}
			if _, err := fr.ReadFrame(); err == nil {
				t.Fatal("connection not closed after the reject")
			}
		})
	}
}

// Peers that never finish pre-auth or the handshake are timed out.
func TestSetupTimeouts(t *testing.T) {
	d := start(t, daemon.Options{Token: "t", AuthTimeout: 100 * time.Millisecond})
	nc, _ := rawConn(t, d)
	start := time.Now()
	if _, err := nc.Read(make([]byte, 1)); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("pre-auth not timed out: %v", err)
	}
	d2 := start2(t, daemon.Options{HandshakeTimeout: 100 * time.Millisecond})
	nc2, _ := rawConn(t, d2)
	start = time.Now()
	if _, err := nc2.Read(make([]byte, 1)); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("handshake not timed out: %v", err)
	}
	// A wrong token is closed without a reply; the right one gets the ok line.
	nc3, _ := rawConn(t, d)
	nc3.Write(protocol.AppendAuthRequest(nil, "wrong"))
	if n, err := nc3.Read(make([]byte, 64)); err == nil {
		t.Fatalf("got %d bytes for a wrong token", n)
	}
	nc4, _ := rawConn(t, d)
	nc4.Write(protocol.AppendAuthRequest(nil, "t"))
	line, err := bufio.NewReader(nc4).ReadString('\n')
	if err != nil || line != protocol.AuthOKLine {
		t.Fatalf("ok line %q %v", line, err)
	}
}

func start2(t *testing.T, opts daemon.Options) *daemon.Daemon { return start(t, opts) }

func TestSocketSafety(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "rt", "d.sock")
	d := start(t, daemon.Options{SocketPath: path})
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("runtime dir mode %v %v", fi.Mode(), err)
	}
	// a second daemon on a live path
	d2, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: path})
	if err := d2.Listen(); !errors.Is(err, errcode.IPCAddressInUse) {
		t.Fatalf("live path: %v", err)
	}
	// Close removes the socket file; a stale socket is cleaned up
	d.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	ln, _ := net.Listen("unix", path)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // a socket file nobody accepts on
	d3, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: path})
	if err := d3.Listen(); err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	d3.Close()
	// a regular file and a symlink are never removed
	os.WriteFile(path, []byte("keep"), 0o600)
	d4, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: path})
	if err := d4.Listen(); !errors.Is(err, errcode.IPCStaleSocketCleanupFailed) {
		t.Fatalf("regular file: %v", err)
	}
	os.Remove(path)
	os.Symlink("/etc/passwd", path)
	if err := d4.Listen(); !errors.Is(err, errcode.IPCStaleSocketCleanupFailed) {
		t.Fatalf("symlink: %v", err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatal("symlink removed")
	}
	// symlinked runtime dir, broad permissions, not a directory
	os.Symlink(dir, filepath.Join(dir, "link"))
	for _, tc := range []struct {
		path string
		msg  string
	}{
		{filepath.Join(dir, "link", "d.sock"), "symlink"},
		{filepath.Join(dir, "link", "sub", "d.sock"), "symlink"},
	} {
		dd, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: tc.path})
		if err := dd.Listen(); !errors.Is(err, errcode.IPCAddressInvalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	dd, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: filepath.Join(open, "d.sock")})
	if err := dd.Listen(); !errors.Is(err, errcode.IPCAddressInvalid) || !strings.Contains(err.Error(), "too broad") {
		t.Errorf("open dir: %v", err)
	}
	if _, err := daemon.New(&daemon.Options{AppID: "a/b"}); !errors.Is(err, errcode.IPCAddressInvalid) {
		t.Errorf("bad appId: %v", err)
	}
}

// Many clients at once; every goroutine of the daemon stops on Close.
func TestManyConnections(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	d := start(t, daemon.Options{})
	ctx := context.Background()
	clients := make([]*client.Client, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial(ctx, client.Address{AppID: "test"}, &client.Options{SocketPath: d.Path()})
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
			if res, err := c.Service("calc").Call(ctx, "add", i, 1); err != nil || res.Value() != float64(i+1) {
				errs <- errors.Join(err, errors.New("wrong sum"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(d.Conns()); got != n {
		t.Fatalf("%d connections, want %d", got, n)
	}
	for _, c := range clients {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(d.Conns()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(d.Conns()); got != 0 {
		t.Fatalf("%d connections left after the clients closed", got)
	}
	d.Close()
}

// Shutdown waits for calls in flight, within its context.
func TestShutdown(t *testing.T) {
	d := start(t, daemon.Options{})
	release := make(chan struct{})
	d.Provide("slow", map[string]any{"wait": func() string { <-release; return "done" }})
	c := dial(t, d, nil)
	result := make(chan error, 1)
	go func() {
		res, err := c.Service("slow").Call(context.Background(), "wait")
		if err == nil && res.Value() != "done" {
			err = errors.New("wrong result")
		}
		result <- err
	}()
	for len(d.Conns()) == 0 || d.Conns()[0].Session().InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	go func() { time.Sleep(100 * time.Millisecond); close(release) }()
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-result; err != nil {
		t.Fatalf("call in flight: %v", err)
	}
	if _, err := os.Lstat(d.Path()); !os.IsNotExist(err) {
		t.Fatal("socket file left after Shutdown")
	}
}

// Shutdown gives up when its context ends first.
func TestShutdownDeadline(t *testing.T) {
	d := start(t, daemon.Options{})
	release := make(chan struct{})
	defer close(release)
	d.Provide("slow", map[string]any{"wait": func(ctx context.Context) string {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "done"
	}})
	c := dial(t, d, nil)
	go c.Service("slow").Call(context.Background(), "wait")
	for len(d.Conns()) == 0 || d.Conns()[0].Session().InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}
