package legacy0x

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/internal/leakcheck"
	"github.com/nexus-interop/nexus-go/protocol"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// deadline bounds every read and write of the raw client, so that a daemon
// that neither answers nor closes fails the test instead of hanging it.
const deadline = 20 * time.Second

func start(t *testing.T, opts Options) *Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "lx")
	if err != nil {
		t.Fatal(err)
	}
	opts.Path = filepath.Join(dir, "d.sock")
	d, err := Listen(opts)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		os.RemoveAll(dir)
	})
	return d
}

type rawClient struct {
	t  *testing.T
	nc *net.UnixConn
	br *bufio.Reader
	fr *protocol.FrameReader
}

func dialRaw(t *testing.T, path string) *rawClient {
	t.Helper()
	nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(deadline))
	br := bufio.NewReader(nc)
	return &rawClient{t: t, nc: nc, br: br, fr: protocol.NewFrameReader(br, 0)}
}

func frame(body string) []byte {
	b := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	copy(b[4:], body)
	return b
}

// send writes the bodies as frames in one write.
func (r *rawClient) send(bodies ...string) {
	r.t.Helper()
	var b []byte
	for _, body := range bodies {
		b = append(b, frame(body)...)
	}
	r.write(b)
}

func (r *rawClient) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *rawClient) expect(body string) {
	r.t.Helper()
	b, err := r.fr.ReadFrame()
	if err != nil {
		r.t.Fatalf("waiting for %s: %v", body, err)
	}
	if string(b) != body {
		r.t.Fatalf("daemon sent\n %s\nwant\n %s", b, body)
	}
}

func (r *rawClient) expectLine(line string) {
	r.t.Helper()
	got, err := r.br.ReadString('\n')
	if err != nil || got != line {
		r.t.Fatalf("daemon sent line %q (%v), want %q", got, err, line)
	}
}

// expectFIN waits for the daemon to close the connection without sending
// anything more.
func (r *rawClient) expectFIN() {
	r.t.Helper()
	b, err := r.br.ReadByte()
	if !errors.Is(err, io.EOF) {
		r.t.Fatalf("want FIN, got byte %q, %v", b, err)
	}
}

// play runs a transcript in the capture's notation: "C>S …" is sent (a
// frame, "LINE …\n" a pre-auth line, "FIN" the end of the client's side),
// "S>C …" must be what the daemon sends next ("FIN": it closes).
func (r *rawClient) play(script string) {
	r.t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(script), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		dir, rest, _ := strings.Cut(l, " ")
		line, isLine := strings.CutPrefix(rest, "LINE ")
		line = strings.TrimSuffix(line, `\n`) + "\n"
		switch {
		case dir == "C>S" && rest == "FIN":
			if err := r.nc.CloseWrite(); err != nil {
				r.t.Fatal(err)
			}
		case dir == "C>S" && isLine:
			r.write([]byte(line))
		case dir == "C>S":
			r.send(rest)
		case dir == "S>C" && rest == "FIN":
			r.expectFIN()
		case dir == "S>C" && isLine:
			r.expectLine(line)
		case dir == "S>C":
			r.expect(rest)
		default:
			r.t.Fatalf("bad script line %q", l)
		}
	}
}

// waitClosed waits until every connection of d has ended.
func waitClosed(t *testing.T, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := d.Wait(ctx, func() bool { return d.Open() == 0 }); err != nil {
		t.Fatalf("connections still open: %d", d.Open())
	}
}

// capture1a is §1a of the capture, the full session with authToken
// "s3cret", byte for byte (the stacks are shortened as the capture
// shortens them; the daemon runs with the captured pid).
const capture1a = `
C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"s3cret"}\n
S>C LINE {"type":"nexus-ipc-auth-ok"}\n
C>S [10,1,{"context":"node-ipc-client","appId":"example-client","pid":24987},null]
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
C>S [6,4,{"code":"E_CB"}]
S>C [5,4,{"code":"E_REMOTE_EXCEPTION","message":"Remote call failed: Unknown error"}]
C>S [3,5,null,["echo-service","cbThrowsProp"],["\u0003R:res-4"]]
S>C [3,5,"res-4",[],[]]
C>S [6,5,{"code":"E_CB"}]
S>C [6,5,{"code":"E_REMOTE_EXCEPTION","context":{"remoteError":{"code":"E_CB"}},"name":"CallProcessorRemoteError"}]
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
`

