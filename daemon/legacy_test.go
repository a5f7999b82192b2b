package daemon_test

// A scripted core 0.x client against the Go daemon: the frames that a real
// @nexus-js/node-ipc 0.3.1 + @nexus-js/core 0.5.0 client sent, replayed from
// transcripts of the capture (../shared/legacy-0x-capture-full.md, §1a, §1c,
// §1d and §2b), and the frames the Go daemon must send back. The transcripts
// are daemon/testdata/legacy-0x-*.txt; their format is described at the top
// of each file and in legacyParse. Where the Go daemon's bytes differ from
// 0.3.1's on purpose, the transcript says why, in a "# differs from 0.3.1:"
// comment above the line.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// legacyDeadline bounds every read and write of a replay: a daemon that
// neither sends the expected frame nor closes fails the test instead of
// hanging it.
const legacyDeadline = 10 * time.Second

// The Go port of the capture's echo-service (the JS harness of §1a, its
// members as the capture and internal/legacy0x's doc list them). Where a JS
// behaviour has no Go equivalent, the port does what a Go service would do,
// and the transcript comments the bytes that follow from it.
type legacyEcho struct {
	Count  float64       `json:"count"`
	Nested *legacyNested `json:"nested"`

	mu      sync.Mutex
	lastRef *legacyRef // the last ref makeRef handed out
	// withCb receives the error each withCb returns (nil for a
	// success), while it has room.
	withCb chan error
}

type legacyNested struct {
	Deep float64 `json:"deep"`
}

// Fn is nested.fn().
func (*legacyNested) Fn() string { return "nested-fn" }

// legacyRef is what makeRef returns by reference: nexus.ref({n: 1, inc(),
// peek()}).
type legacyRef struct {
	N float64 `json:"n"`
}

// Inc is ++this.n.
func (r *legacyRef) Inc() float64 { r.N++; return r.N }

// Peek is this.n.
func (r *legacyRef) Peek() float64 { return r.N }

func newLegacyEcho() *legacyEcho {
	return &legacyEcho{Count: 5, Nested: &legacyNested{Deep: 7}, withCb: make(chan error, 2)}
}

// jsString is String(x) for the values echo receives.
func jsString(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case protocol.Undefined:
		return "undefined"
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return compat.FormatNumber(v)
	case *big.Int:
		return v.String()
	}
	return "[object Object]"
}

// Echo is "echo:" + String(x).
func (e *legacyEcho) Echo(x any) string { return "echo:" + jsString(x) }

// WithCb is cb(n*2); the callback's error propagates.
func (e *legacyEcho) WithCb(ctx context.Context, n float64, cb func(context.Context, float64) (any, error)) (any, error) {
	v, err := cb(ctx, n*2)
	select {
	case e.withCb <- err:
	default:
	}
	return v, err
}

// CbTwice is [await cb("a"), await cb("b")].
func (e *legacyEcho) CbTwice(ctx context.Context, cb func(context.Context, string) (any, error)) ([]any, error) {
	a, err := cb(ctx, "a")
	if err != nil {
		return nil, err
	}
	b, err := cb(ctx, "b")
	if err != nil {
		return nil, err
	}
	return []any{a, b}, nil
}

// CbThrows calls cb() and returns the code and message of the error it got,
// as the JS harness returns {code, message} of what it caught. In JS that is
// the client-side CallProcessorRemoteError (E_REMOTE_EXCEPTION, "Remote call
// failed: …"); a Go service gets the callback's own error.
func (e *legacyEcho) CbThrows(ctx context.Context, cb func(context.Context) (any, error)) (*protocol.Object, error) {
	v, err := cb(ctx)
	if err == nil {
		return protocol.NewObject("ok", v), nil
	}
	var re *protocol.RemoteError
	if !errors.As(err, &re) {
		return nil, err
	}
	return protocol.NewObject("code", re.Code, "message", re.Message), nil
}

// CbThrowsProp calls cb() and lets its error propagate.
func (e *legacyEcho) CbThrowsProp(ctx context.Context, cb func(context.Context) (any, error)) (any, error) {
	return cb(ctx)
}

// Fail fails with code E_APP (JS: an Error with code = "E_APP").
func (e *legacyEcho) Fail() error { return errcode.New("E_APP", "failed on purpose") }

