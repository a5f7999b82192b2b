package client_test

// The Go client against a core 0.x daemon: internal/legacy0x replays what
// a real @nexus-js/node-ipc 0.3.1 + core 0.5.0 daemon sends (the wire
// capture in legacy-0x-capture-full.md), and records what the client
// sends, frame by frame. After every test the fake checks that the client
// sent nothing a 0.x daemon could not take (PROVIDER_AVAILABLE, BATCH,
// CHUNK_*, a second REQ, a READY other than [14,id]).

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/legacy0x"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// legacyDeadline bounds each test's calls and waits.
const legacyDeadline = 20 * time.Second

// legacyPID is the daemon pid of the capture.
const legacyPID = 24958

// legacyDaemon starts a scripted 0.x daemon on a fresh socket. Its
// cleanup, which runs after the clients' (registered later), waits for
// every connection to end and then checks everything the clients sent.
func legacyDaemon(t *testing.T, opts legacy0x.Options) *legacy0x.Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "nxl")
	if err != nil {
		t.Fatal(err)
	}
	opts.Path = filepath.Join(dir, "d.sock")
	if opts.PID == 0 {
		opts.PID = legacyPID
	}
	d, err := legacy0x.Listen(opts)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), legacyDeadline)
		defer cancel()
		if err := d.Wait(ctx, func() bool { return d.Open() == 0 }); err != nil {
			t.Errorf("%d connections still open after the clients closed", d.Open())
		}
		checkLegacyFrames(t, d)
	})
	return d
}

// checkLegacyFrames checks what clients sent a 0.x daemon: no violation,
// and per connection one REQ (the 1.x form, which 0.x accepts) answered,
// after the 3-element ACK, by exactly [14,1] or a REJECT, and never a type
// a 0.x peer cannot take.
func checkLegacyFrames(t *testing.T, d *legacy0x.Daemon) {
	t.Helper()
	if v := d.Violations(); len(v) > 0 {
		t.Errorf("the client sent what a 0.x daemon cannot take:\n%s", strings.Join(v, "\n"))
	}
	if d.Truncated() {
		t.Errorf("the recording was truncated")
	}
	byConn := map[int][]legacy0x.Frame{}
	for _, f := range d.Frames() {
		if f.Kind == legacy0x.KindFrame {
			byConn[f.Conn] = append(byConn[f.Conn], f)
		}
	}
	for n, fs := range byConn {
		reqs, acked := 0, false
		for i, f := range fs {
			if f.Sent {
				acked = acked || f.Type() == protocol.TypeHandshakeAck
				continue
			}
			switch f.Type() {
			case protocol.TypeHandshakeReq:
				reqs++
				if i != 0 || !strings.HasSuffix(string(f.Body), `,null,["provider-catalog-v1"]]`) || !strings.HasPrefix(string(f.Body), `[10,1,{`) {
					t.Errorf("conn-%d: REQ %s is not the client's first frame in the 1.x form", n, f.Body)
				}
			case protocol.TypeProviderAvailable, protocol.TypeBatch, protocol.TypeBatchRes, protocol.TypeChunkStart, protocol.TypeChunkData, protocol.TypeHandshakeAck:
				t.Errorf("conn-%d: the client sent %s", n, f.Body)
			case protocol.TypeHandshakeReady:
				if string(f.Body) != "[14,1]" {
					t.Errorf("conn-%d: READY %s, want [14,1]", n, f.Body)
				}
			}
			if f.Type() == 0 {
				t.Errorf("conn-%d: the client sent a frame without a known type: %s", n, f.Body)
			}
		}
		if reqs != 1 {
			t.Errorf("conn-%d: %d REQs", n, reqs)
		}
		if acked {
			// After the ACK the client's next frame is [14,1] or REJECT.
			for i, f := range fs {
				if f.Sent && f.Type() == protocol.TypeHandshakeAck {
					for _, g := range fs[i+1:] {
						if !g.Sent {
							if g.Type() != protocol.TypeHandshakeReady && g.Type() != protocol.TypeHandshakeReject {
								t.Errorf("conn-%d: the client answered the ACK with %s", n, g.Body)
							}
							break
						}
					}
					break
				}
			}
		}
	}
}