func TestCapture1a(t *testing.T) {
	t.Parallel()
	d := start(t, Options{Token: "s3cret", PID: 24958})
	r := dialRaw(t, d.Path())
	r.play(capture1a)
	waitClosed(t, d)
	if v := d.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
	// The recording is the transcript itself.
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(capture1a), "\n") {
		want = append(want, strings.TrimSpace(l))
	}
	if got := d.Transcript(1); !slices.Equal(got, want) {
		t.Errorf("transcript:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := len(d.Resources()); got != 0 {
		t.Errorf("%d resources outlive their connection", got)
	}
	// Without a token the session is the same minus the two lines.
	d2 := start(t, Options{PID: 24958})
	r2 := dialRaw(t, d2.Path())
	r2.play(strings.Join(want[2:], "\n"))
}

// §1b: after makeRef (the daemon's res-1), withCb on the client's res-1
// goes out in the long form with the daemon's service name.
func TestCapture1bLongFormBug(t *testing.T) {
	t.Parallel()
	const mismatch = `{"code":"E_INVOCATION_SERVICE_MISMATCH","context":{"sourceConnectionId":"conn-1","resourceId":"res-1","expectedServiceName":"resource:res-1","receivedServiceName":"echo-service"},"name":"MessageResourceError"}`
	d := start(t, Options{PID: 24958})
	r := dialRaw(t, d.Path())
	r.play(`
C>S [10,1,{"context":"node-ipc-client","appId":"example-client","pid":1},null]
S>C [11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":24958}]
C>S [14,1]
C>S [3,2,null,["echo-service","makeRef"],[]]
S>C [5,2,"\u0003R:res-1"]
C>S [3,3,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]
S>C [3,1,"res-1",[],"echo-service",[2]]
C>S [6,1,` + mismatch + `]
S>C [6,3,{"code":"E_REMOTE_EXCEPTION","context":{"remoteError":` + mismatch + `},"name":"CallProcessorRemoteError"}]
# Released, res-1 no longer collides: the short form again.
C>S [7,null,"res-1"]
C>S [3,4,null,["echo-service","withCb"],[2,"\u0003R:res-1"]]
S>C [3,2,"res-1",[],[4]]
C>S [5,2,8]
S>C [5,4,8]
`)
	// The switch: the short form whatever the ids.
	d2 := start(t, Options{FixLongForm: true})
	r2 := dialRaw(t, d2.Path())
	r2.play(`
C>S [10,1,{"context":"node-ipc-client","appId":"example-client","pid":1},null,["provider-catalog-v1"]]
C>S [14,1]
C>S [3,2,null,["echo-service","makeRef"],[]]
C>S [3,3,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]
S>C [11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":` + pid() + `}]
S>C [5,2,"\u0003R:res-1"]
S>C [3,1,"res-1",[],[2]]
`)
}

func pid() string { return protocol.NumID(float64(os.Getpid())).String() }

const (
	meta   = `{"context":"node-ipc-client","appId":"raw-probe","pid":1}`
	req    = `[10,1,` + meta + `,null]`
	req1x  = `[10,1,` + meta + `,null,["provider-catalog-v1"]]`
	ready  = `[14,1]`
	ackFmt = `[11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":7}]`
)

// probe opens a session as §1d's probes do and returns the client.
func probe(t *testing.T, d *Daemon) *rawClient {
	t.Helper()
	r := dialRaw(t, d.Path())
	r.send(req, ready)
	r.expect(ackFmt)
	return r
}