// FailPlain fails with an error without a code (JS: new Error("plain boom")).
func (e *legacyEcho) FailPlain() error { return errors.New("plain boom") }

// FailString is JS's `throw "just a string"`: Go has no throw of a
// non-error; the nearest is a panic with a string, which the daemon turns
// into an E_UNKNOWN error.
func (e *legacyEcho) FailString() { panic("just a string") }

// Values checks the Map/Set/BigInt/undefined/escape argument of §1a and
// returns the captured reply, in the same key order.
func (e *legacyEcho) Values(x *protocol.Object) (*protocol.Object, error) {
	if err := legacyCheckValues(x); err != nil {
		return nil, errcode.New("E_VALUES", err.Error())
	}
	return protocol.NewObject(
		"m", protocol.NewMap("a", 1, "f", protocol.Undefined{}),
		"s", protocol.NewSet(1, "x"),
		"u", protocol.Undefined{},
		"big", big.NewInt(10),
		"esc", "\x03R:x",
		"esc4", "\x04y",
		"arr", []any{protocol.Undefined{}, big.NewInt(1)},
		"nan", math.NaN(),
		// new Date(0): a JS Date crosses as {} (sanitize copies its
		// own enumerable properties, it has none); Go has no Date.
		"date", protocol.NewObject(),
		"nul", nil,
	), nil
}

// legacyCheckValues checks what the client passed to values: {m: Map{k →
// {x:1}}, s: Set{"a"}, b: 123n, u: undefined, esc: "\u0003hi", esc4:
// "\u0004z", arr: [undefined]}.
func legacyCheckValues(x *protocol.Object) error {
	if x == nil {
		return errors.New("no argument")
	}
	if got := strings.Join(x.Keys(), ","); got != "m,s,b,u,esc,esc4,arr" {
		return fmt.Errorf("keys %s", got)
	}
	m, ok := protocol.Get(x, "m").(*protocol.Map)
	if !ok || m.Len() != 1 {
		return fmt.Errorf("m: %#v", protocol.Get(x, "m"))
	}
	if k, v := m.At(0); k != "k" || protocol.Get(v.(*protocol.Object), "x") != 1.0 {
		return fmt.Errorf("m: %v → %#v", k, v)
	}
	if s, ok := protocol.Get(x, "s").(*protocol.Set); !ok || s.Len() != 1 || s.Values()[0] != "a" {
		return fmt.Errorf("s: %#v", protocol.Get(x, "s"))
	}
	if b, ok := protocol.Get(x, "b").(*big.Int); !ok || b.Int64() != 123 {
		return fmt.Errorf("b: %#v", protocol.Get(x, "b"))
	}
	if _, ok := protocol.Get(x, "u").(protocol.Undefined); !ok {
		return fmt.Errorf("u: %#v", protocol.Get(x, "u"))
	}
	if protocol.Get(x, "esc") != "\x03hi" || protocol.Get(x, "esc4") != "\x04z" {
		return fmt.Errorf("escapes: %q %q", protocol.Get(x, "esc"), protocol.Get(x, "esc4"))
	}
	if arr, ok := protocol.Get(x, "arr").([]any); !ok || len(arr) != 1 || arr[0] != (protocol.Undefined{}) {
		return fmt.Errorf("arr: %#v", protocol.Get(x, "arr"))
	}
	return nil
}

// MakeRef returns nexus.ref({n: 1, inc, peek}).
func (e *legacyEcho) MakeRef() session.Invoker {
	r := &legacyRef{N: 1}
	e.mu.Lock()
	e.lastRef = r
	e.mu.Unlock()
	return bind.Ref(r)
}

// PeekLastRef is the n of the last ref makeRef made.
func (e *legacyEcho) PeekLastRef() (float64, error) {
	e.mu.Lock()
	r := e.lastRef
	e.mu.Unlock()
	if r == nil {
		return 0, errcode.New("E_NO_REF", "makeRef was not called")
	}
	return r.N, nil
}

// TakeRef is r.hello("d") on the client's nexus.ref({hello}).
func (e *legacyEcho) TakeRef(ctx context.Context, r *session.RemoteRef) (any, error) {
	return r.Call(ctx, []string{"hello"}, "d")
}

