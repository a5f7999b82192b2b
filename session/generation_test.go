//go:build unix

package session

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// script plays a raw peer on one end of a pipe: it writes frames given as
// JSON text and reads frames back as text.
type script struct {
	t  *testing.T
	nc net.Conn
	fr *protocol.FrameReader
}

func newScript(t *testing.T, nc net.Conn) *script {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &script{t: t, nc: nc, fr: protocol.NewFrameReader(nc, 0)}
}

func (s *script) send(body string) {
	s.t.Helper()
	b, _ := protocol.AppendFrame(nil, []byte(body), 0)
	if _, err := s.nc.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

func (s *script) expect(want string) {
	s.t.Helper()
	got, err := s.fr.ReadFrame()
	if err != nil {
		s.t.Fatalf("want %s: %v", want, err)
	}
	if string(got) != want {
		s.t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// unixPair is a connected pair of Unix sockets, which buffer as a real
// connection does (net.Pipe does not).
func unixPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return conn(fds[0]), conn(fds[1])
}

var (
	daemonMeta = protocol.NewObject("context", "node-ipc-daemon", "appId", "t", "instance", "default")
	clientMeta = protocol.NewObject("context", "node-ipc-client", "appId", "c")
)

// A 0.x client's REQ opens a Core0 session: the ACK has no capabilities
// and no catalog, and READY is [14,id].
func TestServerHandshakeLegacy(t *testing.T) {
	for _, req := range []string{
		`[10,7,{"context":"node-ipc-client","appId":"old"},null]`,
		`[10,7,{"context":"node-ipc-client","appId":"old"}]`,
		`[10,7,{"context":"node-ipc-client","appId":"old"},null,null]`,
	} {
		a, b := net.Pipe()
		s := newScript(t, a)
		ch := make(chan *Peer, 1)
		go func() {
			p, err := ServerHandshake(context.Background(), b, protocol.NewFrameReader(b, 0), Hello{Metadata: daemonMeta, Providers: []string{"svc"}, AcceptLegacy: true}, nil, 0)
			if err != nil {
				t.Error(err)
			}
			ch <- p
		}()
		s.send(req)
		s.expect(`[11,7,{"context":"node-ipc-daemon","appId":"t","instance":"default"}]`)
		s.send(`[14,7]`)
		p := <-ch
		if p == nil || p.Generation != Core0 || p.Providers != nil || protocol.Get(p.Identity, "appId") != "old" {
			t.Fatalf("%s: peer %+v", req, p)
		}
		a.Close()
		b.Close()
	}
}

// Without AcceptLegacy, the 0.x REQ gets core 1.2.0's refusal.
func TestServerHandshakeRefusesLegacy(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := newScript(t, a)
	errc := make(chan error, 1)
	go func() {
		_, err := ServerHandshake(context.Background(), b, protocol.NewFrameReader(b, 0), Hello{Metadata: daemonMeta}, nil, 0)
		errc <- err
	}()
	s.send(`[10,1,{"context":"node-ipc-client","appId":"old"},null]`)
	s.expect(`[12,1,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]`)
	if err := <-errc; !errors.Is(err, errcode.ProtocolIncompatible) {
		t.Fatalf("err %v", err)
	}
}

// A 3-element ACK is a 0.x daemon: the client answers [14,id] when it
// accepts legacy peers, and refuses it otherwise.
func TestClientHandshakeLegacy(t *testing.T) {
	for _, accept := range []bool{true, false} {
		a, b := net.Pipe()
		s := newScript(t, a)
		type res struct {
			p   *Peer
			err error
		}
		ch := make(chan res, 1)
		go func() {
			p, err := ClientHandshake(context.Background(), b, protocol.NewFrameReader(b, 0), Hello{Metadata: clientMeta, AcceptLegacy: accept}, nil, 0)
			ch <- res{p, err}
		}()
		s.expect(`[10,1,{"context":"node-ipc-client","appId":"c"},null,["provider-catalog-v1"]]`)
		s.send(`[11,1,{"context":"node-ipc-daemon","appId":"old","instance":"default","groups":["g1"]}]`)
		if accept {
			s.expect(`[14,1]`)
			r := <-ch
			if r.err != nil || r.p.Generation != Core0 || r.p.Providers != nil {
				t.Fatalf("peer %+v, %v", r.p, r.err)
			}
			if g, _ := protocol.Get(r.p.Identity, "groups").([]any); len(g) != 1 {
				t.Fatalf("identity %v", r.p.Identity)
			}
		} else {
			s.expect(`[12,1,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]`)
			if r := <-ch; !errors.Is(r.err, errcode.ProtocolIncompatible) {
				t.Fatalf("err %v", r.err)
			}
		}
		a.Close()
		b.Close()
	}
}

// A 1.x ACK is still answered with the 1.x READY when legacy peers are
// accepted.
func TestClientHandshakeCurrentWithLegacyAccepted(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := newScript(t, a)
	ch := make(chan *Peer, 1)
	go func() {
		p, _ := ClientHandshake(context.Background(), b, protocol.NewFrameReader(b, 0), Hello{Metadata: clientMeta, AcceptLegacy: true}, nil, 0)
		ch <- p
	}()
	s.expect(`[10,1,{"context":"node-ipc-client","appId":"c"},null,["provider-catalog-v1"]]`)
	s.send(`[11,1,{"context":"node-ipc-daemon","appId":"new"},["provider-catalog-v1"],["svc"]]`)
	s.expect(`[14,1,["provider-catalog-v1"],[]]`)
	if p := <-ch; p == nil || p.Generation != Core1 || len(p.Providers) != 1 {
		t.Fatalf("peer %+v", p)
	}
}

// In a Core0 session, Notify sends nothing a 0.x peer cannot take, and a
// long-form call on a local resource is served whatever its service name.
func TestCore0Session(t *testing.T) {
	a, b := unixPair(t)
	s := newScript(t, a)
	c := New(b, protocol.NewFrameReader(b, 0), Config{Generation: Core0, Handler: testService{}})
	defer c.Close()
	if c.Generation() != Core0 || c.Generation().String() != "0.x" {
		t.Fatalf("generation %v", c.Generation())
	}
	for _, p := range []protocol.Packet{
		&protocol.ProviderAvailablePacket{Providers: []string{"late"}},
		&protocol.BatchPacket{ID: protocol.NumID(1)},
		&protocol.ChunkStartPacket{ID: protocol.NumID(1)},
		&protocol.HandshakeReqPacket{ID: protocol.NumID(2)},
	} {
		if err := c.Notify(p); !errors.Is(err, errcode.UsageInvalid) {
			t.Fatalf("Notify(%v) = %v", p.Type(), err)
		}
	}
	// A callback handed to the peer, then called in the long form with
	// another service's name (the 0.x id-collision bug).
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), OpApply, protocol.Callee{Path: []string{"svc", "withCb"}}, []any{Func(func(ctx context.Context, args []any) (any, error) { return "cb-ok", nil })})
		done <- err
	}()
	s.expect(`[3,1,null,["svc","withCb"],["\u0003R:res-1"]]`)
	s.send(`[3,9,"res-1",[],"echo-service",[2]]`)
	s.expect(`[5,9,"cb-ok"]`)
	s.send(`[5,1,null]`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A RELEASE still goes out: 0.x takes it.
	if err := c.Notify(&protocol.ReleasePacket{ResourceID: "res-9"}); err != nil {
		t.Fatal(err)
	}
	s.expect(`[7,null,"res-9"]`)
}

// In a Core1 session the same long form is refused as core 1.2.0 refuses
// it.
func TestCore1SessionChecksLongForm(t *testing.T) {
	a, b := unixPair(t)
	s := newScript(t, a)
	c := New(b, protocol.NewFrameReader(b, 0), Config{Handler: testService{}})
	defer c.Close()
	go c.Request(context.Background(), OpApply, protocol.Callee{Path: []string{"svc", "withCb"}}, []any{Func(func(ctx context.Context, args []any) (any, error) { return "cb-ok", nil })})
	s.expect(`[3,1,null,["svc","withCb"],["\u0003R:res-1"]]`)
	s.send(`[3,9,"res-1",[],"echo-service",[2]]`)
	got, err := s.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := protocol.DecodePacket(got, nil)
	ep, ok := pk.(*protocol.ErrPacket)
	if err != nil || !ok {
		t.Fatalf("got %s", got)
	}
	if re, _ := protocol.ParseRemoteError(ep.Error); re == nil || re.Code != string(errcode.InvocationServiceMismatch) {
		t.Fatalf("got %s", got)
	}
}
