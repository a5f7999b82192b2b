package legacy0x

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Defaults of Options, the limits of node-ipc 0.3.1 and core 0.5.0.
const (
	DefaultAppID            = "example-app"
	DefaultInstance         = "default"
	DefaultAuthTimeout      = 5 * time.Second
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultCallTimeout      = 5 * time.Second
	// MaxFrameSize is node-ipc's limit on a frame body (inclusive).
	MaxFrameSize = protocol.DefaultMaxFrameSize
	// MaxAuthLine is node-ipc's limit on buffered pre-auth bytes.
	MaxAuthLine = protocol.DefaultMaxAuthLine
)

// Bounds of this double (a real daemon has none of its own).
const (
	maxRecorded      = 1 << 16  // frames kept by Frames
	maxRecordedBytes = 64 << 20 // bytes of them
	maxViolations    = 1024
	maxResources     = 1 << 16
	maxAsync         = 256 // calls waiting for a client's callback, per connection
	writeTimeout     = 10 * time.Second
)

// Options configures a Daemon.
type Options struct {
	// Path is the Unix socket path. Required. A socket file that nobody
	// listens on is removed first (0.3.1 leaves its socket behind on
	// SIGTERM).
	Path string
	// Token is the pre-auth secret; "" disables pre-auth.
	Token string
	// AppID and Instance are the daemon's identity; defaults
	// "example-app" and "default".
	AppID, Instance string
	// Groups, when set, are sent as "groups" in the identity, as 0.3.1
	// does.
	Groups []string
	// PID is the "pid" of the identity; 0 means the process's.
	PID int
	// Log, if set, sees every frame and pre-auth line as it is read or
	// written: dir is "C>S" (from a client) or "S>C", frame the frame body
	// or the line with its newline. It is called from the connections'
	// goroutines, one call at a time per connection, and must not block.
	Log func(dir string, frame []byte)
	// AuthTimeout, HandshakeTimeout and CallTimeout replace the 0.x
	// defaults (5 s for the auth line, 30 s from connect to READY, 5 s for
	// a call into a client).
	AuthTimeout, HandshakeTimeout, CallTimeout time.Duration
	// FixLongForm makes the daemon call client resources with the short
	// form only, without 0.x's long-form bug (§1b).
	FixLongForm bool
	// KeepSocket leaves the socket file behind on Close, as 0.3.1 does on
	// SIGTERM.
	KeepSocket bool

	onFrame func(Frame) // for Main
}

// Kind is what a Frame records.
type Kind uint8

const (
	// KindFrame is a frame; Body is its JSON body.
	KindFrame Kind = iota
	// KindLine is a pre-auth line; Body ends with its newline.
	KindLine
	// KindFIN is the end of a direction: the client closed its side (C>S
	// FIN) or the daemon closed the connection (S>C FIN). Body is nil.
	KindFIN
)

// Frame is one recorded event of a connection.
type Frame struct {
	// Conn is the connection's number: 1 for the daemon's first ("conn-1").
	Conn int
	// Sent is true for what the daemon sent (S>C).
	Sent bool
	// Kind says what Body is.
	Kind Kind
	// Body is the frame body or line; nil for KindFIN.
	Body []byte
}

// Dir returns "S>C" or "C>S".
func (f Frame) Dir() string {
	if f.Sent {
		return "S>C"
	}
	return "C>S"
}

// String formats f as the capture does: "C>S [14,1]",
// `C>S LINE {"type":"nexus-ipc-auth",…}\n` (the newline as the two
// characters \n), "S>C FIN".
func (f Frame) String() string {
	switch f.Kind {
	case KindLine:
		return f.Dir() + " LINE " + strings.ReplaceAll(string(f.Body), "\n", `\n`)
	case KindFIN:
		return f.Dir() + " FIN"
	}
	return f.Dir() + " " + string(f.Body)
}