// --- transcripts -----------------------------------------------------------

// legacyStep is one line of a transcript.
type legacyStep struct {
	file string
	line int
	// op is "send" (C>S), "same" (C>S+: in the same write as the C>S
	// before), "expect" (S>C), "dial" (a new connection to the same
	// daemon) or "ids" (IDS: renumbered daemon call ids).
	op string
	// kind is "frame", "line" (a pre-auth LINE) or "fin".
	kind string
	body string
}

func (s legacyStep) String() string {
	return fmt.Sprintf("%s:%d", s.file, s.line)
}

// legacySection is a part of a transcript played on a daemon of its own.
type legacySection struct {
	name  string
	opts  daemon.Options
	steps []legacyStep
}

// legacyParse reads a transcript. Lines:
//
//	# …                    a comment
//	=== name [options]     starts a section, played on a fresh daemon with
//	                       the options: token=T, groups=a,b,
//	                       refuse-legacy, handshake-timeout=D,
//	                       auth-timeout=D (a file without sections is one)
//	C>S <json>             a frame the test sends, in a write of its own
//	C>S+ <json>            a frame sent in the same write as the C>S line
//	                       before it (a frame or a LINE)
//	C>S LINE <json>        the pre-auth line (json + "\n")
//	C>S FIN                the test closes its side of the connection
//	S>C <json>             the frame the daemon must send next
//	S>C LINE <json>        the pre-auth line the daemon must send next
//	S>C FIN                the daemon must close the connection now,
//	                       having sent nothing more
//	DIAL                   a new connection to the same daemon; the lines
//	                       after it use it
//	IDS 2=1 …              the daemon's own call (S>C GET, SET, APPLY)
//	                       that the transcript numbers 2 is numbered 1
//	                       by the Go daemon on the current connection
//	                       (see legacyConn.ids)
func legacyParse(t *testing.T, name string) []legacySection {
	t.Helper()
	path := filepath.Join("testdata", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var secs []legacySection
	cur := &legacySection{name: name}
	for i, line := range strings.Split(string(b), "\n") {
		st := legacyStep{file: name, line: i + 1}
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "=== "):
			if len(cur.steps) > 0 {
				secs = append(secs, *cur)
			}
			cur = &legacySection{}
			fields := strings.Fields(strings.TrimPrefix(line, "=== "))
			var words []string
			for _, f := range fields {
				if !legacyOption(&cur.opts, f) {
					words = append(words, f)
				}
			}
			cur.name = strings.Join(words, " ")
			continue
		case line == "DIAL":
			st.op = "dial"
		case strings.HasPrefix(line, "IDS "):
			st.op, st.body = "ids", strings.TrimPrefix(line, "IDS ")
		case strings.HasPrefix(line, "C>S+ "):
			st.op, line = "same", strings.TrimPrefix(line, "C>S+ ")
		case strings.HasPrefix(line, "C>S "):
			st.op, line = "send", strings.TrimPrefix(line, "C>S ")
		case strings.HasPrefix(line, "S>C "):
			st.op, line = "expect", strings.TrimPrefix(line, "S>C ")
		default:
			t.Fatalf("%s: cannot read %q", st, line)
		}
		switch {
		case st.op == "dial" || st.op == "ids":
		case line == "FIN":
			st.kind = "fin"
		case strings.HasPrefix(line, "LINE "):
			st.kind, st.body = "line", strings.TrimPrefix(line, "LINE ")
		default:
			st.kind, st.body = "frame", line
			if !gjson.Valid(line) && st.op == "expect" {
				t.Fatalf("%s: not JSON: %s", st, line)
			}
		}
		cur.steps = append(cur.steps, st)
	}
	if len(cur.steps) > 0 {
		secs = append(secs, *cur)
	}
	return secs
}

// legacyOption applies a section option; false if f is not one.
func legacyOption(o *daemon.Options, f string) bool {
	k, v, _ := strings.Cut(f, "=")
	switch k {
	case "token":
		o.Token = v
	case "groups":
		o.Groups = strings.Split(v, ",")
	case "refuse-legacy":
		o.RefuseLegacy = true
	case "handshake-timeout", "auth-timeout":
		d, err := time.ParseDuration(v)
		if err != nil {
			return false
		}
		if k == "auth-timeout" {
			o.AuthTimeout = d
		} else {
			o.HandshakeTimeout = d
		}
	default:
		return false
	}
	return true
}