func dialLegacy(t *testing.T, d *legacy0x.Daemon, opts client.Options) *client.Client {
	t.Helper()
	opts.SocketPath = d.Path()
	if opts.AppID == "" {
		opts.AppID = "example-client"
	}
	ctx, cancel := context.WithTimeout(context.Background(), legacyDeadline)
	defer cancel()
	c, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func legacyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), legacyDeadline)
	t.Cleanup(cancel)
	return ctx
}

// waitReceived waits until the daemon has received a frame with this
// body.
func waitReceived(t *testing.T, d *legacy0x.Daemon, body string) {
	t.Helper()
	err := d.Wait(legacyCtx(t), func() bool {
		return slices.ContainsFunc(d.Received(), func(b []byte) bool { return string(b) == body })
	})
	if err != nil {
		t.Fatalf("the daemon never received %s", body)
	}
}

func clientREQ(appID string) string {
	return `[10,1,{"context":"node-ipc-client","appId":"` + appID + `","pid":` + strconv.Itoa(os.Getpid()) + `},null,["provider-catalog-v1"]]`
}

func TestLegacyHandshake(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{Groups: []string{"g1", "g2"}})
	c := dialLegacy(t, d, client.Options{AppID: "legacy-test"})
	const ack = `{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":24958,"groups":["g1","g2"]}`
	want := []string{
		"C>S " + clientREQ("legacy-test"),
		"S>C [11,1," + ack + "]",
		"C>S [14,1]",
	}
	// The client sent READY before Dial returned; the daemon reads it.
	if err := d.Wait(legacyCtx(t), func() bool { return len(d.Transcript(1)) >= 3 }); err != nil {
		t.Fatalf("handshake: %q", d.Transcript(1))
	}
	if got := d.Transcript(1); !slices.Equal(got, want) {
		t.Fatalf("handshake:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g := c.Generation(); g != session.Core0 || !g.Legacy() || g.String() != "0.x" {
		t.Errorf("generation %v", g)
	}
	if g := c.Session().Generation(); g != session.Core0 {
		t.Errorf("session generation %v", g)
	}
	if p := c.Providers(); len(p) != 0 {
		t.Errorf("providers %q, want none", p)
	}
	if string(c.DaemonMetadata()) != ack {
		t.Errorf("daemon metadata %s", c.DaemonMetadata())
	}
	if g, _ := protocol.Get(c.Daemon(), "groups").([]any); len(g) != 2 || g[0] != "g1" || g[1] != "g2" {
		t.Errorf("daemon groups %#v", protocol.Get(c.Daemon(), "groups"))
	}
	if !client.MatchAll(client.MatchDaemon("example-app"), client.MatchInstance("default"), client.MatchGroup("g2"))(c.Daemon(), c.Observed()) {
		t.Errorf("matchers do not match %s", c.DaemonMetadata())
	}
	// No catalog to wait for: nil at once, whatever the token, with a
	// context that never ends.
	done := make(chan error, 1)
	go func() { done <- c.WaitProvider(context.Background(), "no-such-service") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WaitProvider: %v", err)
		}
	case <-time.After(legacyDeadline):
		t.Fatal("WaitProvider waits for a 0.x daemon's catalog")
	}
	// Notify refuses what a 0.x peer cannot take, without sending it.
	for _, p := range []protocol.Packet{&protocol.ProviderAvailablePacket{Providers: []string{"x"}}, &protocol.BatchPacket{ID: protocol.NumID(9)}} {
		if err := c.Session().Notify(p); !errors.Is(err, errcode.UsageInvalid) {
			t.Errorf("Notify(%s): %v", p.Type(), err)
		}
	}
	res, err := c.Service("echo-service").Call(legacyCtx(t), "echo", "hello")
	if err != nil || res.Value() != "echo:hello" {
		t.Fatalf("echo: %v %v", res.Value(), err)
	}
	if got := d.Transcript(1)[3:]; !slices.Equal(got, []string{`C>S [3,1,null,["echo-service","echo"],["hello"]]`, `S>C [5,1,"echo:hello"]`}) {
		t.Errorf("after the handshake: %q", got)
	}
}

// greeter is the object the client passes by reference to takeRef, the
// Go form of nexus.ref({hello(s) {return "hi " + s}}).
type greeter struct{}

func (greeter) Hello(s string) string { return "hi " + s }