// Type returns the message type of a frame (its first element), or 0
// when it is not a frame or has no numeric type.
func (f Frame) Type() protocol.Type {
	if f.Kind != KindFrame {
		return 0
	}
	elems, err := splitArray(f.Body)
	if err != nil || len(elems) == 0 {
		return 0
	}
	t, ok := msgType(elems[0])
	if !ok {
		return 0
	}
	return protocol.Type(t)
}

// Daemon is a listening scripted 0.x daemon.
type Daemon struct {
	opts Options
	ln   *net.UnixListener
	meta []byte // the identity in ACK
	wg   sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	conns       map[*conn]struct{}
	nConns      int
	callID      int64
	resID       int
	resources   map[string]*resource
	svc         *node // echo-service
	lastRef     *node
	frames      []Frame
	framesBytes int
	truncated   bool
	violations  []string
	changed     chan struct{} // closed and replaced on every event
}

// Listen starts a daemon on opts.Path. It serves until Close.
func Listen(opts Options) (*Daemon, error) {
	if opts.Path == "" {
		return nil, errors.New("legacy0x: no socket path")
	}
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.Instance == "" {
		opts.Instance = DefaultInstance
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.AuthTimeout <= 0 {
		opts.AuthTimeout = DefaultAuthTimeout
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	meta := protocol.NewObject("context", compat.DaemonContext, "appId", opts.AppID, "instance", opts.Instance, "pid", float64(opts.PID))
	if len(opts.Groups) > 0 {
		meta.Set("groups", opts.Groups)
	}
	mb, err := protocol.AppendJSON(nil, meta)
	if err != nil {
		return nil, err
	}
	ln, err := listen(opts.Path)
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(!opts.KeepSocket)
	d := &Daemon{
		opts:      opts,
		ln:        ln,
		meta:      mb,
		conns:     map[*conn]struct{}{},
		resources: map[string]*resource{},
		svc:       echoService(),
		changed:   make(chan struct{}),
	}
	d.wg.Add(1)
	go d.accept()
	return d, nil
}

// listen listens on path, removing a stale socket file first.
func listen(path string) (*net.UnixListener, error) {
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	ln, err := net.ListenUnix("unix", addr)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	fi, serr := os.Lstat(path)
	if serr != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, err
	}
	nc, derr := net.DialTimeout("unix", path, time.Second)
	if derr == nil {
		nc.Close()
		return nil, fmt.Errorf("legacy0x: %s: a daemon already listens there", path)
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		return nil, err
	}
	if rerr := os.Remove(path); rerr != nil {
		return nil, fmt.Errorf("legacy0x: removing the stale socket: %w", rerr)
	}
	return net.ListenUnix("unix", addr)
}

// Path returns the socket path.
func (d *Daemon) Path() string { return d.opts.Path }

func (d *Daemon) accept() {
	defer d.wg.Done()
	for {
		nc, err := d.ln.AcceptUnix()
		if err != nil {
			return
		}
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			nc.Close()
			return
		}
		d.nConns++
		c := newConn(d, nc, d.nConns)
		d.conns[c] = struct{}{}
		d.notifyLocked()
		d.wg.Add(1)
		d.mu.Unlock()
		go c.serve()
	}
}

// Close stops listening, closes every connection and waits for every
// goroutine of the daemon to return.
func (d *Daemon) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.wg.Wait()
		return nil
	}
	d.closed = true
	conns := make([]*conn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	err := d.ln.Close()
	for _, c := range conns {
		c.close()
	}
	d.wg.Wait()
	return err
}

// notifyLocked wakes Wait. d.mu must be held.
func (d *Daemon) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *Daemon) record(f Frame) {
	if d.opts.Log != nil {
		d.opts.Log(f.Dir(), f.Body)
	}
	if d.opts.onFrame != nil {
		d.opts.onFrame(f)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.frames) >= maxRecorded || d.framesBytes+len(f.Body) > maxRecordedBytes {
		d.truncated = true
	} else {
		f.Body = append([]byte(nil), f.Body...)
		d.frames = append(d.frames, f)
		d.framesBytes += len(f.Body)
	}
	d.notifyLocked()
}