// legacyDaemon starts a daemon for a replay: appId "example-app" (the
// capture's), echo-service provided, on a short socket path.
func legacyDaemon(t *testing.T, opts daemon.Options) (*daemon.Daemon, *legacyEcho) {
	t.Helper()
	opts.AppID = "example-app"
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(shortDir(t), "d.sock")
	}
	d, err := daemon.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	svc := newLegacyEcho()
	if err := d.Provide("echo-service", svc); err != nil {
		t.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, svc
}

// legacyConn is a raw connection playing the 0.x client.
type legacyConn struct {
	t  *testing.T
	nc *net.UnixConn
	br *bufio.Reader
	fr *protocol.FrameReader
	// ids maps the daemon's call ids in the transcript (0.x draws them
	// from one per-process counter, shared by all connections) to the
	// ones the Go daemon sent (a counter per connection): an S>C GET,
	// SET or APPLY binds the transcript's id to the one received, and a
	// C>S RES or ERR is sent with the id its transcript id is bound to.
	// Every binding must be the identity, or listed in renumbered (IDS
	// lines).
	ids        map[string]string
	renumbered map[string]string
	pending    []byte    // C>S frames not written yet (a C>S+ may follow)
	wrote      time.Time // when the last write went out
}

func legacyDial(t *testing.T, path string) *legacyConn {
	t.Helper()
	nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(legacyDeadline))
	br := bufio.NewReader(nc)
	return &legacyConn{t: t, nc: nc, br: br, fr: protocol.NewFrameReader(br, 0), ids: map[string]string{}, renumbered: map[string]string{}}
}

// flush writes the frames queued by send.
func (c *legacyConn) flush() {
	c.t.Helper()
	if len(c.pending) == 0 {
		return
	}
	b := c.pending
	c.pending = nil
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	c.wrote = time.Now()
}

// send queues a frame; same says it goes in the same write as the one
// before.
func (c *legacyConn) send(body string, same bool) {
	c.t.Helper()
	if !same {
		c.flush()
	}
	body = c.replyID(body)
	var err error
	if c.pending, err = protocol.AppendFrame(c.pending, []byte(body), 0); err != nil {
		c.t.Fatal(err)
	}
}

// sendLine queues a pre-auth line (a C>S+ frame may follow it in the same
// write).
func (c *legacyConn) sendLine(line string) {
	c.flush()
	c.pending = append(c.pending, line+"\n"...)
}

// next reads the next frame the daemon sends.
func (c *legacyConn) next() (string, error) {
	c.flush()
	b, err := c.fr.ReadFrame()
	return string(b), err
}

// expect reads the next frame and compares it with want after
// normalization (legacyNormalize); where is the transcript line.
func (c *legacyConn) expect(where, want string) {
	c.t.Helper()
	got, err := c.next()
	if err != nil {
		c.t.Fatalf("%s: want %s, got %v", where, want, err)
	}
	got = c.requestID(where, want, got)
	if g, w := legacyNormalize(got), legacyNormalize(want); g != w {
		c.t.Errorf("%s: frame differs\n got %s\nwant %s", where, g, w)
	}
}

// expectLine reads the daemon's pre-auth line.
func (c *legacyConn) expectLine(where, want string) {
	c.t.Helper()
	c.flush()
	got, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("%s: want the line %s, got %q, %v", where, want, got, err)
	}
	if got != want+"\n" {
		c.t.Errorf("%s: line differs\n got %q\nwant %q", where, got, want+"\n")
	}
}

// expectClose checks that the daemon closes the connection without sending
// anything more.
func (c *legacyConn) expectClose(where string) {
	c.t.Helper()
	c.flush()
	got, err := io.ReadAll(c.br)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("%s: want the daemon to close, got %v after %q", where, err, got)
	}
	if len(got) > 0 {
		c.t.Errorf("%s: want the daemon to close, got %q first", where, got)
	}
	c.t.Logf("%s: closed %v after the last write", where, time.Since(c.wrote).Round(time.Millisecond))
}

