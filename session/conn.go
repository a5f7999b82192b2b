package session

import (
	"context"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Op is the kind of a call.
type Op uint8

// Call operations.
const (
	OpGet   Op = Op(protocol.TypeGet)
	OpSet   Op = Op(protocol.TypeSet)
	OpApply Op = Op(protocol.TypeApply)
)

// String returns "get", "set" or "apply".
func (o Op) String() string {
	switch o {
	case OpGet:
		return "get"
	case OpSet:
		return "set"
	case OpApply:
		return "apply"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Call is an incoming GET, SET or APPLY.
type Call struct {
	// Conn is the session the call arrived on.
	Conn *Conn
	// Op is the operation.
	Op Op
	// ResourceID is the local resource addressed, "" for a service call.
	ResourceID string
	// Service is the service token id of a service call (Path[0] on the
	// wire); for a resource call, the service whose call made the resource
	// ("" for resources made outside a service call, such as callbacks a
	// client passes).
	Service string
	// Path is the property path below the service or resource.
	Path []string
	// Value is the decoded value of a SET.
	Value any
	// Args are the decoded arguments of an APPLY.
	Args []any
}

// Invoker is something the peer can call into: a service, or a local
// resource such as a callback or a referenced object.
type Invoker interface {
	// Invoke serves one call; ctx is cancelled when the session ends. The
	// result is encoded as a payload (functions in it become resources of
	// this session). Calls may run concurrently, on the session's reader
	// goroutine or on workers: Invoke may block (the session moves its
	// reader elsewhere after a few milliseconds, at once when Invoke calls
	// the peer back), but a quick answer is what makes a session fast.
	Invoke(ctx context.Context, call *Call) (any, error)
}

// Handler serves service calls (calls with no resource id). It is the
// daemon's service table; a client usually has none.
type Handler interface {
	Invoker
}

// Config configures a session. The zero value is usable.
type Config struct {
	// Handler serves service calls; nil answers them with
	// E_RESOURCE_NOT_FOUND.
	Handler Handler
	// MaxFrameSize bounds frames both ways; 0 means
	// protocol.DefaultMaxFrameSize (16 MiB).
	MaxFrameSize int
	// MaxInFlight bounds the incoming calls served at once; when it is
	// reached the reader stops reading until one finishes. 0 means 1024.
	MaxInFlight int
	// MaxBuffered bounds the bytes queued for writing: senders wait (until
	// their context ends) while more is queued. 0 means
	// protocol.DefaultMaxQueued (32 MiB).
	MaxBuffered int
	// MaxHeld bounds what the peer's calls being served cost, from the
	// decoding of their frame until their reply is queued: each counts
	// twice its frame (an estimate of its decoded arguments), 9 KiB for
	// the goroutine that runs it, and its encoded reply while that waits
	// for queue space. The reader reads no frame while they reach it, and
	// a peer that keeps the session there for WriteStallTimeout is
	// disconnected with E_CONN_CLOSED. What a session holds for its peer
	// is so about MaxBuffered + MaxHeld + one frame. Our own requests do
	// not count, so two peers that both send a lot cannot stop each
	// other's readers. 0 means 32 MiB.
	MaxHeld int
	// WriteStallTimeout bounds how long a write may make no progress when
	// no caller waits for it with a context of its own: a reply or a
	// notification, or the rest of a write whose caller gave up. Then the
	// session ends with E_CONN_CLOSED ("the peer stopped reading"). 0
	// means protocol.DefaultStallTimeout (10 s).
	WriteStallTimeout time.Duration
	// Attach, if set, is called by New with the new session before its
	// reader starts, so that the owner can record the session where the
	// first call the peer sends (served on the reader's goroutine) finds
	// it.
	Attach func(*Conn)
	// CallTimeout bounds how long an outgoing call (Request, Apply, and
	// calls on a RemoteRef) waits for its reply when its context has no
	// deadline; then the call fails with E_CALL_TIMEOUT, locally, as JS
	// calls time out (nothing is sent, a late reply is dropped and its
	// resources released). 0 means no bound: the call waits until its
	// context ends or the session does. A context deadline always wins,
	// earlier or later.
	CallTimeout time.Duration
	// BaseContext is the parent of the context handlers run with (it
	// carries values such as the daemon's connection); nil means
	// context.Background(). The handlers' context is also cancelled when the
	// session ends.
	BaseContext context.Context
	// OnProviders is called (from the reader goroutine; it must not block)
	// when the peer announces late providers. Returning an error closes
	// the session.
	OnProviders func(providers []string) error
	// Authorize, if set, is asked before every incoming call (to a service or
	// a resource) is run, on the call's goroutine; an error is sent back as
	// the ERR. The daemon's CanCall policy hooks in here.
	Authorize func(call *Call) error
	// OnIdentityUpdate is called (from the reader goroutine; it must not
	// block) with the raw updates of an IDENTITY_UPDATE. Returning an error
	// closes the session.
	OnIdentityUpdate func(updates protocol.Raw) error
	// Bind turns a value met in an outgoing payload that travels by
	// reference (a Go function, or a protocol.Resource that is not an
	// Invoker) into the Invoker the peer will call: bind.Resource does it
	// for any Go value. Nil accepts Invokers only.
	Bind func(v any) (Invoker, error)
	// Group is the group of sessions this one belongs to (see Group); nil
	// makes the session a group of its own, which Close joins.
	Group *Group
	// Generation is the generation the handshake settled on
	// (Peer.Generation). In a Core0 session, Notify refuses what a 0.x
	// peer cannot take, and long-form calls on local resources are served
	// whatever service name they carry (0.x sends a wrong one when its
	// own resource ids collide with ours).
	Generation Generation
}

// Conn is one Nexus session over a connected byte stream, after pre-auth
// and handshake. Both sides use it the same way: they send calls with Call
// and serve the peer's calls through the Handler and local resources. It is
// safe for concurrent use. One reader goroutine per session decodes frames;
// writes from concurrent callers are coalesced into as few syscalls as
// possible.
type Conn struct {
	rw     io.ReadWriteCloser
	fr     *protocol.FrameReader
	cfg    Config
	group  *Group
	ownGrp bool // group is this session's own: Close waits for it
	maxFr  int
	ctx    context.Context
	cancel context.CancelCauseFunc

	fw *protocol.FrameWriter // every frame the session sends

	calls callTable     // our requests waiting for their reply
	local resourceTable // resources we own, which the peer may call

	// inline execution (see inline.go)
	inlineGen   atomic.Uint64 // odd while the reader runs a call itself
	workerCalls atomic.Int64  // calls still to hand to workers after a slow inline one
	backoff     atomic.Int64  // the next value of workerCalls
	wdGen       uint64        // the watchdog's last look at inlineGen
	caughtGen   atomic.Uint64 // the inline call the watchdog last saw running
	caughtAt    atomic.Int64  // when it saw it (monoNow)
	// workers
	lastWorkerTask atomic.Int64  // when a call was last handed to workers (monoNow)
	reap           chan struct{} // the watchdog stops one idle worker per send
	tasks          chan task     // hands incoming calls to idle workers
	workers        atomic.Int64  // live worker goroutines
	inflight       atomic.Int64  // calls being served
	waiting        atomic.Int64  // our requests waiting for their reply
	// the memory budget (see Config.MaxBuffered and budget.go)
	held       atomic.Int64  // what the calls being served cost (see callCost)
	frameLen   int           // the size of the frame being dispatched (reader only)
	budgetWait atomic.Bool   // the reader waits for held bytes to drop
	budgetWake chan struct{} // a call finished while the reader waited
	handlers   sync.WaitGroup
	readDone   chan struct{}
}

// task is an incoming call waiting for a worker.
type task struct {
	id     protocol.ID
	target Invoker
	call   *Call
	size   int // what it counts against MaxHeld (callCost), until it has run
}

// workerIdle is how long a session's idle workers are kept after its last
// call handed to workers; then the watchdog stops them. Reusing workers
// keeps their grown stacks and saves a goroutine start per call.
const workerIdle = 5 * time.Second

type reply struct {
	result protocol.Raw
	err    error
}

// New starts a session on rw whose frames are read by fr (which may hold
// bytes that arrived with the handshake). It starts the reader goroutine;
// Close stops it.
func New(rw io.ReadWriteCloser, fr *protocol.FrameReader, cfg Config) *Conn {
	c := &Conn{rw: rw, fr: fr, cfg: cfg, readDone: make(chan struct{})}
	c.calls.timeout = max(cfg.CallTimeout, 0)
	c.maxFr = cfg.MaxFrameSize
	if c.maxFr <= 0 {
		c.maxFr = protocol.DefaultMaxFrameSize
	}
	if c.cfg.MaxInFlight <= 0 {
		c.cfg.MaxInFlight = 1024
	}
	c.tasks = make(chan task)
	c.budgetWake = make(chan struct{}, 1)
	if c.cfg.MaxHeld <= 0 {
		c.cfg.MaxHeld = DefaultMaxHeld
	}
	if c.cfg.WriteStallTimeout <= 0 {
		c.cfg.WriteStallTimeout = protocol.DefaultStallTimeout
	}
	c.reap = make(chan struct{})
	c.fw = protocol.NewFrameWriter(rw, protocol.FrameWriterConfig{
		MaxFrameSize: c.maxFr,
		MaxQueued:    c.cfg.MaxBuffered,
		StallTimeout: c.cfg.WriteStallTimeout,
		OnFail:       c.shutdown,
	})
	base := cfg.BaseContext
	if base == nil {
		base = context.Background()
	}
	c.ctx, c.cancel = context.WithCancelCause(base)
	c.group = cfg.Group
	if c.group == nil {
		c.group, c.ownGrp = NewGroup(), true
	}
	c.group.add(c)
	c.local.group, c.local.owner = c.group, c
	if cfg.Attach != nil {
		cfg.Attach(c)
	}
	go c.readLoop()
	return c
}

// Done is closed when the session has ended.
func (c *Conn) Done() <-chan struct{} { return c.ctx.Done() }

// AfterDone runs f in a goroutine of its own once the session has ended
// (at once if it has). No goroutine waits meanwhile, so a daemon with many
// sessions does not pay a stack per session for it.
func (c *Conn) AfterDone(f func()) { context.AfterFunc(c.ctx, f) }

// Err returns why the session ended (an E_CONN_CLOSED error), or nil while
// it is open.
func (c *Conn) Err() error {
	if c.ctx.Err() == nil {
		return nil
	}
	return context.Cause(c.ctx)
}

// Close ends the session: the socket is closed, every pending call fails
// with E_CONN_CLOSED, running handlers see their context cancelled, and
// Close waits for the reader and the handlers to return (and for the
// watchdog, when the session is a group of its own).
func (c *Conn) Close() error {
	c.shutdown(errcode.New(errcode.ConnClosed, "connection closed locally"))
	<-c.readDone
	c.handlers.Wait()
	c.fw.Wait()
	if c.ownGrp {
		c.group.Wait()
	}
	return nil
}

// shutdown ends the session once, with cause.
func (c *Conn) shutdown(cause error) {
	pending, first := c.calls.close()
	if !first {
		return
	}
	c.group.remove(c)
	c.local.close()
	// Stop sending first, so that no reply leaves after Close has begun
	// (handlers see their context cancelled next and may still finish).
	c.fw.Fail(cause)
	c.cancel(cause)
	_ = c.rw.Close()
	for _, ch := range pending {
		ch <- reply{err: cause}
	}
}

func (c *Conn) closedErr() error {
	if err := c.Err(); err != nil {
		return err
	}
	return errcode.New(errcode.ConnClosed, "connection closed")
}

// Notify sends a packet that expects no reply (RELEASE,
// PROVIDER_AVAILABLE, IDENTITY_UPDATE). In a Core0 session it refuses,
// with E_USAGE_INVALID and without sending, the packets a 0.x peer cannot
// take: PROVIDER_AVAILABLE (a 0.x peer closes the connection on it),
// BATCH, BATCH_RES, CHUNK_* and handshake packets.
func (c *Conn) Notify(p protocol.Packet) error {
	if c.cfg.Generation == Core0 && legacyRefuses(p.Type()) {
		return errcode.New(errcode.UsageInvalid, "a core 0.x peer cannot take "+p.Type().String())
	}
	return c.send(p)
}

// Generation returns the protocol generation of the session.
func (c *Conn) Generation() Generation { return c.cfg.Generation }
