package provider

import (
	"context"
	"errors"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/leakcheck"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// TestMain fails the run when a goroutine outlives the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }

type svc struct{ n string }

func (s svc) Who() string { return s.n }

func TestProvideAnnounceAndReplace(t *testing.T) {
	tb := New[string]("daemon")
	if _, err := tb.Provide("", svc{}, nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Fatalf("empty token: %v", err)
	}
	if ann, err := tb.Provide("a", svc{"first"}, nil); err != nil || ann {
		t.Fatalf("before Start: announce %v, %v", ann, err)
	}
	if ann, err := tb.Provide("a", svc{"second"}, nil); err != nil || ann {
		t.Fatalf("again before Start: announce %v, %v (JS replaces silently)", ann, err)
	}
	if got := tb.Start(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("catalog %v", got)
	}
	if ann, err := tb.Provide("a", svc{"third"}, nil); err != nil || !ann {
		t.Fatalf("again after Start: announce %v, %v (JS announces it again)", ann, err)
	}
	if ann, _ := tb.Provide("b", svc{"b"}, nil); !ann || !tb.Has("b") || len(tb.Providers()) != 2 {
		t.Fatalf("new token after Start: %v %v", ann, tb.Providers())
	}
	res, err := tb.Invoke(context.Background(), &session.Call{Op: session.OpApply, Service: "a", Path: []string{"who"}})
	if err != nil || res != "third" {
		t.Fatalf("a.who: %v %v, want the last provided", res, err)
	}
	_, err = tb.Invoke(context.Background(), &session.Call{Op: session.OpApply, Service: "nope", Path: []string{"x"}})
	if !errors.Is(err, errcode.ResourceNotFound) {
		t.Fatalf("unknown service: %v", err)
	}
}

func TestAuthorizePolicies(t *testing.T) {
	tb := New[string]("client")
	allow := func(string, string, []string, session.Op) bool { return true }
	deny := func(string, string, []string, session.Op) bool { return false }
	panics := func(string, string, []string, session.Op) bool { panic("boom") }
	tb.Provide("own-allow", svc{}, allow)
	tb.Provide("own-deny", svc{}, deny)
	tb.Provide("plain", svc{}, nil)
	tb.Provide("own-panic", svc{}, panics)
	for _, tc := range []struct {
		service  string
		sideWide CanCall[string]
		ok       bool
	}{
		{"own-allow", deny, true},  // the service's own policy replaces the side-wide one
		{"own-deny", allow, false}, // both ways
		{"plain", deny, false},     // no own policy: the side-wide one
		{"plain", nil, true},       // none at all: allowed
		{"", deny, false},          // a callback: the side-wide one
		{"own-panic", allow, false},
	} {
		err := tb.Authorize("peer", &session.Call{Op: session.OpGet, Service: tc.service, Path: []string{"x"}}, tc.sideWide)
		if tc.ok != (err == nil) {
			t.Errorf("%q: %v, want allowed=%v", tc.service, err, tc.ok)
		}
		var re *protocol.RemoteError
		if err != nil && (!errors.As(err, &re) || re.Code != string(errcode.AuthCallDenied) || re.Message != "call denied by the client's policy") {
			t.Errorf("%q: denial %#v", tc.service, err)
		}
	}
}