// requestID binds the transcript's id of a daemon request (S>C type 1, 2
// or 3) to the id in got, and returns got with the transcript's id, so that
// the rest of the frame is compared as is.
func (c *legacyConn) requestID(where, want, got string) string {
	c.t.Helper()
	switch gjson.Get(want, "0").Raw {
	case "1", "2", "3":
	default:
		return got
	}
	if gjson.Get(got, "0").Raw != gjson.Get(want, "0").Raw {
		return got
	}
	wantID, gotID := gjson.Get(want, "1"), gjson.Get(got, "1")
	if bound, ok := c.ids[wantID.Raw]; ok && bound != gotID.Raw {
		c.t.Errorf("%s: the daemon's call %s of the transcript was %s before, now %s", where, wantID.Raw, bound, gotID.Raw)
	}
	for w, g := range c.ids {
		if g == gotID.Raw && w != wantID.Raw {
			c.t.Errorf("%s: the daemon reused its call id %s (transcript %s and %s)", where, g, w, wantID.Raw)
		}
	}
	if gotID.Raw != wantID.Raw && c.renumbered[wantID.Raw] != gotID.Raw {
		c.t.Errorf("%s: the daemon's call id is %s, the transcript's %s", where, gotID.Raw, wantID.Raw)
	}
	c.ids[wantID.Raw] = gotID.Raw
	return got[:gotID.Index] + wantID.Raw + got[gotID.Index+len(gotID.Raw):]
}

// replyID rewrites the id of a C>S RES or ERR to the daemon's id it is
// bound to (see ids).
func (c *legacyConn) replyID(body string) string {
	switch gjson.Get(body, "0").Raw {
	case "5", "6":
	default:
		return body
	}
	id := gjson.Get(body, "1")
	bound, ok := c.ids[id.Raw]
	if !ok || bound == id.Raw {
		return body
	}
	return body[:id.Index] + bound + body[id.Index+len(id.Raw):]
}

var (
	legacyPID   = regexp.MustCompile(`"pid":-?[0-9]+`)
	legacyStack = regexp.MustCompile(`"stack":"(?:[^"\\]|\\.)*"`)
)

// legacyNormalize is what a frame is compared by: the pid of identity
// metadata (in HANDSHAKE_REQ, ACK and IDENTITY_UPDATE frames) is the Go
// daemon's, that is this process's, and stack strings are "<stack>". Nothing
// else is normalized.
func legacyNormalize(frame string) string {
	switch gjson.Get(frame, "0").Raw {
	case "10", "11", "13":
		frame = legacyPID.ReplaceAllString(frame, `"pid":`+strconv.Itoa(os.Getpid()))
	}
	return legacyStack.ReplaceAllString(frame, `"stack":"<stack>"`)
}

// legacyReplay plays steps on connections to d: a fresh one at the start
// and at each DIAL. With auth false the LINE steps are left out (the
// capture: a session without a token has the same bytes without its two
// LINE entries). It returns the last connection.
func legacyReplay(t *testing.T, d *daemon.Daemon, steps []legacyStep, auth bool) *legacyConn {
	t.Helper()
	c := legacyDial(t, d.Path())
	for _, st := range steps {
		where := st.String()
		if st.kind == "line" && !auth {
			continue
		}
		switch {
		case st.op == "dial":
			c.flush()
			c = legacyDial(t, d.Path())
		case st.op == "ids":
			for _, pair := range strings.Fields(st.body) {
				w, g, ok := strings.Cut(pair, "=")
				if !ok {
					t.Fatalf("%s: IDS wants transcript=go pairs, got %q", where, pair)
				}
				c.renumbered[w] = g
			}
		case st.op == "send" || st.op == "same":
			switch st.kind {
			case "line":
				c.sendLine(st.body)
			case "fin":
				c.flush()
				if err := c.nc.CloseWrite(); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			default:
				c.send(st.body, st.op == "same")
			}
		case st.kind == "line":
			c.expectLine(where, st.body)
		case st.kind == "fin":
			c.expectClose(where)
		default:
			c.expect(where, st.body)
		}
	}
	c.flush()
	return c
}

// legacyRunSections replays every section of a transcript on a daemon of
// its own.
func legacyRunSections(t *testing.T, name string) {
	t.Helper()
	for _, sec := range legacyParse(t, name) {
		t.Run(sec.name, func(t *testing.T) {
			t.Parallel()
			d, _ := legacyDaemon(t, sec.opts)
			legacyReplay(t, d, sec.steps, true)
		})
	}
}