// legacyValuesArgs is the capture's argument to values:
// {m:new Map([["k",{x:1}]]), s:new Set(["a"]), b:123n, u:undefined,
// esc:"\u0003hi", esc4:"\u0004z", arr:[undefined]}.
func legacyValuesArgs() *protocol.Object {
	return protocol.NewObject(
		"m", protocol.NewMap("k", protocol.NewObject("x", 1)),
		"s", protocol.NewSet("a"),
		"b", big.NewInt(123),
		"u", protocol.Undefined{},
		"esc", "\x03hi",
		"esc4", "\x04z",
		"arr", []any{protocol.Undefined{}},
	)
}

// TestLegacyCaptureSession replays §1a of the capture (with authToken
// "s3cret") through the public API and compares the whole transcript with
// the captured one. The differences are the client's: its REQ is the 1.x
// form, and its callbacks' errors carry a name and a message.
func TestLegacyCaptureSession(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{Token: "s3cret"})
	c := dialLegacy(t, d, client.Options{Token: "s3cret"})
	ctx := legacyCtx(t)
	svc := c.Service("echo-service")
	call := func(method string, args ...any) any {
		t.Helper()
		res, err := svc.Call(ctx, method, args...)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return res.Value()
	}
	cbErr := errcode.New("E_CB", "cb says no")

	if got := call("echo", "hello"); got != "echo:hello" {
		t.Errorf("echo: %v", got)
	}
	if got := call("withCb", 1, func(n int) int { return n * 10 }); got != 20.0 {
		t.Errorf("withCb: %v", got)
	}
	if got, ok := call("cbTwice", func(s string) string { return s + s }).([]any); !ok || !slices.Equal(got, []any{"aa", "bb"}) {
		t.Errorf("cbTwice: %v", got)
	}
	got, _ := call("cbThrows", func() error { return cbErr }).(*protocol.Object)
	if protocol.Get(got, "code") != "E_REMOTE_EXCEPTION" || protocol.Get(got, "message") != "Remote call failed: cb says no" {
		t.Errorf("cbThrows: our callback's error did not reach the daemon with its message: %v", got)
	}
	_, err := svc.Call(ctx, "cbThrowsProp", func() error { return cbErr })
	var re *protocol.RemoteError
	if !errors.As(err, &re) || re.Name != "CallProcessorRemoteError" || re.Code != "E_REMOTE_EXCEPTION" ||
		re.Cause == nil || re.Cause.Message != "cb says no" || !errors.Is(err, errcode.Code("E_CB")) || !errors.Is(err, errcode.RemoteException) {
		t.Errorf("cbThrowsProp: %#v", err)
	}
	if _, err := svc.Call(ctx, "fail"); !errors.Is(err, errcode.Code("E_APP")) {
		t.Errorf("fail: %v", err)
	}
	if _, err := svc.Call(ctx, "failPlain"); !errors.As(err, &re) || re.Message != "plain boom" || re.Name != "Error" || !errors.Is(err, errcode.Unknown) || !strings.HasPrefix(re.Stack, "Error: plain boom\n") {
		t.Errorf("failPlain: %#v", err)
	}
	if _, err := svc.Call(ctx, "failString"); !errors.As(err, &re) || re.Message != "just a string" {
		t.Errorf("failString: %v", err)
	}
	get := func(path string) any {
		t.Helper()
		res, err := svc.Get(ctx, path)
		if err != nil {
			t.Fatalf("get %s: %v", path, err)
		}
		return res.Value()
	}
	if got := get("count"); got != 5.0 {
		t.Errorf("count: %v", got)
	}
	if got := get("nested.deep"); got != 7.0 {
		t.Errorf("nested.deep: %v", got)
	}
	if got := call("nested.fn"); got != "nested-fn" {
		t.Errorf("nested.fn: %v", got)
	}
	if _, err := svc.Call(ctx, "nope"); !errors.Is(err, errcode.TargetNotCallable) || errors.Is(err, errcode.ServiceUnavailable) {
		t.Errorf("nope: %v", err)
	}
	if got := get("nope2"); got != (protocol.Undefined{}) {
		t.Errorf("nope2: %#v", got)
	}
	checkLegacyValues(t, call("values", legacyValuesArgs()))

	res, err := svc.Call(ctx, "makeRef")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := res.Ref()
	if err != nil || ref.ID() != "res-1" {
		t.Fatalf("makeRef: %v %v", res.Value(), err)
	}
	if r, err := ref.Call(ctx, "inc"); err != nil || r.Value() != 2.0 {
		t.Errorf("inc: %v %v", r.Value(), err)
	}
	if r, err := ref.Get(ctx, "n"); err != nil || r.Value() != 2.0 {
		t.Errorf("get n: %v %v", r.Value(), err)
	}
	if err := ref.Set(ctx, "n", 42); err != nil {
		t.Errorf("set n: %v", err)
	}
	if got := call("peekLastRef"); got != 42.0 {
		t.Errorf("peekLastRef: %v", got)
	}
	if err := ref.Release(); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, d, `[7,null,"res-1"]`)
	if _, err := ref.Get(ctx, "n"); err == nil {
		t.Errorf("a released ref still works")
	}
	if got := call("takeRef", bind.Ref(greeter{})); got != "hi d" {
		t.Errorf("takeRef: %v", got)
	}
	c.Close()
	if err := d.Wait(ctx, func() bool { return d.Open() == 0 }); err != nil {
		t.Fatal(err)
	}

	goErr := `{"name":"NexusError","code":"E_CB","message":"cb says no"}`
	want := strings.Split(strings.TrimSpace(`
C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"s3cret"}\n
S>C LINE {"type":"nexus-ipc-auth-ok"}\n
C>S `+clientREQ("example-client")+`
S>C [11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":24958}]
C>S [14,1]
C>S [3,1,null,["echo-service","echo"],["hello"]]
S>C [5,1,"echo:hello"]
C>S [3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]
S>C [3,1,"res-1",[],[2]]
C>S [5,1,20]
S>C [5,2,20]
C>S [3,3,null,["echo-service","cbTwice"],["\u0003R:res-2"]]
S>C [3,2,"res-2",[],["a"]]
C>S [5,2,"aa"]
S>C [3,3,"res-2",[],["b"]]
C>S [5,3,"bb"]
S>C [5,3,["aa","bb"]]
C>S [3,4,null,["echo-service","cbThrows"],["\u0003R:res-3"]]
S>C [3,4,"res-3",[],[]]
C>S [6,4,`+goErr+`]
S>C [5,4,{"code":"E_REMOTE_EXCEPTION","message":"Remote call failed: cb says no"}]
C>S [3,5,null,["echo-service","cbThrowsProp"],["\u0003R:res-4"]]
S>C [3,5,"res-4",[],[]]
C>S [6,5,`+goErr+`]
S>C [6,5,{"code":"E_REMOTE_EXCEPTION","context":{"remoteError":`+goErr+`},"name":"CallProcessorRemoteError"}]
C>S [3,6,null,["echo-service","fail"],[]]
S>C [6,6,{"code":"E_APP"}]
C>S [3,7,null,["echo-service","failPlain"],[]]
S>C [6,7,{"name":"Error","code":"E_UNKNOWN","message":"plain boom","stack":"Error: plain boom\n    at Object.failPlain (file:///<harness>/…"}]
C>S [3,8,null,["echo-service","failString"],[]]
S>C [6,8,{"name":"Error","code":"E_UNKNOWN","message":"just a string","stack":"Error: just a string\n    at Re (file:///<build>/packages/…"}]
C>S [1,9,null,["echo-service","count"]]
S>C [5,9,5]
C>S [1,10,null,["echo-service","nested","deep"]]
S>C [5,10,7]
C>S [3,11,null,["echo-service","nested","fn"],[]]
S>C [5,11,"nested-fn"]
C>S [3,12,null,["echo-service","nope"],[]]
S>C [6,12,{"code":"E_TARGET_NOT_CALLABLE","context":{"resourceId":null,"path":["echo-service","nope"]},"name":"MessageResourceError"}]
C>S [1,13,null,["echo-service","nope2"]]
S>C [5,13,"\u0003U"]
C>S [3,14,null,["echo-service","values"],[{"m":"\u0003M:[[\"k\",{\"x\":1}]]","s":"\u0003S:[\"a\"]","b":"\u0003N:123","u":"\u0003U","esc":"\u0004\u0003hi","esc4":"\u0004\u0004z","arr":["\u0003U"]}]]
S>C [5,14,{"m":"\u0003M:[[\"a\",1],[\"f\",null]]","s":"\u0003S:[1,\"x\"]","u":"\u0003U","big":"\u0003N:10","esc":"\u0004\u0003R:x","esc4":"\u0004\u0004y","arr":["\u0003U","\u0003N:1"],"nan":null,"date":{},"nul":null}]
C>S [3,15,null,["echo-service","makeRef"],[]]
S>C [5,15,"\u0003R:res-1"]
C>S [3,16,"res-1",["inc"],[]]
S>C [5,16,2]
C>S [1,17,"res-1",["n"]]
S>C [5,17,2]
C>S [2,18,"res-1",["n"],42]
S>C [5,18,true]
C>S [3,19,null,["echo-service","peekLastRef"],[]]
S>C [5,19,42]
C>S [7,null,"res-1"]
C>S [3,20,null,["echo-service","takeRef"],["\u0003R:res-5"]]
S>C [3,6,"res-5",["hello"],["d"]]
C>S [5,6,"hi d"]
S>C [5,20,"hi d"]
C>S FIN
S>C FIN
`), "\n")
	if got := d.Transcript(1); !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("transcript line %d:\n got %s\nwant %s", i+1, g, w)
				break
			}
		}
		t.Errorf("transcript:\n%s", strings.Join(got, "\n"))
	}
}