// §1d: raw probes, each on a fresh connection.
func TestCapture1dProbes(t *testing.T) {
	t.Parallel()
	t.Run("handshakes", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := dialRaw(t, d.Path())
		r.play(`
C>S ` + req1x + `
S>C ` + ackFmt + `
C>S [14,1,["provider-catalog-v1"],[]]
C>S [3,2,null,["echo-service","echo"],["after-1x-ready"]]
S>C [5,2,"echo:after-1x-ready"]`)
		r = dialRaw(t, d.Path())
		r.play(`
C>S [10,1,` + meta + `]
S>C ` + ackFmt + `
C>S [14,1]
C>S [3,2,null,["echo-service","echo"],["3-element"]]
S>C [5,2,"echo:3-element"]`)
		r = dialRaw(t, d.Path())
		r.send(req, ready, `[3,2,null,["echo-service","echo"],["same-chunk"]]`)
		r.expect(ackFmt)
		r.expect(`[5,2,"echo:same-chunk"]`)
		// Calls before REQ and before READY are never answered: the first
		// answer is the one after READY.
		r = dialRaw(t, d.Path())
		r.play(`
C>S [3,1,null,["echo-service","echo"],["before-req"]]
C>S ` + req + `
S>C ` + ackFmt + `
C>S [3,2,null,["echo-service","echo"],["before-ready"]]
C>S [13,null,{"x":1}]
C>S ` + ready + `
C>S [13,null,{"x":2}]
C>S [3,3,null,["echo-service","echo"],["after"]]
S>C [5,3,"echo:after"]`)
		waitOpen(t, d, 4)
		if v := d.Violations(); len(v) != 1 || !strings.Contains(v[0], `READY [14,1,["provider-catalog-v1"],[]] is not [14,1]`) {
			t.Errorf("violations (want the 1.x READY): %q", v)
		}
	})
	t.Run("closing", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		for _, bad := range [][]byte{
			frame(`[15,null,["late"]]`),
			frame(`[4,9,null]`),
			frame(`[18,9,null]`),
			frame(`["3",9,null]`),
			frame(`{not json`),
			frame(`{"a":1}`),
			frame(`[]`),
			{0, 0, 0, 0},
			{0x01, 0, 0, 1}, // 16 MiB + 1
		} {
			r := probe(t, d)
			r.write(bad)
			r.expectFIN()
		}
		waitClosed(t, d)
		if v := d.Violations(); len(v) != 9 || !strings.Contains(v[0], "PROVIDER_AVAILABLE") {
			t.Errorf("violations: %q", v)
		}
	})
	t.Run("usage-invalid", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := probe(t, d)
		r.play(`
C>S [8,5,[[3,6,null,["echo-service","echo"],["inbatch"]]]]
S>C [6,5,{"code":"E_USAGE_INVALID","context":{"messageType":8},"name":"MessageHandlerInvalidMessageError"}]
C>S [16,9,2,10,3]
S>C [6,9,{"code":"E_USAGE_INVALID","context":{"messageType":16},"name":"MessageHandlerInvalidMessageError"}]
C>S [17,9,0,"abc"]
S>C [6,9,{"code":"E_USAGE_INVALID","context":{"messageType":17},"name":"MessageHandlerInvalidMessageError"}]
C>S [10,2,` + meta + `,null]
S>C [6,2,{"code":"E_USAGE_INVALID","context":{"messageType":10},"name":"MessageHandlerInvalidMessageError"}]
C>S [3,7,null,["echo-service","echo"],["still-up"]]
S>C [5,7,"echo:still-up"]`)
		if v := d.Violations(); len(v) != 4 {
			t.Errorf("violations: %q", v)
		}
	})
	t.Run("ids-and-forms", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := dialRaw(t, d.Path())
		r.play(`
C>S [10,"h",` + meta + `,null]
S>C [11,"h",{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":7}]
C>S [14,"h"]
C>S [3,"c1",null,["echo-service","echo"],[1]]
S>C [5,"c1","echo:1"]
C>S [3,0,null,["echo-service","echo"],[true]]
S>C [5,0,"echo:true"]
C>S [3,1.5,null,["echo-service","echo"],[null]]
S>C [5,1.5,"echo:null"]
C>S [3,null,null,["echo-service","echo"],[[1,null,"a"]]]
S>C [5,null,"echo:1,,a"]
C>S [3,7,null,["echo-service","echo"],"echo-service",["long"]]
S>C [5,7,"echo:long"]
C>S [3,8,null,["echo-service","echo"],null,["null-name"]]
S>C [5,8,"echo:null-name"]
C>S [1,9,null,["echo-service","count"],"echo-service"]
S>C [5,9,5]
C>S [2,10,null,["echo-service","count"],"echo-service",9]
S>C [5,10,true]
C>S [1,11,null,["echo-service","count"]]
S>C [5,11,9]
C>S [2,12,null,["echo-service","count"],10]
S>C [5,12,true]
C>S [1,13,null,["echo-service","count"]]
S>C [5,13,10]
C>S [3,14,null,["echo-service","echo"]]
S>C [5,14,"echo:undefined"]
C>S [3,15,null,["echo-service","echo"],"scalar"]
S>C [5,15,"echo:scalar"]
C>S [3,16,null,["echo-service","makeRef"],[]]
S>C [5,16,"\u0003R:res-1"]
C>S [3,17,"res-1",["inc"],"wrong",[]]
S>C [6,17,{"code":"E_INVOCATION_SERVICE_MISMATCH","context":{"sourceConnectionId":"conn-1","resourceId":"res-1","expectedServiceName":"echo-service","receivedServiceName":"wrong"},"name":"MessageResourceError"}]
C>S [3,18,"res-1",["inc"],null,[]]
S>C [6,18,{"code":"E_INVOCATION_SERVICE_MISMATCH","context":{"sourceConnectionId":"conn-1","resourceId":"res-1","expectedServiceName":"echo-service","receivedServiceName":null},"name":"MessageResourceError"}]
C>S [3,19,"res-1",["inc"],"echo-service",[]]
S>C [5,19,2]
C>S [3,20,"res-1",["inc"],[]]
S>C [5,20,3]
C>S [5,99,"unknown"]
C>S [6,98,{"code":"X"}]
C>S [7,null,"res-404"]
C>S [7,null,"res-1"]
C>S [1,21,"res-1",["n"]]
S>C [6,21,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":"res-1"},"name":"MessageResourceError"}]`)
		if v := d.Violations(); len(v) != 0 {
			t.Errorf("violations: %q", v)
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := probe(t, d)
		r.play(`
C>S [3,2,null,["nosvc","x"],[]]
S>C [6,2,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":null,"path":["nosvc","x"]},"name":"MessageResourceError"}]
C>S [1,3,null,["echo-service","__proto__","x"]]
S>C [6,3,{"code":"E_INVALID_SERVICE_PATH","context":{"path":["echo-service","__proto__","x"]},"name":"MessageResourceError"}]
C>S [3,4,null,[],[]]
S>C [6,4,{"code":"E_INVALID_SERVICE_PATH","context":{"path":[]},"name":"MessageResourceError"}]
C>S [2,5,null,["echo-service"],1]
S>C [6,5,{"code":"E_SET_ON_ROOT","context":{"resourceId":null,"path":["echo-service"]},"name":"MessageResourceError"}]
C>S [3,6,"res-999",[],[]]
S>C [6,6,{"code":"E_RESOURCE_NOT_FOUND","context":{"resourceId":"res-999"},"name":"MessageResourceError"}]
C>S [3,8,null,"echo-service.echo",[]]
S>C [6,8,{"name":"TypeError","code":"E_UNKNOWN","message":"r.find is not a function","stack":"TypeError: r.find is not a function\n    at …"}]
C>S [1,9,null,["echo-service","nested"]]
S>C [5,9,{"deep":7,"fn":"\u0003R:res-1"}]
C>S [3,10,"res-1",[],[]]
S>C [5,10,"nested-fn"]
C>S [3,12,null,["echo-service","echo"],["\u0003N:zz"]]
S>C [6,12,{"name":"SyntaxError","code":"E_UNKNOWN","message":"Cannot convert zz to a BigInt","stack":"SyntaxError: Cannot convert zz to a BigInt\n    at …"}]
C>S [3,13,null,["echo-service","echo"],["\u0003N:0x10"]]
S>C [5,13,"echo:16"]
C>S [1,14,null,["echo-service"]]
S>C [5,14,{"echo":"\u0003R:res-2","withCb":"\u0003R:res-3","cbTwice":"\u0003R:res-4","cbThrows":"\u0003R:res-5","cbThrowsProp":"\u0003R:res-6","fail":"\u0003R:res-7","failPlain":"\u0003R:res-8","failString":"\u0003R:res-9","count":5,"nested":{"deep":7,"fn":"\u0003R:res-10"},"values":"\u0003R:res-11","makeRef":"\u0003R:res-12","peekLastRef":"\u0003R:res-13","takeRef":"\u0003R:res-14"}]
C>S [3,15,"res-2",[],["via-ref"]]
S>C [5,15,"echo:via-ref"]`)
	})
	t.Run("callbacks", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := probe(t, d)
		r.play(`
C>S [3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]
S>C [3,1,"res-1",[],[2]]
C>S [6,1,null]
S>C [5,2,null]
C>S [3,3,null,["echo-service","cbThrows"],["\u0003R:res-2"]]
S>C [3,2,"res-2",[],[]]
C>S [6,2,{"name":"Error","code":"E_CB","message":"cb says no"}]
S>C [5,3,{"code":"E_REMOTE_EXCEPTION","message":"Remote call failed: cb says no"}]
C>S [3,4,null,["echo-service","cbThrowsProp"],["\u0003R:res-3"]]
S>C [3,3,"res-3",[],[]]
C>S [6,3,"just a string"]
S>C [6,4,{"code":"E_REMOTE_EXCEPTION","context":{"remoteError":"just a string"},"name":"CallProcessorRemoteError"}]
C>S [3,6,null,["echo-service","withCb"],[1,5]]
S>C [6,6,{"name":"TypeError","code":"E_UNKNOWN","message":"cb is not a function","stack":"TypeError: cb is not a function\n    at …"}]
C>S [3,7,null,["echo-service","echo"],["after"]]
S>C [5,7,"echo:after"]`)
		// The daemon's call counter is per daemon: a new connection goes on.
		r2 := probe(t, d)
		r2.play(`
C>S [3,2,null,["echo-service","withCb"],[3,"\u0003R:res-1"]]
S>C [3,4,"res-1",[],[6]]
C>S [5,4,"six"]
S>C [5,2,"six"]`)
	})
	t.Run("callback-timeout", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7, CallTimeout: 50 * time.Millisecond})
		r := probe(t, d)
		r.play(`
C>S [3,5,null,["echo-service","withCb"],[1,"\u0003R:res-4"]]
S>C [3,1,"res-4",[],[2]]
C>S [5,"1","string id: ignored"]
S>C [6,5,{"code":"E_CALL_TIMEOUT","context":{"messageId":1},"name":"PendingCallTimeoutError"}]
C>S [5,1,"late"]
C>S [3,6,null,["echo-service","cbThrows"],["\u0003R:res-5"]]
S>C [3,2,"res-5",[],[]]
S>C [5,6,{"code":"E_CALL_TIMEOUT","message":"Call #2 timed out after timeout."}]
C>S [3,7,null,["echo-service","echo"],["after"]]
S>C [5,7,"echo:after"]`)
	})
	t.Run("reject", func(t *testing.T) {
		t.Parallel()
		d := start(t, Options{PID: 7})
		r := dialRaw(t, d.Path())
		r.play(`
C>S [10,1,` + meta + `,{"context":"node-ipc-daemon","appId":"renamed","instance":"x"}]
S>C [11,1,{"context":"node-ipc-daemon","appId":"renamed","instance":"x"}]
C>S [12,1,{"code":"E_NOPE"}]
S>C FIN`)
		waitClosed(t, d)
		if v := d.Violations(); len(v) != 0 {
			t.Errorf("violations: %q", v)
		}
	})
	// READY with another id, or a REQ without metadata: stuck until the
	// handshake deadline; and a connection that sends nothing.
	for name, script := range map[string]string{
		"ready-id": `
C>S [10,5,` + meta + `,null]
S>C [11,5,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":7}]
C>S [14,6]
C>S [3,1,null,["echo-service","echo"],["stuck"]]
S>C FIN`,
		"null-meta": `
C>S [10,1,null,null]
S>C ` + ackFmt + `
C>S [14,1]
C>S [3,1,null,["echo-service","echo"],["stuck"]]
S>C FIN`,
		"silent": `S>C FIN`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := start(t, Options{PID: 7, HandshakeTimeout: 300 * time.Millisecond})
			dialRaw(t, d.Path()).play(script)
			waitClosed(t, d)
			if v := d.Violations(); len(v) != 0 {
				t.Errorf("violations: %q", v)
			}
		})
	}
}