// §1a: the whole captured session of a 0.x client, with and without
// pre-auth.
func TestLegacyClientTranscript(t *testing.T) {
	t.Parallel()
	secs := legacyParse(t, "legacy-0x-client.txt")
	if len(secs) != 1 {
		t.Fatalf("%d sections, want one session", len(secs))
	}
	for _, tc := range []struct {
		name  string
		token string
	}{{"without pre-auth", ""}, {"with pre-auth", "s3cret"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := legacyDaemon(t, daemon.Options{Token: tc.token})
			legacyReplay(t, d, secs[0].steps, tc.token != "")
			// The transcript ends with both sides closed: the daemon
			// forgets the connection.
			legacyWait(t, "the connection is forgotten", func() bool { return len(d.Conns()) == 0 })
		})
	}
}

// §1c and §1d: the raw probes and the pre-auth failures.
func TestLegacyProbes(t *testing.T) {
	t.Parallel()
	legacyRunSections(t, "legacy-0x-probes.txt")
}

// §2b: Options.RefuseLegacy refuses a 0.x client with the bytes of a JS
// 1.2.0 daemon, after pre-auth too, and still serves 1.x clients.
func TestLegacyRefused(t *testing.T) {
	t.Parallel()
	legacyRunSections(t, "legacy-0x-refused.txt")
}

// legacyWait polls cond every millisecond until it holds, for
// legacyDeadline at most.
func legacyWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(legacyDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not the case after %v", what, legacyDeadline)
		}
		time.Sleep(time.Millisecond)
	}
}

const (
	legacyReq   = `[10,1,{"context":"node-ipc-client","appId":"raw-probe","pid":1},null]`
	legacyAck   = `[11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":1}]`
	legacyReady = `[14,1]`
	modernReq   = `[10,1,{"context":"node-ipc-client","appId":"raw-probe-1x","pid":1},null,["provider-catalog-v1"]]`
	modernReady = `[14,1,["provider-catalog-v1"],[]]`
)

// legacySession is a raw 0.x session on d, past READY and a first call,
// so that the daemon counts it among its connections.
func legacySession(t *testing.T, d *daemon.Daemon) *legacyConn {
	t.Helper()
	c := legacyDial(t, d.Path())
	c.send(legacyReq, false)
	c.expect("0.x ACK", legacyAck)
	c.send(legacyReady, false)
	c.send(`[3,1,null,["echo-service","echo"],["ready"]]`, false)
	c.expect("0.x first call", `[5,1,"echo:ready"]`)
	return c
}