// checkLegacyValues checks the decoded reply of values: {m:Map{a→1,
// f→undefined}, s:Set{1,"x"}, u:undefined, big:10n, esc:"\u0003R:x",
// esc4:"\u0004y", arr:[undefined,1n], nan:NaN, date:new Date(0),
// nul:null}, as JSON and the placeholders carry them.
func checkLegacyValues(t *testing.T, v any) {
	t.Helper()
	o, ok := v.(*protocol.Object)
	if !ok {
		t.Fatalf("values: %#v", v)
	}
	if keys := o.Keys(); !slices.Equal(keys, []string{"m", "s", "u", "big", "esc", "esc4", "arr", "nan", "date", "nul"}) {
		t.Errorf("values keys %q", keys)
	}
	if m, ok := protocol.Get(o, "m").(*protocol.Map); !ok || m.Len() != 2 {
		t.Errorf("m: %#v", protocol.Get(o, "m"))
	} else if a, _ := m.Get("a"); a != 1.0 {
		t.Errorf("m.a: %#v", a)
	} else if f, has := m.Get("f"); !has || f != nil {
		t.Errorf("m.f: %#v %v", f, has) // undefined inside a Map is JSON null
	}
	if s, ok := protocol.Get(o, "s").(*protocol.Set); !ok || !slices.Equal(s.Values(), []any{1.0, "x"}) {
		t.Errorf("s: %#v", protocol.Get(o, "s"))
	}
	if u := protocol.Get(o, "u"); u != (protocol.Undefined{}) {
		t.Errorf("u: %#v", u)
	}
	if b, ok := protocol.Get(o, "big").(*big.Int); !ok || b.Int64() != 10 {
		t.Errorf("big: %#v", protocol.Get(o, "big"))
	}
	if e := protocol.Get(o, "esc"); e != "\x03R:x" {
		t.Errorf("esc: %q", e)
	}
	if e := protocol.Get(o, "esc4"); e != "\x04y" {
		t.Errorf("esc4: %q", e)
	}
	arr, _ := protocol.Get(o, "arr").([]any)
	if len(arr) != 2 || arr[0] != (protocol.Undefined{}) {
		t.Errorf("arr: %#v", arr)
	} else if b, ok := arr[1].(*big.Int); !ok || b.Int64() != 1 {
		t.Errorf("arr[1]: %#v", arr[1])
	}
	if x, has := o.Get("nan"); !has || x != nil {
		t.Errorf("nan: %#v", x)
	}
	if date, ok := protocol.Get(o, "date").(*protocol.Object); !ok || date.Len() != 0 {
		t.Errorf("date: %#v", protocol.Get(o, "date"))
	}
	if x, has := o.Get("nul"); !has || x != nil {
		t.Errorf("nul: %#v", x)
	}
}

