package session

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// ctService answers "never" only when the session ends (the peer never
// answers while the test runs), "late" after 100 ms, "echo" at once, and
// "callback" by calling its first argument (a remote function) with the
// caller's context, which has no deadline.
type ctService struct{}

func (ctService) Invoke(ctx context.Context, call *Call) (any, error) {
	switch call.Path[0] {
	case "never":
		<-ctx.Done()
		return nil, ctx.Err()
	case "late":
		t := time.NewTimer(100 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return "late", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "echo":
		return call.Args[0], nil
	case "callback":
		return call.Args[0].(*RemoteRef).Call(ctx, nil)
	}
	return nil, call.ResourceError(errcode.TargetNotCallable, call.Path[0])
}

// ctPair connects two sessions over an in-memory pipe (no handshake: the
// zero Generation is Core1): caller calls the service "svc" of server.
// Both are closed when the test ends (which cancels the handlers still
// waiting).
func ctPair(t *testing.T, caller, server Config) (*Conn, *Conn) {
	t.Helper()
	a, b := net.Pipe()
	if server.Handler == nil {
		server.Handler = ctService{}
	}
	c := New(a, protocol.NewFrameReader(a, 0), caller)
	s := New(b, protocol.NewFrameReader(b, 0), server)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func ctCall(ctx context.Context, c *Conn, method string, args ...any) (any, error) {
	if args == nil {
		args = []any{}
	}
	raw, err := c.Apply(ctx, protocol.Callee{Path: []string{"svc", method}}, args)
	if err != nil {
		return nil, err
	}
	return c.Decode(raw)
}

// A call without a context deadline whose peer never answers fails with
// E_CALL_TIMEOUT after the session's CallTimeout, naming it; the session
// stays usable.
func TestCallTimeoutFailsUnansweredCall(t *testing.T) {
	t.Parallel()
	c, _ := ctPair(t, Config{CallTimeout: 50 * time.Millisecond}, Config{})
	_, err := ctCall(context.Background(), c, "never")
	if !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("unanswered call: %v, want E_CALL_TIMEOUT", err)
	}
	if !strings.Contains(err.Error(), "50 ms") {
		t.Fatalf("the message does not name the timeout: %q", err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Fatalf("the session's timeout is not a context error: %v", err)
	}
	if c.Err() != nil {
		t.Fatalf("the timeout ended the session: %v", c.Err())
	}
	// A call the peer answers in time still succeeds on the same session.
	v, err := ctCall(context.Background(), c, "echo", "still open")
	if err != nil || v != "still open" {
		t.Fatalf("echo after a timeout: %v, %v", v, err)
	}
}

// A context with a deadline of its own wins over a shorter CallTimeout:
// the call answered after 100 ms succeeds.
func TestCallTimeoutContextDeadlineWins(t *testing.T) {
	t.Parallel()
	c, _ := ctPair(t, Config{CallTimeout: 50 * time.Millisecond}, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := ctCall(ctx, c, "late")
	if err != nil || v != "late" {
		t.Fatalf("late answer with a 10 s context: %v, %v", v, err)
	}
	// A context that can be cancelled but has no deadline does not
	// override: the session's timeout still applies.
	cctx, ccancel := context.WithCancel(context.Background())
	defer ccancel()
	if _, err := ctCall(cctx, c, "never"); !errors.Is(err, errcode.CallTimeout) || !strings.Contains(err.Error(), "50 ms") {
		t.Fatalf("cancellable context without a deadline: %v, want the session's E_CALL_TIMEOUT", err)
	}
}

// CallTimeout 0 is no bound: a call answered after 100 ms succeeds with a
// context that never ends.
func TestCallTimeoutZeroMeansNone(t *testing.T) {
	t.Parallel()
	c, _ := ctPair(t, Config{}, Config{})
	v, err := ctCall(context.Background(), c, "late")
	if err != nil || v != "late" {
		t.Fatalf("late answer without a call timeout: %v, %v", v, err)
	}
}

// The timeout bounds calls on a RemoteRef too: the server calls the
// caller's callback, which never answers, with a context without a
// deadline, and gets E_CALL_TIMEOUT from its own session's CallTimeout.
func TestCallTimeoutBoundsRemoteRefCalls(t *testing.T) {
	t.Parallel()
	c, _ := ctPair(t, Config{}, Config{CallTimeout: 50 * time.Millisecond})
	never := Func(func(ctx context.Context, _ []any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ctCall(ctx, c, "callback", never)
	var re *protocol.RemoteError
	if !errors.As(err, &re) || re.Code != string(errcode.CallTimeout) || !strings.Contains(re.Message, "50 ms") {
		t.Fatalf("callback never answered: %v, want the server's E_CALL_TIMEOUT naming 50 ms", err)
	}
}

// CallTimeoutOption maps the client's and daemon's CallTimeout option to
// Config.CallTimeout: 0 is JS's 5 s default, negative is no bound.
func TestCallTimeoutOption(t *testing.T) {
	t.Parallel()
	if DefaultCallTimeout != 5*time.Second {
		t.Fatalf("DefaultCallTimeout = %v, want 5s (JS's callTimeout)", DefaultCallTimeout)
	}
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 5 * time.Second},
		{-1, 0},
		{NoCallTimeout, 0},
		{-time.Hour, 0},
		{3 * time.Second, 3 * time.Second},
		{time.Millisecond, time.Millisecond},
	} {
		if got := CallTimeoutOption(tc.in); got != tc.want {
			t.Errorf("CallTimeoutOption(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