// Type 15 is never sent to a 0.x client, which would close the connection
// on it: not for a Provide while the session is open, nor for one between
// its ACK and its READY. A 1.x session on the same daemon gets
// [15,null,[token]] each time, the bytes a JS daemon sends
// (PROTOCOL-NOTES.md, Provider catalog). Provide notifies before it
// returns, so a PROVIDER_AVAILABLE would be the next frame.
func TestLegacyNoProviderAvailable(t *testing.T) {
	t.Parallel()
	t.Run("Provide while the session is open", func(t *testing.T) {
		t.Parallel()
		d, _ := legacyDaemon(t, daemon.Options{})
		old := legacySession(t, d)
		neu := legacyDial(t, d.Path())
		neu.send(modernReq, false)
		neu.expect("1.x ACK", `[11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":1},["provider-catalog-v1"],["echo-service"]]`)
		neu.send(modernReady, false)
		neu.send(`[3,1,null,["echo-service","echo"],["ready"]]`, false)
		neu.expect("1.x first call", `[5,1,"echo:ready"]`)

		gens := map[string]session.Generation{}
		for _, c := range d.Conns() {
			gens[protocol.Get(c.Identity(), "appId").(string)] = c.Generation()
		}
		if len(gens) != 2 || gens["raw-probe"] != session.Core0 || gens["raw-probe-1x"] != session.Core1 {
			t.Errorf("generations %v, want raw-probe 0.x and raw-probe-1x 1.x", gens)
		}

		if err := d.Provide("late", map[string]any{"hi": func() string { return "hi" }}); err != nil {
			t.Fatal(err)
		}
		old.send(`[3,2,null,["late","hi"],[]]`, false)
		old.expect("0.x: the call's reply, no type 15 before it", `[5,2,"hi"]`)
		neu.expect("1.x: PROVIDER_AVAILABLE", `[15,null,["late"]]`)
		neu.send(`[3,2,null,["late","hi"],[]]`, false)
		neu.expect("1.x: the late service", `[5,2,"hi"]`)
	})
	t.Run("Provide between the ACK and the READY", func(t *testing.T) {
		t.Parallel()
		d, _ := legacyDaemon(t, daemon.Options{})
		old := legacyDial(t, d.Path())
		old.send(legacyReq, false)
		old.expect("0.x ACK", legacyAck)
		neu := legacyDial(t, d.Path())
		neu.send(modernReq, false)
		neu.expect("1.x ACK", `[11,1,{"context":"node-ipc-daemon","appId":"example-app","instance":"default","pid":1},["provider-catalog-v1"],["echo-service"]]`)
		// Both ACKs are out: "between" is in neither catalog.
		if err := d.Provide("between", map[string]any{"hi": func() string { return "between" }}); err != nil {
			t.Fatal(err)
		}
		old.send(legacyReady, false)
		old.send(`[3,1,null,["between","hi"],[]]`, false)
		old.expect("0.x: the call's reply, no type 15 before it", `[5,1,"between"]`)
		neu.send(modernReady, false)
		neu.expect("1.x: PROVIDER_AVAILABLE at READY", `[15,null,["between"]]`)
	})
}

// A callback that the 0.x client never answers. 0.3.1 fails the service's
// await at +5 s ([6,2,{"code":"E_CALL_TIMEOUT","context":{"messageId":3},
// "name":"PendingCallTimeoutError"}]) and ignores a late RES; so does the
// Go daemon with its default CallTimeout (5 s, JS's callTimeout), whose
// message says how long it waited. With NoCallTimeout a call into a
// client waits as long as the service's context lets it, so a late RES
// still answers it; when the client goes away, the context ends and the
// call fails with E_CONN_CLOSED.
func TestLegacyCallbackNeverAnswered(t *testing.T) {
	t.Parallel()
	t.Run("default call timeout", func(t *testing.T) {
		t.Parallel()
		d, svc := legacyDaemon(t, daemon.Options{})
		c := legacySession(t, d)
		c.send(`[3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]`, false)
		c.expect("the daemon calls the callback", `[3,1,"res-1",[],[2]]`)
		c.expect("the service's await fails after 5 s", `[6,2,{"name":"NexusError","code":"E_CALL_TIMEOUT","message":"call timed out after 5000 ms (the session's call timeout)"}]`)
		if err := <-svc.withCb; !errors.Is(err, errcode.CallTimeout) {
			t.Fatalf("withCb: %v, want E_CALL_TIMEOUT", err)
		}
		c.send(`[5,1,"late"]`, false) // dropped
		c.send(`[3,3,null,["echo-service","echo"],["after"]]`, false)
		c.expect("the session goes on", `[5,3,"echo:after"]`)
	})
	t.Run("NoCallTimeout", func(t *testing.T) {
		t.Parallel()
		d, svc := legacyDaemon(t, daemon.Options{CallTimeout: daemon.NoCallTimeout})
		c := legacySession(t, d)
		c.send(`[3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]`, false)
		c.expect("the daemon calls the callback", `[3,1,"res-1",[],[2]]`)
		c.send(`[5,1,"late"]`, false)
		c.expect("the late reply answers the call", `[5,2,"late"]`)
		if err := <-svc.withCb; err != nil {
			t.Fatalf("withCb: %v", err)
		}

		c2 := legacySession(t, d)
		c2.send(`[3,2,null,["echo-service","withCb"],[1,"\u0003R:res-1"]]`, false)
		c2.expect("the daemon calls the callback", `[3,1,"res-1",[],[2]]`)
		c2.nc.Close()
		select {
		case err := <-svc.withCb:
			if !errors.Is(err, errcode.ConnClosed) {
				t.Fatalf("withCb after the client left: %v, want E_CONN_CLOSED", err)
			}
		case <-time.After(legacyDeadline):
			t.Fatal("withCb still waits for the callback of a client that left")
		}
	})
}

