package client_test

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// goService is the service of the in-test peer, built on the same session
// engine the Go daemon uses.
type goService struct{}

func (goService) Invoke(ctx context.Context, call *session.Call) (any, error) {
	switch call.Path[0] {
	case "echo":
		return call.Args[0], nil
	case "twice":
		fn := call.Args[0].(*session.RemoteRef)
		a, err := fn.Call(ctx, nil, 1)
		if err != nil {
			return nil, err
		}
		b, err := fn.Call(ctx, nil, 2)
		return []any{a, b}, err
	}
	return nil, errcode.New(errcode.TargetNotCallable, call.Path[0])
}

// serve runs a minimal peer on a real Unix socket: optional pre-auth, the
// server handshake, then a session with goService.
func serve(t *testing.T, token string, reject *protocol.RemoteError) string {
	return serveAs(t, "goapp", "default", token, reject)
}

func serveAs(t *testing.T, appID, instance, token string, reject *protocol.RemoteError) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "nxc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*session.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		os.RemoveAll(dir)
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(nc)
			if token != "" {
				line, err := protocol.ReadAuthLine(br, 0)
				if err != nil {
					nc.Close()
					continue
				}
				if tok, err := protocol.ParseAuthRequest(line); err != nil || tok != token {
					nc.Close()
					continue
				}
				nc.Write([]byte(protocol.AuthOKLine))
			}
			fr := protocol.NewFrameReader(br, 0)
			meta := protocol.NewObject("context", compat.DaemonContext, "appId", appID, "instance", instance, "pid", 1.0, "groups", []any{"g-" + instance})
			_, err = session.ServerHandshake(context.Background(), nc, fr, session.Hello{Metadata: meta, Providers: []string{"svc"}},
				func(*session.Peer) *protocol.RemoteError { return reject }, 0)
			if err != nil {
				nc.Close()
				continue
			}
			c := session.New(nc, fr, session.Config{Handler: goService{}})
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return path
}

func TestDialCallClose(t *testing.T) {

	path := serve(t, "", nil)
	ctx := context.Background()
	c, err := client.Dial(ctx, client.Address{AppID: "ignored"}, &client.Options{SocketPath: path, AppID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := protocol.Get(c.Daemon(), "appId"); got != "goapp" {
		t.Fatalf("daemon identity %v", got)
	}
	if p := c.Providers(); len(p) != 1 || p[0] != "svc" {
		t.Fatalf("providers %v", p)
	}
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Service("svc").Call(ctx, "echo", i)
			var n int
			if err == nil {
				err = res.Decode(&n)
			}
			if err != nil || n != i {
				t.Errorf("echo %d: %d %v", i, n, err)
			}
		}()
	}
	wg.Wait()
	res, err := c.Service("svc").Call(ctx, "twice", func(x int) int { return x * 100 })
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	if err := res.Decode(&got); err != nil || len(got) != 2 || got[1] != 200 {
		t.Fatalf("twice: %v %v", got, err)
	}
	c.Close()
	if _, err := c.Service("svc").Call(ctx, "echo", 1); !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	_, err := client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: "/tmp/nexus-go-no-such.sock"})
	var oserr *net.OpError
	if !errors.Is(err, errcode.IPCConnectFailed) || !errors.As(err, &oserr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("connect failed: %v", err)
	}
	// The path is named once, then the OS error.
	if want := "E_IPC_CONNECT_FAILED: Could not connect to Unix socket /tmp/nexus-go-no-such.sock: no such file or directory"; err.Error() != want {
		t.Fatalf("connect failed:\n got %s\nwant %s", err, want)
	}
	if _, err := client.Dial(ctx, client.Address{AppID: ""}, nil); !errors.Is(err, errcode.IPCAddressInvalid) {
		t.Fatalf("empty appId: %v", err)
	}
	_, err = client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{Resolve: func(client.Address) (string, error) { return "", nil }})
	if !errors.Is(err, errcode.IPCAddressInvalid) {
		t.Fatalf("unresolved: %v", err)
	}

	path := serve(t, "tok", nil)
	if _, err := client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: path, Token: "bad"}); !errors.Is(err, errcode.IPCAuthFailed) {
		t.Fatalf("wrong token: %v", err)
	}
	c, err := client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: path, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	// The daemon runs in this process: its credentials are ours.
	if f := c.Observed(); !f.Authenticated || f.AuthMethod != "shared-secret" || f.Socket != path || f.PID != os.Getpid() || f.UID != os.Getuid() {
		t.Fatalf("observed %+v", f)
	}
	c.Close()

	path = serve(t, "", &protocol.RemoteError{Code: "E_AUTH_CONNECT_DENIED", Name: "LogicalConnectionAuthDeniedError", Message: "no"})
	_, err = client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: path})
	var he *session.HandshakeError
	if !errors.As(err, &he) || !he.Remote || !errors.Is(err, errcode.AuthConnectDenied) || !errors.Is(err, errcode.HandshakeRejected) {
		t.Fatalf("reject: %v", err)
	}
}

