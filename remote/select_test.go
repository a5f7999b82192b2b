package remote

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// fakeSource is a Source over a list that tests change.
type fakeSource struct {
	changes Changes
	mu      sync.Mutex
	cands   []Candidate
}

func (f *fakeSource) source(string) ([]Candidate, []<-chan struct{}) {
	ch := f.changes.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Candidate(nil), f.cands...), []<-chan struct{}{ch}
}

func (f *fakeSource) add(c Candidate) {
	f.mu.Lock()
	f.cands = append(f.cands, c)
	f.mu.Unlock()
	f.changes.Notify()
}

func peer(appID string, provides bool, kv ...any) Candidate {
	id := protocol.NewObject(append([]any{"context", "node-ipc-client", "appId", appID}, kv...)...)
	return Candidate{Identity: id, Observed: session.Observed{PID: 7, UID: 1000}, Provides: provides}
}

func TestSelectCodes(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{cands: []Candidate{peer("a", true), peer("b", true, "role", "w"), peer("c", false, "role", "w")}}
	if _, err := Select(ctx, src.source, "svc", nil); !errors.Is(err, errcode.ServiceAmbiguous) {
		t.Fatalf("two providers: %v, want E_SERVICE_AMBIGUOUS", err)
	}
	s, err := Select(ctx, src.source, "svc", &SelectOptions{Where: MatchField("role", "w")})
	if err != nil || s.Token() != "svc" {
		t.Fatalf("one provider among the matches: %v", err)
	}
	if _, err := Select(ctx, src.source, "svc", &SelectOptions{Where: MatchClient("c")}); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Fatalf("a match that does not provide: %v, want E_SERVICE_NO_MATCH", err)
	}
	byUID := func(_ *protocol.Object, o session.Observed) bool { return o.UID == 1000 }
	if _, err := Select(ctx, src.source, "svc", &SelectOptions{Where: MatchAll(byUID, MatchClient("a"))}); err != nil {
		t.Fatalf("where on connection facts: %v", err)
	}
	if _, err := Select(ctx, src.source, "svc", &SelectOptions{Where: MatchClient("zz"), Wait: true, WaitTimeout: time.Millisecond}); !errors.Is(err, errcode.ServiceWaitTimeout) {
		t.Fatalf("wait that expires: %v, want E_SERVICE_WAIT_TIMEOUT", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Select(cctx, src.source, "svc", &SelectOptions{Where: MatchClient("zz"), Wait: true}); !errors.Is(err, errcode.Aborted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("wait whose context is cancelled: %v, want E_ABORTED wrapping context.Canceled", err)
	}
	dctx, cancel2 := context.WithDeadline(ctx, time.Now())
	defer cancel2()
	if _, err := Select(dctx, src.source, "svc", &SelectOptions{Where: MatchClient("zz"), Wait: true, WaitTimeout: -1}); !errors.Is(err, errcode.ServiceWaitTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait whose context's deadline passes: %v, want E_SERVICE_WAIT_TIMEOUT wrapping context.DeadlineExceeded", err)
	}
}

// TestSelectWaitSeesLateProvider: a provider that arrives after Select
// looked and before it waits must wake it (the change channel is taken
// with the list).
func TestSelectWaitSeesLateProvider(t *testing.T) {
	src := &fakeSource{}
	selectWaitHook = func() {
		selectWaitHook = nil
		src.add(peer("late", true))
	}
	t.Cleanup(func() { selectWaitHook = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := Select(ctx, src.source, "svc", &SelectOptions{Wait: true}); err != nil {
		t.Fatalf("Select: %v (the provider had arrived)", err)
	}
}

// TestSelectWaitsForProvider: Wait waits for a provider that comes later.
func TestSelectWaitsForProvider(t *testing.T) {
	src := &fakeSource{cands: []Candidate{peer("a", false)}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	waiting := make(chan struct{})
	selectWaitHook = func() { close(waiting) }
	t.Cleanup(func() { selectWaitHook = nil })
	go func() {
		_, err := Select(ctx, src.source, "svc", &SelectOptions{Wait: true, Where: MatchClient("b")})
		done <- err
	}()
	<-waiting
	selectWaitHook = nil
	src.add(peer("b", false)) // matches, but does not provide: still waiting
	src.mu.Lock()
	src.cands[1].Provides = true
	src.mu.Unlock()
	src.changes.Notify()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMatchers(t *testing.T) {
	o := session.Observed{}
	d := protocol.NewObject("context", "node-ipc-daemon", "appId", "app", "instance", "blue", "pid", 1.0, "groups", []any{"g1", "g2"})
	legacyStr := protocol.NewObject("context", "node-ipc-daemon", "appId", "app", "groups", "g1")
	cl := protocol.NewObject("context", "node-ipc-client", "appId", "app")
	for _, tc := range []struct {
		name string
		m    Matcher
		id   *protocol.Object
		want bool
	}{
		{"daemon", MatchDaemon("app"), d, true},
		{"daemon other app", MatchDaemon("x"), d, false},
		{"client is not daemon", MatchClient("app"), d, false},
		{"instance", MatchInstance("blue"), d, true},
		{"instance default", MatchInstance("default"), legacyStr, true},
		{"a client has no instance", MatchInstance("default"), cl, false},
		{"group in array", MatchGroup("g2"), d, true},
		{"group string", MatchGroup("g1"), legacyStr, true},
		{"group missing", MatchGroup("g3"), d, false},
		{"field", MatchField("pid", 1.0), d, true},
		{"all", MatchAll(MatchDaemon("app"), MatchGroup("g1")), d, true},
		{"all fails", MatchAll(MatchDaemon("app"), MatchGroup("zz")), d, false},
		{"any", MatchAny(MatchGroup("zz"), MatchInstance("blue")), d, true},
		{"nil matches", nil, d, true},
		{"nil identity", MatchDaemon("app"), nil, false},
	} {
		if got := tc.m.matches(tc.id, o); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