func waitOpen(t *testing.T, d *Daemon, accepted int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := d.Wait(ctx, func() bool { return d.Accepted() >= accepted }); err != nil {
		t.Fatal(err)
	}
}

func TestPreAuth(t *testing.T) {
	t.Parallel()
	d := start(t, Options{Token: "s3cret", PID: 7})
	r := dialRaw(t, d.Path())
	r.play(`
C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"wrong"}\n
S>C FIN`)
	if got := d.Transcript(1); !slices.Equal(got, []string{`C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"wrong"}\n`, "S>C FIN"}) {
		t.Errorf("transcript of the wrong token: %q", got)
	}
	// Auth line and REQ in one write: the REQ is dropped.
	r = dialRaw(t, d.Path())
	r.write(append([]byte(`{"type":"nexus-ipc-auth","version":1,"token":"s3cret"}`+"\n"), frame(req)...))
	r.expectLine(`{"type":"nexus-ipc-auth-ok"}` + "\n")
	r.play(`
C>S FIN
S>C FIN`)
	waitClosed(t, d)
	if v := d.Violations(); len(v) != 1 || !strings.Contains(v[0], "bytes sent behind the auth line") {
		t.Errorf("violations: %q", v)
	}

	// Token on the daemon only: the REQ is no auth line (the auth timeout).
	d2 := start(t, Options{Token: "s3cret", PID: 7, AuthTimeout: 200 * time.Millisecond})
	dialRaw(t, d2.Path()).play(`
C>S ` + req + `
S>C FIN`)
	// Token on the client only: the line is read as a frame header.
	d3 := start(t, Options{PID: 7})
	dialRaw(t, d3.Path()).play(`
C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"s3cret"}\n
S>C FIN`)
	waitClosed(t, d3)
	if v := d3.Violations(); len(v) != 1 || !strings.Contains(v[0], "bad frame") {
		t.Errorf("violations: %q", v)
	}
}

