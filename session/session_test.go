package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// testService is a small service table for Go <-> Go tests.
type testService struct{}

func (testService) Invoke(ctx context.Context, call *Call) (any, error) {
	if call.Service != "svc" || len(call.Path) != 1 {
		return nil, errcode.New(errcode.ResourceNotFound, fmt.Sprint("no ", call.Service, call.Path))
	}
	switch call.Path[0] {
	case "echo":
		return call.Args[0], nil
	case "fail":
		return nil, errcode.New("E_APP", "it failed")
	case "sleep":
		select {
		case <-time.After(10 * time.Second):
		case <-ctx.Done():
		}
		return "slept", nil
	case "callback":
		fn := call.Args[0].(*RemoteRef)
		n := int(call.Args[1].(float64))
		var wg sync.WaitGroup
		results := make([]any, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = fn.Call(ctx, nil, i)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		return results, nil
	case "spin": // computes for 1 ms without blocking
		for start := time.Now(); time.Since(start) < time.Millisecond; {
		}
		return "spun", nil
	case "panic":
		panic("boom")
	}
	return nil, errcode.New(errcode.TargetNotCallable, call.Path[0])
}

func pair(t *testing.T) (client, server *Conn) {
	t.Helper()
	return pairWith(t, Config{Handler: testService{}})
}

// pairWith is pair with the server's config.
func pairWith(t *testing.T, serverCfg Config) (client, server *Conn) {
	t.Helper()
	a, b := net.Pipe()
	type res struct {
		peer *Peer
		err  error
	}
	ch := make(chan res, 1)
	sfr := protocol.NewFrameReader(b, 0)
	go func() {
		p, err := ServerHandshake(context.Background(), b, sfr, Hello{Metadata: protocol.NewObject("context", "node-ipc-daemon", "appId", "t"), Providers: []string{"svc"}}, nil, 0)
		ch <- res{p, err}
	}()
	cfr := protocol.NewFrameReader(a, 0)
	peer, err := ClientHandshake(context.Background(), a, cfr, Hello{Metadata: protocol.NewObject("context", "node-ipc-client", "appId", "c")}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if peer.Providers[0] != "svc" || protocol.Get(peer.Identity, "appId") != "t" {
		t.Fatalf("peer %+v", peer)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	client = New(a, cfr, Config{})
	server = New(b, sfr, serverCfg)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func call(ctx context.Context, c *Conn, method string, args ...any) (any, error) {
	raw, err := c.Request(ctx, OpApply, protocol.Callee{Path: []string{"svc", method}}, args)
	if err != nil {
		return nil, err
	}
	return c.Decode(raw)
}

func TestEchoAndErrors(t *testing.T) {
	c, _ := pair(t)
	ctx := context.Background()
	v, err := call(ctx, c, "echo", protocol.NewMap("k", 1.0))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := v.(*protocol.Map); !ok || m.Len() != 1 {
		t.Fatalf("echo gave %#v", v)
	}
	_, err = call(ctx, c, "fail")
	var re *protocol.RemoteError
	if !errors.As(err, &re) || re.Code != "E_APP" || re.Message != "it failed" || !errors.Is(err, errcode.Code("E_APP")) {
		t.Fatalf("fail gave %v", err)
	}
	_, err = call(ctx, c, "panic")
	if !errors.Is(err, errcode.Unknown) {
		t.Fatalf("panic gave %v", err)
	}
}

// TestGoFuncNeedsBind: without Config.Bind a session passes Invokers by
// reference and refuses other functions with a usage error.
func TestGoFuncNeedsBind(t *testing.T) {
	c, _ := pair(t)
	_, err := call(context.Background(), c, "echo", func() {})
	if !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("a Go func without Bind: %v, want E_USAGE_INVALID", err)
	}
}

func TestCallbacksConcurrent(t *testing.T) {
	c, s := pair(t)
	var mu sync.Mutex
	seen := map[int]bool{}
	cb := Func(func(ctx context.Context, args []any) (any, error) {
		i := int(args[0].(float64))
		mu.Lock()
		seen[i] = true
		mu.Unlock()
		if i == -1 {
			return 0, errors.New("negative")
		}
		return i * 2, nil
	})
	v, err := call(context.Background(), c, "callback", cb, 100)
	if err != nil {
		t.Fatal(err)
	}
	arr := v.([]any)
	if len(arr) != 100 || arr[99].(float64) != 198 || len(seen) != 100 {
		t.Fatalf("got %v", arr)
	}
	_ = s
}

func TestCancelReturnsPromptly(t *testing.T) {
	c, _ := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := call(ctx, c, "sleep")
	if !errors.Is(err, errcode.CallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("cancellation was not prompt")
	}
}

func TestPeerCloseFailsPending(t *testing.T) {
	c, s := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := call(context.Background(), c, "sleep")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, errcode.ConnClosed) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("pending call did not fail within a second")
	}
	if _, err := call(context.Background(), c, "echo", 1); !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestReleaseDropsResource(t *testing.T) {
	c, s := pair(t)
	id, err := c.Register(Func(func(ctx context.Context, args []any) (any, error) { return "x", nil }))
	if err != nil {
		t.Fatal(err)
	}
	ref := &RemoteRef{conn: s, id: id}
	if v, err := ref.Call(context.Background(), nil); err != nil || v != "x" {
		t.Fatalf("call: %v %v", v, err)
	}
	if err := ref.Release(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for c.Resources() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c.Resources() != 0 {
		t.Fatal("resource not released")
	}
	if _, err := (&RemoteRef{conn: s, id: id}).Call(context.Background(), nil); !errors.Is(err, errcode.ResourceNotFound) {
		t.Fatalf("call after release: %v", err)
	}
}