func (d *Daemon) violation(c *conn, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.violations) < maxViolations {
		d.violations = append(d.violations, c.name+": "+msg)
	}
	d.notifyLocked()
}

// Frames returns everything recorded so far, in order: frames and lines
// both ways, and connection ends, of every connection. Recording stops
// (Truncated) after 65536 entries or 64 MiB.
func (d *Daemon) Frames() []Frame {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Frame(nil), d.frames...)
}

// Received returns the bodies of the frames clients sent (all
// connections, in order of arrival), without lines and ends.
func (d *Daemon) Received() [][]byte {
	var out [][]byte
	for _, f := range d.Frames() {
		if !f.Sent && f.Kind == KindFrame {
			out = append(out, f.Body)
		}
	}
	return out
}

// Transcript returns the recorded events of connection n (1 for the
// first) formatted as Frame.String formats them, the capture's notation.
func (d *Daemon) Transcript(n int) []string {
	var out []string
	for _, f := range d.Frames() {
		if f.Conn == n {
			out = append(out, f.String())
		}
	}
	return out
}

// Truncated reports whether recording stopped at its bound.
func (d *Daemon) Truncated() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.truncated
}

// Violations returns a description of every frame a real 0.x daemon
// could not take, prefixed with its connection ("conn-1: …"): anything
// that closes a 0.x connection (PROVIDER_AVAILABLE, an unknown type, a
// zero-length, oversized or malformed frame, a REJECT after READY), what
// it answers E_USAGE_INVALID (BATCH, BATCH_RES, CHUNK_*, a second REQ or
// another handshake packet after READY), frames it drops in the handshake
// (BATCH or CHUNK before READY, a second REQ), bytes sent behind the auth
// line before its answer, and a READY that is not exactly [14,id] (which
// 0.x accepts).
func (d *Daemon) Violations() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.violations...)
}

// Accepted returns the number of connections accepted so far.
func (d *Daemon) Accepted() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nConns
}

// Open returns the number of connections not yet ended.
func (d *Daemon) Open() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// Wait waits until cond returns true; cond is evaluated now and after
// every recorded event (a frame, a violation, a connection opening or
// ending), without the daemon's lock held, so it may call the daemon's
// methods. It returns ctx's error if ctx ends first.
func (d *Daemon) Wait(ctx context.Context, cond func() bool) error {
	for {
		d.mu.Lock()
		ch := d.changed
		d.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Resources returns the ids of the daemon's live resources, for tests.
func (d *Daemon) Resources() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.resources))
	for id := range d.resources {
		ids = append(ids, id)
	}
	return ids
}

func (d *Daemon) nextCallID() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.callID++
	return d.callID
}

// register makes n a resource of c made by a call to service.
func (d *Daemon) register(c *conn, n *node, service string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.registerLocked(c, n, service)
}

func (d *Daemon) registerLocked(c *conn, n *node, service string) (string, error) {
	if len(d.resources) >= maxResources {
		return "", errors.New("legacy0x: too many resources")
	}
	d.resID++
	id := "res-" + strconv.Itoa(d.resID)
	d.resources[id] = &resource{id: id, owner: c, service: service, node: n}
	return id, nil
}

// release drops resource id of c (RELEASE); others are ignored.
func (d *Daemon) release(c *conn, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.resources[id]; r != nil && r.owner == c {
		delete(d.resources, id)
	}
}

// collision returns the service of the daemon's own resource named id,
// "" if there is none: 0.x then calls the client's resource id with the
// long form and that service's name.
func (d *Daemon) collision(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.resources[id]; r != nil {
		return r.service
	}
	return ""
}

func (d *Daemon) dropConn(c *conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.conns, c)
	for id, r := range d.resources {
		if r.owner == c {
			delete(d.resources, id)
		}
	}
	d.notifyLocked()
}