// syncBuffer is an io.Writer for Main's output that tests can wait on.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output contains text.
func (s *syncBuffer) waitFor(t *testing.T, text string) {
	t.Helper()
	timeout := time.After(deadline)
	for {
		s.mu.Lock()
		has, ch := strings.Contains(s.b.String(), text), s.changed
		s.mu.Unlock()
		if has {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("no %q in %q", text, s.String())
		}
	}
}

func TestMainUsage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"--app", "x"}, &stdout, &stderr); code != 2 {
		t.Errorf("without --socket: %d %s", code, stderr.String())
	}
	if code := Main([]string{"--socket", "/tmp/x.sock", "--token-env", "LEGACYD_NO_SUCH_VARIABLE"}, &stdout, &stderr); code != 2 {
		t.Errorf("empty token: %d %s", code, stderr.String())
	}
	if code := Main([]string{"--socket", "/tmp/x.sock", "extra"}, &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: %d %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %q", stdout.String())
	}
}

// TestMainCommand runs Main as legacyd runs: READY, a session, SIGINT. It
// signals the test process, so it does not run in parallel with another
// test that does.
func TestMainCommand(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "lxm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "d.sock")
	t.Setenv("LEGACYD_TEST_TOKEN", "s3cret")
	for _, violate := range []bool{false, true} {
		stdout, stderr := newSyncBuffer(), newSyncBuffer()
		code := make(chan int, 1)
		go func() {
			code <- Main([]string{"--socket", path, "--token-env", "LEGACYD_TEST_TOKEN", "--app", "app", "--instance", "i", "--groups", "g1,g2"}, stdout, stderr)
		}()
		stdout.waitFor(t, "READY "+path+"\n")
		r := dialRaw(t, path)
		r.play(`
C>S LINE {"type":"nexus-ipc-auth","version":1,"token":"s3cret"}\n
S>C LINE {"type":"nexus-ipc-auth-ok"}\n
C>S ` + req + `
S>C [11,1,{"context":"node-ipc-daemon","appId":"app","instance":"i","pid":` + pid() + `,"groups":["g1","g2"]}]
C>S ` + ready + `
C>S [3,1,null,["echo-service","echo"],["cmd"]]
S>C [5,1,"echo:cmd"]`)
		if violate {
			r.play(`
C>S [15,null,["late"]]
S>C FIN`)
		} else {
			r.play(`
C>S FIN
S>C FIN`)
		}
		stderr.waitFor(t, "conn-1 S>C FIN\n")
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		var got int
		select {
		case got = <-code:
		case <-time.After(deadline):
			t.Fatal("Main did not return on SIGINT")
		}
		if want := map[bool]int{false: 0, true: 1}[violate]; got != want {
			t.Errorf("violate=%v: exit %d, want %d; stderr:\n%s", violate, got, want, stderr)
		}
		if !strings.Contains(stderr.String(), `conn-1 C>S [3,1,null,["echo-service","echo"],["cmd"]]`+"\n") ||
			strings.Contains(stderr.String(), "VIOLATION conn-1: PROVIDER_AVAILABLE") != violate {
			t.Errorf("stderr:\n%s", stderr)
		}
		// The socket stays behind, as 0.3.1 leaves it; the next daemon
		// takes it over (the second round listens on it again).
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("socket after exit: %v", err)
		}
	}
}
