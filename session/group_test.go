package session

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// watchdogs returns how many watchdog goroutines exist in the process.
func watchdogs() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "session.(*Group).watch(")
}

// TestCloseJoinsItsWatchdog: a session that is a group of its own stops and
// joins its watchdog in Close; nothing keeps running after it returns.
func TestCloseJoinsItsWatchdog(t *testing.T) {
	c, s := pair(t)
	ctx, cancel := context.WithCancel(context.Background())
	called := make(chan error, 1)
	go func() { _, err := call(ctx, c, "sleep"); called <- err }()
	// While the handler runs the watchdog must exist: wait for it.
	for watchdogs() == 0 {
		runtime.Gosched()
	}
	cancel()
	<-called
	c.Close()
	s.Close() // ends the sleeping handler, whose session this is
	// A joined watchdog may still be on its way out (its deferred Done is
	// its last act): yield a bounded number of times, as leakcheck does.
	n := watchdogs()
	for i := 0; n != 0 && i < 1000; i++ {
		runtime.Gosched()
		n = watchdogs()
	}
	if n != 0 {
		t.Fatalf("%d watchdogs still run after Close", n)
	}
}

// TestGroupSharesResourceIDs: sessions of one group draw resource ids from
// one sequence and refuse each other's resources with
// E_RESOURCE_ACCESS_DENIED; sessions of different groups are independent:
// each counts from res-1 and does not know the other's resources.
func TestGroupSharesResourceIDs(t *testing.T) {
	noop := Func(func(context.Context, []any) (any, error) { return nil, nil })
	callRes := func(c *Conn, id string) error {
		_, err := c.Request(context.Background(), OpApply, protocol.Callee{ResourceID: id}, []any{})
		return err
	}

	g := NewGroup()
	t.Cleanup(g.Wait) // after the sessions' cleanups, registered next
	_, s1 := pairWith(t, Config{Group: g})
	c2, _ := pairWith(t, Config{Group: g})
	id1, err := s1.Register(noop)
	if err != nil {
		t.Fatal(err)
	}
	_, s3 := pairWith(t, Config{Group: g})
	id3, _ := s3.Register(noop)
	if id1 != "res-1" || id3 != "res-2" {
		t.Fatalf("ids in one group: %s, %s; want res-1, res-2", id1, id3)
	}
	if err := callRes(c2, id1); !errors.Is(err, errcode.ResourceAccessDenied) {
		t.Fatalf("another session's resource in the group: %v, want E_RESOURCE_ACCESS_DENIED", err)
	}

	_, other := pair(t)
	c5, _ := pair(t)
	idOther, _ := other.Register(noop)
	if idOther != "res-1" {
		t.Fatalf("first id of a new group: %s, want res-1", idOther)
	}
	if err := callRes(c5, id3); !errors.Is(err, errcode.ResourceNotFound) {
		t.Fatalf("a resource of another group: %v, want E_RESOURCE_NOT_FOUND", err)
	}
}