// The GET of the whole service (§1d: [1,9,null,["echo-service"]]). 0.3.1
// answers its own enumerable members in definition order, every function
// a new resource, nested ones too ({"echo":"\u0003R:res-1",…,"count":10,
// "nested":{"deep":7,"fn":"\u0003R:res-10"},…}). The Go daemon answers the
// fields by value first (nested structs by value: no "fn" in "nested"),
// then the methods, each a new resource that works. The methods' order is
// not stable from one run to the next (bind's structView ranges over a
// map), so the frame cannot be a transcript line; it is checked here
// without that order.
func TestLegacyWholeServiceGet(t *testing.T) {
	t.Parallel()
	d, _ := legacyDaemon(t, daemon.Options{})
	c := legacySession(t, d)
	c.send(`[1,9,null,["echo-service"]]`, false)
	got, err := c.next()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, `[5,9,{"count":5,"nested":{"deep":7},"`) {
		t.Fatalf("got %s, want the fields first", got)
	}
	methods := map[string]string{}
	refs := map[string]bool{}
	gjson.Get(got, "2").ForEach(func(k, v gjson.Result) bool {
		if k.String() == "count" || k.String() == "nested" {
			return true
		}
		if !strings.HasPrefix(v.String(), "\x03R:res-") || refs[v.String()] {
			t.Errorf("%s: %s, want a new resource", k, v.Raw)
		}
		methods[k.String()], refs[v.String()] = strings.TrimPrefix(v.String(), "\x03R:"), true
		return true
	})
	var names []string
	for k := range methods {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := "cbThrows cbThrowsProp cbTwice echo fail failPlain failString makeRef peekLastRef takeRef values withCb"; strings.Join(names, " ") != want {
		t.Errorf("methods %s\nwant    %s", strings.Join(names, " "), want)
	}
	c.send(`[3,10,"`+methods["echo"]+`",[],["via-ref"]]`, false)
	c.expect("the echo method as a resource", `[5,10,"echo:via-ref"]`)
}

// legacyChildEnv makes the test binary a stand-in for a 0.x daemon that
// listens on the path in the variable (see TestLegacyStaleSocketOfDeadDaemon).
const legacyChildEnv = "NEXUS_GO_LEGACY_DEAD_DAEMON"

// A 0.x daemon leaves its socket file behind on SIGTERM (LEGACY-0x-NOTES.md);
// so does any process killed while it listens. daemon.Listen on that path
// must see that nobody accepts there and take it over. (TestSocketSafety
// covers a socket file closed in this process; here the listener is
// another process, killed by SIGTERM or SIGKILL, and the daemon that takes
// over then serves a 0.x client.)
func TestLegacyStaleSocketOfDeadDaemon(t *testing.T) {
	if path := os.Getenv(legacyChildEnv); path != "" {
		legacyDeadDaemonChild(path)
		return
	}
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(shortDir(t), "rt", "d.sock")
			if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestLegacyStaleSocketOfDeadDaemon$", "-test.count=1", "-test.timeout=1m")
			cmd.Env = append(os.Environ(), legacyChildEnv+"="+path)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line != "listening\n" {
				t.Fatalf("the stand-in daemon: %q, %v", line, err)
			}

			// While it lives, the path is in use.
			d, err := daemon.New(&daemon.Options{AppID: "example-app", SocketPath: path})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Listen(); !errors.Is(err, errcode.IPCAddressInUse) {
				t.Fatalf("Listen next to a live daemon: %v, want E_IPC_ADDRESS_IN_USE", err)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != sig {
				t.Fatalf("the stand-in daemon ended with %v, want killed by %v", err, sig)
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
				t.Fatalf("the dead daemon left no socket file (%v, %v): the case is not tested", fi, err)
			}

			d2, _ := legacyDaemon(t, daemon.Options{SocketPath: path})
			legacySession(t, d2)
		})
	}
}

// legacyDeadDaemonChild listens on path, says so on stdout, and accepts
// until it is killed. It never returns.
func legacyDeadDaemonChild(path string) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in daemon:", err)
		os.Exit(2)
	}
	fmt.Println("listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(2)
		}
		c.Close()
	}
}