// §1b: after makeRef (the daemon's res-1), the daemon calls the client's
// callback res-1 in the long form with its own service name. A JS client
// refuses it (E_INVOCATION_SERVICE_MISMATCH); the Go client serves it.
func TestLegacyLongFormBug(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{})
	c := dialLegacy(t, d, client.Options{})
	ctx := legacyCtx(t)
	svc := c.Service("echo-service")
	res, err := svc.Call(ctx, "makeRef")
	if err != nil {
		t.Fatal(err)
	}
	if ref, err := res.Ref(); err != nil || ref.ID() != "res-1" {
		t.Fatalf("makeRef: %v %v", res.Value(), err)
	}
	res, err = svc.Call(ctx, "withCb", 1, func(n int) int { return n * 10 })
	if err != nil || res.Value() != 20.0 {
		t.Fatalf("withCb after makeRef: %v %v", res.Value(), err)
	}
	want := []string{
		`C>S [3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]`,
		`S>C [3,1,"res-1",[],"echo-service",[2]]`,
		`C>S [5,1,20]`,
		`S>C [5,2,20]`,
	}
	if got := d.Transcript(1)[5:]; !slices.Equal(got, want) {
		t.Errorf("withCb:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same on a ref object: reading the whole service makes the
	// daemon's res-2 to res-15, and the client's ref is res-2.
	if _, err := svc.Get(ctx, ""); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Call(ctx, "takeRef", bind.Ref(greeter{}))
	if err != nil || res.Value() != "hi d" {
		t.Fatalf("takeRef after the collision: %v %v", res.Value(), err)
	}
	want = []string{
		`C>S [3,4,null,["echo-service","takeRef"],["\u0003R:res-2"]]`,
		`S>C [3,2,"res-2",["hello"],"echo-service",["d"]]`,
		`C>S [5,2,"hi d"]`,
		`S>C [5,4,"hi d"]`,
	}
	if got := d.Transcript(1)[11:]; !slices.Equal(got, want) {
		t.Errorf("takeRef:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLegacyCallbacks(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{})
	c := dialLegacy(t, d, client.Options{})
	ctx := legacyCtx(t)
	svc := c.Service("echo-service")
	// A plain Go error: the daemon sees its message.
	res, err := svc.Call(ctx, "cbThrows", func() error { return errors.New("plain go failure") })
	if o, _ := res.Value().(*protocol.Object); err != nil || protocol.Get(o, "message") != "Remote call failed: plain go failure" {
		t.Errorf("cbThrows: %v %v", res.Value(), err)
	}
	// The nested 0.x error reaches the callback's code.
	_, err = svc.Call(ctx, "cbThrowsProp", func() (int, error) { return 0, errcode.New("E_CB", "nested") })
	var re *protocol.RemoteError
	if !errors.Is(err, errcode.Code("E_CB")) || !errors.As(err, &re) || re.Name != "CallProcessorRemoteError" || re.Cause == nil || re.Cause.Message != "nested" {
		t.Errorf("cbThrowsProp: %v", err)
	}
	if errors.Is(err, errcode.ServiceUnavailable) {
		t.Errorf("cbThrowsProp is not an unknown service: %v", err)
	}
	// The callback's result, whatever it is, is the service's.
	res, err = svc.Call(ctx, "withCb", 21, func(n float64) any { return protocol.NewObject("n", n, "big", big.NewInt(7)) })
	if o, _ := res.Value().(*protocol.Object); err != nil || protocol.Get(o, "n") != 42.0 || !reflect.DeepEqual(protocol.Get(o, "big"), big.NewInt(7)) {
		t.Errorf("withCb: %v %v", res.Value(), err)
	}
	// The same callback passed twice is two resources, each called with
	// the short form.
	cb := func(s string) string { return strings.ToUpper(s) }
	for i := range 2 {
		res, err := svc.Call(ctx, "cbTwice", cb)
		if got, _ := res.Value().([]any); err != nil || !slices.Equal(got, []any{"A", "B"}) {
			t.Errorf("cbTwice %d: %v %v", i, res.Value(), err)
		}
	}
	calls := 0
	for _, f := range d.Frames() {
		if !f.Sent || f.Type() != protocol.TypeApply {
			continue
		}
		calls++
		if p, err := protocol.DecodePacket(f.Body, nil); err != nil || p.(*protocol.ApplyPacket).Long {
			t.Errorf("the daemon called %s: want the short form (no id collides)", f.Body)
		}
	}
	if calls != 7 {
		t.Errorf("%d calls into the client, want 7", calls)
	}
}

func TestLegacyUnknownService(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{})
	c := dialLegacy(t, d, client.Options{})
	ctx := legacyCtx(t)
	nosvc := c.Service("nosvc")
	_, err := nosvc.Call(ctx, "x")
	var re *protocol.RemoteError
	if !errors.Is(err, errcode.ServiceUnavailable) || !errors.Is(err, errcode.ResourceNotFound) || !errors.As(err, &re) || re.Name != "MessageResourceError" {
		t.Errorf("call: %v", err)
	}
	if _, err := nosvc.Get(ctx, "x"); !errors.Is(err, errcode.ServiceUnavailable) || !errors.Is(err, errcode.ResourceNotFound) {
		t.Errorf("get: %v", err)
	}
	if err := nosvc.Set(ctx, "x", 1); !errors.Is(err, errcode.ServiceUnavailable) || !errors.Is(err, errcode.ResourceNotFound) {
		t.Errorf("set: %v", err)
	}
	want := []string{
		`C>S [3,1,null,["nosvc","x"],[]]`,
		`S>C [6,1,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":null,"path":["nosvc","x"]},"name":"MessageResourceError"}]`,
		`C>S [1,2,null,["nosvc","x"]]`,
		`S>C [6,2,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":null,"path":["nosvc","x"]},"name":"MessageResourceError"}]`,
		`C>S [2,3,null,["nosvc","x"],1]`,
		`S>C [6,3,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":null,"path":["nosvc","x"]},"name":"MessageResourceError"}]`,
	}
	if got := d.Transcript(1)[3:]; !slices.Equal(got, want) {
		t.Errorf("transcript:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The session is fine afterwards, and other errors stay as they are.
	if _, err := c.Service("echo-service").Call(ctx, "fail"); !errors.Is(err, errcode.Code("E_APP")) || errors.Is(err, errcode.ServiceUnavailable) {
		t.Errorf("fail: %v", err)
	}
}

func TestLegacySetAndGet(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{})
	c := dialLegacy(t, d, client.Options{})
	ctx := legacyCtx(t)
	svc := c.Service("echo-service")
	if err := svc.Set(ctx, "count", 9); err != nil {
		t.Fatal(err)
	}
	if res, err := svc.Get(ctx, "count"); err != nil || res.Value() != 9.0 {
		t.Errorf("count after set: %v %v", res.Value(), err)
	}
	if err := svc.Set(ctx, "", 1); !errors.Is(err, errcode.SetOnRoot) {
		t.Errorf("set on the root: %v", err)
	}
	// The whole service: every function is a ref.
	res, err := svc.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := res.Value().(*protocol.Object)
	echo, ok := client.AsRef(protocol.Get(o, "echo"))
	if !ok || protocol.Get(o, "count") != 9.0 {
		t.Fatalf("the service: %v", res.Value())
	}
	if r, err := echo.Invoke(ctx, "via ref"); err != nil || r.Value() != "echo:via ref" {
		t.Errorf("echo through its ref: %v %v", r.Value(), err)
	}
	want := []string{
		`C>S [2,1,null,["echo-service","count"],9]`,
		`S>C [5,1,true]`,
		`C>S [1,2,null,["echo-service","count"]]`,
		`S>C [5,2,9]`,
		`C>S [2,3,null,["echo-service"],1]`,
		`S>C [6,3,{"code":"E_SET_ON_ROOT","context":{"resourceId":null,"path":["echo-service"]},"name":"MessageResourceError"}]`,
	}
	if got := d.Transcript(1)[3:9]; !slices.Equal(got, want) {
		t.Errorf("transcript:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLegacyPreAuth(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{Token: "s3cret"})
	ctx := legacyCtx(t)
	_, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: d.Path(), Token: "wrong"})
	if !errors.Is(err, errcode.IPCAuthFailed) {
		t.Errorf("wrong token: %v", err)
	}
	if err := d.Wait(ctx, func() bool { return d.Open() == 0 }); err != nil {
		t.Fatal(err)
	}
	// The daemon closed without a reply, and the client sent nothing more.
	if got, want := d.Transcript(1), []string{`C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"wrong"}\n`, "S>C FIN"}; !slices.Equal(got, want) {
		t.Errorf("wrong token:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c := dialLegacy(t, d, client.Options{Token: "s3cret"})
	if err := d.Wait(ctx, func() bool { return len(d.Transcript(2)) >= 5 }); err != nil {
		t.Fatal(err)
	}
	if f := c.Observed(); !f.Authenticated || f.AuthMethod != "shared-secret" {
		t.Errorf("observed %+v", f)
	}
	if got := d.Transcript(2); len(got) < 5 || got[0] != `C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"s3cret"}\n` ||
		got[1] != `S>C LINE {"type":"nexus-ipc-auth-ok"}\n` || got[4] != "C>S [14,1]" {
		t.Errorf("with the token:\n%s", strings.Join(got, "\n"))
	}
	if res, err := c.Service("echo-service").Call(ctx, "echo", 1); err != nil || res.Value() != "echo:1" {
		t.Errorf("echo: %v %v", res.Value(), err)
	}
	// No token for a daemon that wants one: the REQ is not an auth line,
	// and the daemon closes at its auth timeout.
	d2 := legacyDaemon(t, legacy0x.Options{Token: "s3cret", AuthTimeout: 100 * time.Millisecond})
	_, err = client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: d2.Path()})
	if err == nil {
		t.Fatal("no token for a daemon that wants one: Dial succeeded")
	}
	t.Logf("no token: %v", err)
	if err := d2.Wait(ctx, func() bool { return d2.Open() == 0 }); err != nil {
		t.Fatal(err)
	}
	if got := d2.Transcript(1); !slices.Equal(got, []string{"S>C FIN"}) {
		t.Errorf("no token: %q", got)
	}
}

func TestLegacyRefuse(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{})
	ctx := legacyCtx(t)
	_, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: d.Path(), AppID: "refuser", RefuseLegacy: true})
	var he *session.HandshakeError
	if !errors.Is(err, errcode.ProtocolIncompatible) || !errors.As(err, &he) || he.Remote {
		t.Fatalf("RefuseLegacy: %v", err)
	}
	if err := d.Wait(ctx, func() bool { return d.Open() == 0 }); err != nil {
		t.Fatal(err)
	}
	got := d.Transcript(1)
	if len(got) < 3 || got[0] != "C>S "+clientREQ("refuser") || !strings.HasPrefix(got[1], "S>C [11,1,{") {
		t.Fatalf("transcript:\n%s", strings.Join(got, "\n"))
	}
	rej, ok := strings.CutPrefix(got[2], "C>S ")
	if !ok {
		t.Fatalf("the client did not answer the ACK: %s", got[2])
	}
	p, err := protocol.DecodePacket([]byte(rej), nil)
	r, _ := p.(*protocol.HandshakeRejectPacket)
	if err != nil || r == nil || r.ID != protocol.NumID(1) {
		t.Fatalf("the client answered the 0.x ACK with %s, want a REJECT", rej)
	}
	if e, err := protocol.ParseRemoteError(r.Error); err != nil || e.Code != string(errcode.ProtocolIncompatible) {
		t.Errorf("REJECT error %s", r.Error)
	}
	t.Logf("REJECT: %s", rej)
	// Nothing after the REJECT but the ends.
	for _, l := range got[3:] {
		if !strings.HasSuffix(l, " FIN") {
			t.Errorf("after the REJECT: %s", l)
		}
	}
}

