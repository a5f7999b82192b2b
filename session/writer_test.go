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

// deafPeer returns a session whose peer never reads: every write on a
// net.Pipe blocks until the other end reads.
func deafPeer(t *testing.T, cfg Config) (*Conn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	c := New(a, protocol.NewFrameReader(a, 0), cfg)
	t.Cleanup(func() { c.Close(); b.Close() })
	return c, b
}

// returns runs f and fails the test if it has not returned after a minute
// (a hang guard, far beyond the deadlines under test).
func returns(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s is still blocked after a minute", what)
		return nil
	}
}

// TestRequestReturnsAtDeadlineWhenPeerStopsReading: a call whose peer does
// not read returns at its deadline with the context's error, both while it
// writes for everyone and while it waits for buffer space behind a stuck
// write; the session still ends cleanly.
func TestRequestReturnsAtDeadlineWhenPeerStopsReading(t *testing.T) {
	c, _ := deafPeer(t, Config{MaxBuffered: 1 << 10, WriteStallTimeout: time.Hour})
	target := protocol.Callee{Path: []string{"svc", "echo"}}
	big := strings.Repeat("x", 4<<10)

	// The writer: stuck in the socket write.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := returns(t, "a call writing to a deaf peer", func() error {
		_, err := c.Request(ctx, OpApply, target, []any{big})
		return err
	})
	if !errors.Is(err, errcode.CallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("writing call: %v, want E_CALL_TIMEOUT wrapping the deadline", err)
	}
	// A second caller: its frame does not fit behind the stuck one.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	err = returns(t, "a call waiting for buffer space", func() error {
		_, err := c.Request(ctx2, OpApply, target, []any{big})
		return err
	})
	if !errors.Is(err, errcode.CallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued call: %v, want E_CALL_TIMEOUT wrapping the deadline", err)
	}
	if c.Err() != nil {
		t.Fatalf("the session ended: %v", c.Err())
	}
	if err := returns(t, "Close with a write stuck", c.Close); err != nil {
		t.Fatal(err)
	}
}

// TestInterruptedWriteIsFinishedWhenPeerReadsAgain: the frames a caller
// gave up on are still written whole, so the stream stays in step when the
// peer reads again.
func TestInterruptedWriteIsFinishedWhenPeerReadsAgain(t *testing.T) {
	c, peer := deafPeer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	payload := strings.Repeat("y", 100<<10) // big: written from its own buffer
	err := returns(t, "a call writing to a deaf peer", func() error {
		_, err := c.Request(ctx, OpApply, protocol.Callee{Path: []string{"svc", "echo"}}, []any{payload})
		return err
	})
	if !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("call: %v", err)
	}
	// The peer reads again: the whole frame arrives, then a RELEASE sent
	// afterwards, intact.
	go c.Release("res-9")
	fr := protocol.NewFrameReader(peer, 0)
	b, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	p, err := protocol.DecodePacket(b, nil)
	if err != nil {
		t.Fatalf("first frame: %v", err)
	}
	if a, ok := p.(*protocol.ApplyPacket); !ok || !strings.Contains(string(a.Args), payload) {
		t.Fatalf("first frame is %T, not the whole APPLY", p)
	}
	b, err = fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if p, err := protocol.DecodePacket(b, nil); err != nil {
		t.Fatal(err)
	} else if r, ok := p.(*protocol.ReleasePacket); !ok || r.ResourceID != "res-9" {
		t.Fatalf("second frame: %#v", p)
	}
	if c.Err() != nil {
		t.Fatalf("the session ended: %v", c.Err())
	}
}

// TestDeafPeerEndsSessionAfterStall: once a caller gave up, a peer that
// takes no byte for WriteStallTimeout ends the session, which frees the
// queue and the goroutine that was writing it.
func TestDeafPeerEndsSessionAfterStall(t *testing.T) {
	c, _ := deafPeer(t, Config{WriteStallTimeout: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := returns(t, "a call writing to a deaf peer", func() error {
		_, err := c.Request(ctx, OpApply, protocol.Callee{Path: []string{"svc", "echo"}}, []any{"z"})
		return err
	}); !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("call: %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatal("the session is still open a minute after the peer stopped reading")
	}
	if err := c.Err(); !errors.Is(err, errcode.ConnClosed) || !strings.Contains(err.Error(), "stopped reading") {
		t.Fatalf("session ended with %v", err)
	}
}

// TestDeafPeerDoesNotPinAWorker: a reply, which has no caller's context,
// to a peer that sends a call and then never reads ends the session after
// WriteStallTimeout; the handler's goroutine is free again and Close
// returns.
func TestDeafPeerDoesNotPinAWorker(t *testing.T) {
	c, peer := deafPeer(t, Config{Handler: testService{}, WriteStallTimeout: 50 * time.Millisecond})
	args, _ := protocol.AppendValue(nil, []any{strings.Repeat("r", 1<<20)}, nil)
	frame, err := protocol.AppendPacketFrame(nil, &protocol.ApplyPacket{ID: protocol.NumID(1), Callee: protocol.Callee{Path: []string{"svc", "echo"}}, Args: protocol.Raw(args)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Write(frame); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatal("the session is still open a minute after the peer stopped reading its reply")
	}
	if err := c.Err(); !errors.Is(err, errcode.ConnClosed) || !strings.Contains(err.Error(), "stopped reading") {
		t.Fatalf("session ended with %v", err)
	}
	if err := returns(t, "Close", c.Close); err != nil {
		t.Fatal(err)
	}
	if n := c.InFlight(); n != 0 {
		t.Fatalf("%d calls still in flight", n)
	}
}

// TestHandshakeHonoursContext: both handshakes return at the deadline
// against a peer that never answers.
func TestHandshakeHonoursContext(t *testing.T) {
	for _, side := range []string{"client", "server"} {
		a, b := net.Pipe()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := returns(t, side+" handshake", func() error {
			fr := protocol.NewFrameReader(a, 0)
			hello := Hello{Metadata: protocol.NewObject("context", "node-ipc-client", "appId", "x")}
			var err error
			if side == "client" {
				_, err = ClientHandshake(ctx, a, fr, hello, nil, 0)
			} else {
				_, err = ServerHandshake(ctx, a, fr, hello, nil, 0)
			}
			return err
		})
		cancel()
		a.Close()
		b.Close()
		if !errors.Is(err, errcode.CallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s handshake: %v, want E_CALL_TIMEOUT wrapping the deadline", side, err)
		}
	}
}
