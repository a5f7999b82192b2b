package protocol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
)

// readApplies reads n frames from r and returns the string argument of
// each APPLY, in the order read.
func readApplies(t *testing.T, r net.Conn, n int) []string {
	t.Helper()
	fr := NewFrameReader(r, 0)
	var got []string
	for len(got) < n {
		body, err := fr.ReadFrame()
		if err != nil {
			t.Errorf("after %d frames: %v", len(got), err)
			return got
		}
		p, err := DecodePacket(body, nil)
		if err != nil {
			t.Errorf("frame %d: %v", len(got), err)
			return got
		}
		args, err := DecodeArgs(p.(*ApplyPacket).Args)
		if err != nil {
			t.Errorf("frame %d args: %v", len(got), err)
			return got
		}
		got = append(got, args[0].(string))
	}
	return got
}

// waitWriting waits until a sender is writing for everyone.
func waitWriting(w *FrameWriter) {
	for {
		w.mu.Lock()
		writing := w.writing
		w.mu.Unlock()
		if writing {
			return
		}
		runtime.Gosched()
	}
}

func apply(id int, arg string) *ApplyPacket {
	args, _ := AppendValue(nil, []any{arg}, nil)
	return &ApplyPacket{ID: NumID(float64(id)), Callee: Callee{Path: []string{"svc", "m"}}, Args: Raw(args)}
}

// TestFrameWriterConcurrentSenders: frames of many concurrent senders,
// small and big (written from their own buffers), arrive whole.
func TestFrameWriterConcurrentSenders(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewFrameWriter(a, FrameWriterConfig{})
	const n = 64
	big := strings.Repeat("x", bigPayload+1)
	done := make(chan []string, 1)
	go func() { done <- readApplies(t, b, n) }()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			arg := fmt.Sprint(i)
			if i%8 == 0 {
				arg = big + arg
			}
			if err := w.Write(context.Background(), apply(i+1, arg)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := <-done
	seen := map[string]bool{}
	for _, s := range got {
		seen[s] = true
	}
	for i := range n {
		arg := fmt.Sprint(i)
		if i%8 == 0 {
			arg = big + arg
		}
		if !seen[arg] {
			t.Fatalf("frame %d missing or damaged", i)
		}
	}
}

// TestFrameWriterQueueIsBoundedInBytes: while the peer does not read, a
// sender waits once MaxQueued bytes are queued and returns at its deadline
// with E_CALL_TIMEOUT; the queue never holds more than the bound plus the
// frame that crossed it.
func TestFrameWriterQueueIsBoundedInBytes(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	const limit = 64 << 10
	w := NewFrameWriter(a, FrameWriterConfig{MaxQueued: limit})
	// The first sender writes for everyone and blocks: nobody reads.
	first := make(chan error, 1)
	go func() { first <- w.Write(context.Background(), apply(1, "first")) }()
	waitWriting(w)
	frame := strings.Repeat("y", 1000)
	var timedOut error
	for i := 0; timedOut == nil; i++ {
		if i > 10*limit/len(frame) {
			t.Fatal("the queue grew past ten times its bound")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		timedOut = w.Write(ctx, apply(i+2, frame))
		cancel()
		w.mu.Lock()
		q := w.queued
		w.mu.Unlock()
		if q > limit+len(frame)+64 {
			t.Fatalf("queued %d bytes, bound %d", q, limit)
		}
	}
	if !errors.Is(timedOut, errcode.CallTimeout) || !errors.Is(timedOut, context.DeadlineExceeded) {
		t.Fatalf("waiting sender: %v, want E_CALL_TIMEOUT", timedOut)
	}
	a.Close()
	if err := <-first; !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("the blocked writer after close: %v, want E_CONN_CLOSED", err)
	}
	w.Wait()
}

// TestFrameWriterInterruptedWriteIsDrained: a sender whose context ends
// in the middle of its write returns at once; the drain finishes the frame
// and the queue once the peer reads, so the stream stays well-formed.
func TestFrameWriterInterruptedWriteIsDrained(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewFrameWriter(a, FrameWriterConfig{})
	big := strings.Repeat("z", 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Write(ctx, apply(1, big)); !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("interrupted write: %v, want E_CALL_TIMEOUT", err)
	}
	next := make(chan error, 1)
	go func() { next <- w.Write(context.Background(), apply(2, "after")) }()
	got := readApplies(t, b, 2)
	if len(got) != 2 || got[0] != big || got[1] != "after" {
		t.Fatalf("read %d frames after the interruption", len(got))
	}
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	w.Wait()
}

// TestFrameWriterStallFails: a peer that takes no byte for StallTimeout
// fails the writer once, through OnFail, and later writes return the
// failure.
func TestFrameWriterStallFails(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var fails atomic.Int32
	failed := make(chan error, 1)
	w := NewFrameWriter(a, FrameWriterConfig{StallTimeout: 100 * time.Millisecond, OnFail: func(err error) {
		fails.Add(1)
		failed <- err
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Write(ctx, apply(1, "never read")); !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("interrupted write: %v", err)
	}
	if err := <-failed; !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("OnFail got %v, want E_CONN_CLOSED", err)
	}
	w.Wait()
	if err := w.Write(context.Background(), apply(2, "x")); !errors.Is(err, errcode.ConnClosed) {
		t.Fatalf("write after the failure: %v", err)
	}
	if n := fails.Load(); n != 1 {
		t.Fatalf("OnFail called %d times", n)
	}
}

// TestFrameWriterFailWakesWaiters: Fail returns its error to a sender
// waiting for space and to every later one.
func TestFrameWriterFailWakesWaiters(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := NewFrameWriter(a, FrameWriterConfig{MaxQueued: 1})
	blocked := make(chan error, 1)
	go func() { blocked <- w.Write(context.Background(), apply(1, "blocks")) }()
	waitWriting(w) // the frame being written is over the bound
	waiting := make(chan error, 1)
	go func() { waiting <- w.Write(context.Background(), apply(2, "waits")) }()
	cause := errcode.New(errcode.ConnClosed, "closed by the test")
	w.Fail(cause)
	if err := <-waiting; err != cause {
		t.Fatalf("waiting sender: %v, want the Fail error", err)
	}
	a.Close()
	if err := <-blocked; err != cause {
		t.Fatalf("the writing sender: %v, want the Fail error", err)
	}
	w.Wait()
}

// TestFrameWriterCork: a corked packet is queued, not written, until
// Flush.
func TestFrameWriterCork(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewFrameWriter(a, FrameWriterConfig{})
	if err := w.WritePooled(context.Background(), apply(1, "corked"), nil, Cork); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	queued := w.queued
	w.mu.Unlock()
	if queued == 0 {
		t.Fatal("the corked packet is not queued")
	}
	done := make(chan []string, 1)
	go func() { done <- readApplies(t, b, 1) }()
	w.Flush()
	if got := <-done; len(got) != 1 || got[0] != "corked" {
		t.Fatalf("after Flush: %v", got)
	}
}