func TestLegacyPool(t *testing.T) {
	t.Parallel()
	d := legacyDaemon(t, legacy0x.Options{Groups: []string{"g1"}})
	target := client.Address{AppID: "example-app"}
	pool := client.NewPool(&client.Options{SocketPath: d.Path(), AppID: "pool"}, &target)
	t.Cleanup(func() { pool.Close() })
	ctx := legacyCtx(t)
	c, err := pool.Client(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if c.Generation() != session.Core0 {
		t.Fatalf("generation %v", c.Generation())
	}
	// No catalog: the 0.x session is taken to provide the service.
	svc, err := pool.Select(ctx, "echo-service", &client.SelectOptions{Where: client.MatchAll(client.MatchDaemon("example-app"), client.MatchGroup("g1"))})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := svc.Call(ctx, "echo", "pooled"); err != nil || res.Value() != "echo:pooled" {
		t.Errorf("echo: %v %v", res.Value(), err)
	}
	// Nor any other: the daemon says it does not provide it.
	other, err := pool.Select(ctx, "nosvc", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Call(ctx, "x"); !errors.Is(err, errcode.ServiceUnavailable) {
		t.Errorf("nosvc: %v", err)
	}
	// Matchers still choose: none matches another group.
	if _, err := pool.Select(ctx, "echo-service", &client.SelectOptions{Where: client.MatchGroup("g2")}); !errors.Is(err, errcode.ServiceNoMatch) {
		t.Errorf("other group: %v", err)
	}
	svc2, err := pool.Service(ctx, "echo-service")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc2.Call(ctx, "echo", "default target"); err != nil {
		t.Error(err)
	}
	if n := d.Accepted(); n != 1 {
		t.Errorf("%d connections, want the pool's one", n)
	}
}