// A reply line that is not the ok line is a protocol error.
func TestMalformedAuthReply(t *testing.T) {
	dir, _ := os.MkdirTemp("/tmp", "nxc")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		bufio.NewReader(nc).ReadString('\n')
		nc.Write([]byte("{\"type\":\"nope\"}\n"))
		time.Sleep(100 * time.Millisecond)
	}()
	_, err = client.Dial(context.Background(), client.Address{AppID: "x"}, &client.Options{SocketPath: path, Token: "t"})
	if !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("got %v", err)
	}
}

func TestPoolAndMatchers(t *testing.T) {
	paths := map[client.Address]string{
		{AppID: "a", Instance: "one"}: serveAs(t, "a", "one", "", nil),
		{AppID: "a", Instance: "two"}: serveAs(t, "a", "two", "", nil),
	}
	resolve := func(tg client.Address) (string, error) { return paths[tg], nil }
	def := client.Address{AppID: "a", Instance: "one"}
	pool := client.NewPool(&client.Options{Resolve: resolve}, &def)
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Select never dials: nothing is open yet, so it returns at once, even
	// with a context that never ends.
	if _, err := pool.Select(context.Background(), "svc", nil); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("select on empty pool: %v", err)
	}
	svc, err := pool.Service(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := pool.Client(ctx, def)
	c1again, _ := pool.Client(ctx, client.Address{AppID: "a", Instance: "one"})
	if c1 != c1again {
		t.Fatal("the pool did not reuse the session")
	}
	if _, err := svc.Call(ctx, "echo", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Client(ctx, client.Address{AppID: "a", Instance: "two"}); err != nil {
		t.Fatal(err)
	}
	sel, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchAll(client.MatchDaemon("a"), client.MatchInstance("two"))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sel.Call(ctx, "echo", "via two")
	if err != nil || res.Value() != "via two" {
		t.Fatalf("%v %v", res.Value(), err)
	}
	if _, err := pool.Select(ctx, "svc", &client.SelectOptions{Where: client.MatchGroup("g-two")}); err != nil {
		t.Fatalf("group: %v", err)
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := pool.Select(short, "svc", &client.SelectOptions{Where: client.MatchAny(client.MatchClient("a"), client.MatchDaemon("zzz"))}); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("no match: %v", err)
	}
	if _, err := pool.Select(short, "missing", &client.SelectOptions{Wait: true}); !errors.Is(err, errcode.ServiceWaitTimeout) {
		t.Fatalf("missing token: %v", err)
	}
}

// TestMaxAuthLine: the client's bound on the daemon's pre-auth reply (JS
// maxAuthLineBytes) is configurable; a reply longer than it is
// E_IPC_PROTOCOL_ERROR, as node-ipc refuses an over-long line.
func TestMaxAuthLine(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("/tmp", "nxa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d, err := daemon.New(&daemon.Options{AppID: "auth", Token: "s3cret", SocketPath: filepath.Join(dir, "d.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply := len(protocol.AuthOKLine)
	for _, tc := range []struct {
		max  int
		want errcode.Code
	}{{reply - 1, errcode.IPCProtocolError}, {reply, ""}, {0, ""}} {
		c, err := client.Dial(ctx, client.Address{AppID: "auth"}, &client.Options{SocketPath: d.Path(), Token: "s3cret", MaxAuthLine: tc.max})
		if tc.want == "" {
			if err != nil {
				t.Fatalf("MaxAuthLine %d: %v", tc.max, err)
			}
			c.Close()
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Fatalf("MaxAuthLine %d (the reply is %d bytes): %v, want %s", tc.max, reply, err, tc.want)
		}
	}
}
