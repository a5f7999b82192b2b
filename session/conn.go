package session

import (
	"context"
	"errors"
	"io"
	"math"
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

// Target is something the peer can call into: a service, or a local
// resource such as a callback or a referenced object.
type Target interface {
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
	Target
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
	// MaxBuffered bounds the bytes queued for writing before senders
	// block (until their context ends); 0 means 32 MiB.
	MaxBuffered int
	// WriteStallTimeout bounds how long the rest of a write may make no
	// progress once the caller that started it has given up (its context
	// ended while the peer was not reading): then the session ends with
	// E_CONN_CLOSED. 0 means 10 s.
	WriteStallTimeout time.Duration
	// BaseContext is the parent of the context handlers run with (it
	// carries values such as the daemon's connection); nil means
	// context.Background(). The handlers' context is also cancelled when the
	// session ends.
	BaseContext context.Context
	// OnProviders is called (from the reader goroutine; it must not block)
	// when the peer announces late providers.
	OnProviders func(providers []string)
	// Authorize, if set, is asked before every incoming call (to a service or
	// a resource) is run, on the call's goroutine; an error is sent back as
	// the ERR. The daemon's CanCall policy hooks in here.
	Authorize func(call *Call) error
	// OnIdentityUpdate is called (from the reader goroutine; it must not
	// block) with the raw updates of an IDENTITY_UPDATE. Returning an error
	// closes the session.
	OnIdentityUpdate func(updates protocol.Raw) error
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
	maxFr  int
	ctx    context.Context
	cancel context.CancelCauseFunc

	// writer
	wmu          sync.Mutex
	space        chan struct{} // closed when queued bytes are written, if spaceWaiters > 0
	spaceWaiters int
	dl           writeDeadliner // rw, when it has write deadlines
	small        []byte         // small frames being queued
	wq           [][]byte       // buffers queued before small (frame heads and big payloads)
	wqSpare      [][]byte
	spare        []byte
	queued       int       // bytes queued
	wrel         []*encBuf // pooled buffers of big payloads queued in wq
	writing      bool
	wfailed      error

	// requests
	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan reply
	local   map[string]resource // resources we own, by id
	closed  bool

	// inline execution (see inline.go)
	inlineGen   atomic.Uint64 // odd while the reader runs a call itself
	workerCalls atomic.Int64  // calls still to hand to workers after a slow inline one
	backoff     atomic.Int64  // the next value of workerCalls
	corked      atomic.Bool   // replies are queued unwritten (see flush)
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
	handlers       sync.WaitGroup
	readDone       chan struct{}
}

// task is an incoming call waiting for a worker.
type task struct {
	id     protocol.ID
	target Target
	call   *Call
}

// workerIdle is how long a session's idle workers are kept after its last
// call handed to workers; then the watchdog stops them. Reusing workers
// keeps their grown stacks and saves a goroutine start per call.
const workerIdle = 5 * time.Second

// workerIdleNs is workerIdle, changeable by tests.
var workerIdleNs atomic.Int64

func init() { workerIdleNs.Store(int64(workerIdle)) }

type reply struct {
	result protocol.Raw
	err    error
}

var resourceCounter atomic.Uint64

// nextResourceID returns a process-wide resource id, "res-N" as JS makes
// them.
func nextResourceID() string { return "res-" + strconv.FormatUint(resourceCounter.Add(1), 10) }

// New starts a session on rw whose frames are read by fr (which may hold
// bytes that arrived with the handshake). It starts the reader goroutine;
// Close stops it.
func New(rw io.ReadWriteCloser, fr *protocol.FrameReader, cfg Config) *Conn {
	c := &Conn{rw: rw, fr: fr, cfg: cfg, pending: map[uint64]chan reply{}, local: map[string]resource{}, readDone: make(chan struct{})}
	c.maxFr = cfg.MaxFrameSize
	if c.maxFr <= 0 {
		c.maxFr = protocol.DefaultMaxFrameSize
	}
	if c.cfg.MaxInFlight <= 0 {
		c.cfg.MaxInFlight = 1024
	}
	if c.cfg.MaxBuffered <= 0 {
		c.cfg.MaxBuffered = 32 << 20
	}
	c.tasks = make(chan task)
	c.reap = make(chan struct{})
	if c.cfg.WriteStallTimeout <= 0 {
		c.cfg.WriteStallTimeout = 10 * time.Second
	}
	c.dl, _ = rw.(writeDeadliner)
	base := cfg.BaseContext
	if base == nil {
		base = context.Background()
	}
	c.ctx, c.cancel = context.WithCancelCause(base)
	watch.add(c)
	go c.readLoop()
	return c
}

// Done is closed when the session has ended.
func (c *Conn) Done() <-chan struct{} { return c.ctx.Done() }

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
// Close waits for the reader and the handlers to return.
func (c *Conn) Close() error {
	c.shutdown(errcode.New(errcode.ConnClosed, "connection closed locally"))
	<-c.readDone
	c.handlers.Wait()
	return nil
}

// shutdown ends the session once, with cause.
func (c *Conn) shutdown(cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	watch.remove(c)
	pending := c.pending
	c.pending = map[uint64]chan reply{}
	for id := range c.local {
		owners.Delete(id)
	}
	c.local = map[string]resource{}
	c.mu.Unlock()
	// Stop sending first, so that no reply leaves after Close has begun
	// (handlers see their context cancelled next and may still finish).
	c.wmu.Lock()
	c.wfailed = cause
	c.wakeSpaceWaiters()
	c.wmu.Unlock()
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
// PROVIDER_AVAILABLE, IDENTITY_UPDATE).
func (c *Conn) Notify(p protocol.Packet) error { return c.send(p) }

// Request sends a GET, SET or APPLY and waits for its reply. payload is the
// SET value or the APPLY argument list, encoded with this session's
// resource registration. The result is the raw RES payload; an ERR becomes
// a *protocol.RemoteError. When ctx ends first, the call is abandoned:
// nothing is sent (the protocol has no cancel message), and resources in a
// late reply are released.
func (c *Conn) Request(ctx context.Context, op Op, t protocol.Target, payload any) (protocol.Raw, error) {
	var raw protocol.Raw
	var buf *encBuf
	if op != OpGet {
		var err error
		raw, buf, err = c.encodePooled(payload, "")
		if err != nil {
			return nil, err
		}
	}
	return c.request(ctx, op, t, raw, buf)
}

// Apply is Request for an APPLY with the argument list args.
func (c *Conn) Apply(ctx context.Context, t protocol.Target, args []any) (protocol.Raw, error) {
	raw, buf, err := c.encodePooledArgs(args)
	if err != nil {
		return nil, err
	}
	return c.request(ctx, OpApply, t, raw, buf)
}

// outCall is the state of one outgoing call, recycled: its reply channel,
// the packet it sends and room for a short path.
type outCall struct {
	ch    chan reply
	path  [4]string
	get   protocol.GetPacket
	set   protocol.SetPacket
	apply protocol.ApplyPacket
}

// outCalls recycles outCall values once their reply has been taken (or can
// no longer come).
var outCalls = sync.Pool{New: func() any { return &outCall{ch: make(chan reply, 1)} }}

func (oc *outCall) put() {
	oc.path = [4]string{}
	oc.get, oc.set, oc.apply = protocol.GetPacket{}, protocol.SetPacket{}, protocol.ApplyPacket{}
	outCalls.Put(oc)
}

// request sends an encoded call and waits for its reply.
func (c *Conn) request(ctx context.Context, op Op, t protocol.Target, raw protocol.Raw, buf *encBuf) (protocol.Raw, error) {
	oc := outCalls.Get().(*outCall)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		buf.release()
		oc.put()
		return nil, c.closedErr()
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = oc.ch
	c.mu.Unlock()

	// The path goes into the recycled array (a nil path stays nil: it is
	// written as null).
	tg := t
	if t.Path != nil {
		tg.Path = append(oc.path[:0:len(oc.path)], t.Path...)
	}
	var p protocol.Packet
	pid := protocol.NumID(float64(id))
	switch op {
	case OpGet:
		oc.get = protocol.GetPacket{ID: pid, Target: tg}
		p = &oc.get
	case OpSet:
		oc.set = protocol.SetPacket{ID: pid, Target: tg, Value: raw}
		p = &oc.set
	default:
		oc.apply = protocol.ApplyPacket{ID: pid, Target: tg, Args: raw}
		p = &oc.apply
	}
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	if err := c.enqueue(ctx, p, buf, false); err != nil {
		if c.forget(id) {
			oc.put()
		}
		return nil, err
	}
	// A call the reader runs itself may be the one waiting here (a
	// handler calling back into the peer): the reply can only arrive if
	// another goroutine reads.
	c.takeOver()
	done := ctx.Done()
	if done == nil {
		// A context that never ends (context.Background): a plain receive
		// is cheaper than a select.
		r := <-oc.ch
		oc.put()
		return r.result, r.err
	}
	select {
	case r := <-oc.ch:
		oc.put()
		return r.result, r.err
	case <-done:
		if c.forget(id) {
			oc.put() // nobody will send on it any more
			return nil, ctxError(ctx)
		}
		r := <-oc.ch // the reply raced the cancellation: honour it
		oc.put()
		return r.result, r.err
	}
}

// forget removes a pending call; false if a reply already claimed it.
func (c *Conn) forget(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[id]; ok {
		delete(c.pending, id)
		return true
	}
	return false
}

func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errcode.Wrap(errcode.CallTimeout, "call timed out", ctx.Err())
	}
	return errcode.Wrap(errcode.CallTimeout, "call cancelled", ctx.Err())
}

// Encode encodes a payload for this session: functions and
// protocol.Resource values in it become local resources (see Register).
func (c *Conn) Encode(v any) (protocol.Raw, error) { return c.EncodeFor(v, "") }

// EncodeFor is Encode for a result of a call to service: resources made
// from it remember that service, so that later calls on them carry it in
// Call.Service (and policy can judge them as calls to that service).
func (c *Conn) EncodeFor(v any, service string) (protocol.Raw, error) {
	eb := encBuf{c: c, service: service}
	eb.opts.Resource = eb.register
	b, err := protocol.AppendValue(nil, v, &eb.opts)
	return protocol.Raw(b), err
}

// resource is a local resource and the service it came from.
type resource struct {
	target  Target
	service string
}

// owners maps every live local resource id of the process to its session,
// so that a call naming another session's resource is told
// E_RESOURCE_ACCESS_DENIED rather than E_RESOURCE_NOT_FOUND, as JS does.
var owners sync.Map // string -> *Conn

// Register makes t a resource of this session and returns its id. The peer
// may call it until it sends RELEASE or the session ends.
func (c *Conn) Register(t Target) (string, error) { return c.RegisterFor(t, "") }

// RegisterFor is Register for a resource made by a call to service.
func (c *Conn) RegisterFor(t Target, service string) (string, error) {
	id := nextResourceID()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", c.closedErr()
	}
	c.local[id] = resource{target: t, service: service}
	owners.Store(id, c)
	return id, nil
}

// Resources returns the number of local resources the peer holds.
func (c *Conn) Resources() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.local)
}

// Release tells the peer that this side no longer holds its resource id.
func (c *Conn) Release(id string) error {
	return c.send(&protocol.ReleasePacket{ResourceID: id})
}

// readLoop is the reader: it decodes frames and dispatches them. The
// reader role can move to a new goroutine while this one runs a call (see
// inline.go); the goroutine that loses it returns, and the one that meets
// the end of the stream ends the session.
func (c *Conn) readLoop() {
	for {
		if !c.fr.FrameReady() {
			c.flush() // about to wait for the peer: send what cork held back
		}
		b, err := c.fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				c.readerExit(errcode.New(errcode.ConnClosed, "connection closed by peer"))
			} else if errcode.CodeOf(err) == errcode.IPCProtocolError {
				c.readerExit(errcode.Wrap(errcode.ConnClosed, "peer broke the protocol", err))
			} else {
				c.readerExit(errcode.Wrap(errcode.ConnClosed, "connection lost", err))
			}
			return
		}
		p, err := protocol.DecodePacket(b, nil)
		if err != nil {
			c.readerExit(errcode.Wrap(errcode.ConnClosed, "peer broke the protocol", err))
			return
		}
		if err := c.dispatch(p); err != nil {
			if err == errHandedOff {
				return
			}
			c.readerExit(err)
			return
		}
	}
}

// readerExit ends the session from the reader, which is the only sender on
// c.tasks: closing it lets idle workers exit.
func (c *Conn) readerExit(cause error) {
	c.shutdown(cause)
	close(c.tasks)
	close(c.readDone)
}

// replyID converts a reply id to the numeric id we sent; JS matches ids
// strictly, so a string "1" never answers call 1.
func replyID(id protocol.ID) (uint64, bool) {
	n, ok := id.Num()
	if !ok || n < 1 || n != math.Trunc(n) || n > 1<<53 {
		return 0, false
	}
	return uint64(n), true
}

func (c *Conn) dispatch(p protocol.Packet) error {
	switch x := p.(type) {
	case *protocol.ResPacket:
		c.complete(x.ID, reply{result: x.Result}, x.Result)
	case *protocol.ErrPacket:
		var err error
		if falsy(x.Error) {
			// A JS caller resolves a call whose error is falsy (with
			// null); do the same.
			c.complete(x.ID, reply{result: protocol.Raw("null")}, nil)
			return nil
		}
		re, perr := protocol.ParseRemoteError(x.Error)
		if perr != nil {
			re = &protocol.RemoteError{Code: string(errcode.Unknown), Message: string(x.Error)}
		}
		err = re
		c.complete(x.ID, reply{err: err}, nil)
	case *protocol.GetPacket:
		return c.serve(x.ID, OpGet, x.Target, nil)
	case *protocol.SetPacket:
		return c.serve(x.ID, OpSet, x.Target, x.Value)
	case *protocol.ApplyPacket:
		return c.serve(x.ID, OpApply, x.Target, x.Args)
	case *protocol.ReleasePacket:
		c.mu.Lock()
		if _, ok := c.local[x.ResourceID]; ok {
			delete(c.local, x.ResourceID)
			owners.Delete(x.ResourceID)
		}
		c.mu.Unlock()
	case *protocol.ProviderAvailablePacket:
		if c.cfg.OnProviders != nil {
			c.cfg.OnProviders(x.Providers)
		}
	case *protocol.IdentityUpdatePacket:
		if c.cfg.OnIdentityUpdate != nil {
			if err := c.cfg.OnIdentityUpdate(x.Updates); err != nil {
				return err
			}
		}
	default:
		// BATCH, BATCH_RES and CHUNK_* are ignored, as core 1.2.0 does;
		// handshake packets after the handshake too.
	}
	return nil
}

// falsy reports whether a JS peer would treat the error field as falsy.
func falsy(raw protocol.Raw) bool {
	if raw == nil {
		return true
	}
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return false
	}
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0 || math.IsNaN(x)
	case string:
		return x == ""
	}
	return false
}

// complete hands a reply to its waiting caller. A reply nobody waits for
// (cancelled, unknown id) is dropped, and resources in it are released so
// the peer can free them.
func (c *Conn) complete(id protocol.ID, r reply, result protocol.Raw) {
	n, ok := replyID(id)
	var ch chan reply
	if ok {
		c.mu.Lock()
		ch = c.pending[n]
		delete(c.pending, n)
		c.mu.Unlock()
	}
	if ch != nil {
		ch <- r
		return
	}
	if result != nil {
		if v, err := protocol.DecodeValue(result); err == nil {
			walkRefs(v, func(ref protocol.Ref) { _ = c.Release(ref.ID) })
		}
	}
}

// walkRefs calls f for every resource reference in a decoded value.
func walkRefs(v any, f func(protocol.Ref)) {
	switch x := v.(type) {
	case protocol.Ref:
		f(x)
	case []any:
		for _, e := range x {
			walkRefs(e, f)
		}
	case *protocol.Object:
		for i := 0; i < x.Len(); i++ {
			_, e := x.At(i)
			walkRefs(e, f)
		}
	}
}

// serve runs an incoming call: on the reader goroutine itself (see
// inline.go) or on a worker goroutine, bounded by MaxInFlight.
func (c *Conn) serve(id protocol.ID, op Op, t protocol.Target, payload protocol.Raw) error {
	call := &Call{Conn: c, Op: op, ResourceID: t.ResourceID, Path: t.Path}
	var target Target
	if t.ResourceID == "" {
		if len(t.Path) == 0 {
			c.replyErr(id, coreError(errcode.InvalidServicePath, "MessageResourceError", "service call without a service name"))
			return nil
		}
		call.Service, call.Path = t.Path[0], t.Path[1:]
		if c.cfg.Handler == nil {
			c.replyErr(id, coreError(errcode.ResourceNotFound, "MessageResourceError", "no service "+strconv.Quote(call.Service)))
			return nil
		}
		target = c.cfg.Handler
	} else {
		c.mu.Lock()
		res, ok := c.local[t.ResourceID]
		c.mu.Unlock()
		if !ok {
			if owner, found := owners.Load(t.ResourceID); found && owner != c {
				c.replyErr(id, coreError(errcode.ResourceAccessDenied, "MessageResourceError", "resource "+strconv.Quote(t.ResourceID)+" belongs to another connection"))
				return nil
			}
			c.replyErr(id, coreError(errcode.ResourceNotFound, "MessageResourceError", "resource "+strconv.Quote(t.ResourceID)+" not found"))
			return nil
		}
		target, call.Service = res.target, res.service
	}

	var err error
	switch op {
	case OpSet:
		if payload == nil {
			call.Value = protocol.Undefined{}
		} else {
			call.Value, err = protocol.DecodeValue(payload)
		}
		call.Value = c.revive(call.Value)
	case OpApply:
		call.Args, err = protocol.DecodeArgs(payload)
		for i := range call.Args {
			call.Args[i] = c.revive(call.Args[i])
		}
	}
	if err != nil {
		c.replyErr(id, err)
		return nil
	}
	tk := task{id: id, target: target, call: call}
	c.inflight.Add(1) // counted from now: runTask takes it off
	if c.inlineAllowed() {
		return c.runInline(tk)
	}
	c.lastWorkerTask.Store(monoNow())
	select {
	case c.tasks <- tk: // an idle worker takes it
		return nil
	default:
	}
	if c.workers.Load() < int64(c.cfg.MaxInFlight) {
		c.workers.Add(1)
		c.handlers.Add(1)
		go c.worker(tk)
		watch.activity() // the watchdog reaps idle workers
		return nil
	}
	// MaxInFlight calls are running: wait for a worker (the reader stops
	// reading meanwhile, which pushes back on the peer).
	select {
	case c.tasks <- tk:
	case <-c.ctx.Done():
		c.inflight.Add(-1)
	}
	return nil
}

// worker serves calls until the reader stops (which closes c.tasks) or the
// watchdog reaps it, once the session has handed no call to workers for
// workerIdle. No timer per worker: a pending runtime timer keeps the
// runtime's sysmon thread polling, which costs every call of the process.
func (c *Conn) worker(t task) {
	defer c.handlers.Done()
	defer c.workers.Add(-1)
	c.runTask(t)
	c.serveTasks()
}

// serveTasks runs the calls handed to workers until the watchdog reaps
// this goroutine or the reader stops.
func (c *Conn) serveTasks() {
	for {
		select {
		case t, ok := <-c.tasks:
			if !ok {
				return
			}
			c.runTask(t)
		case <-c.reap:
			return
		}
	}
}

// runTask serves one incoming call and sends its reply.
func (c *Conn) runTask(t task) { c.runTaskCork(t, false, nil) }

// runTaskCork is runTask; with cork the reply may wait in the queue for
// the reader's next flush. afterHandler, if set, runs when the handler
// (user code) has returned, before the result is encoded.
func (c *Conn) runTaskCork(t task, cork bool, afterHandler func()) {
	defer c.inflight.Add(-1)
	id, call := t.id, t.call
	var res any
	var err error
	if c.cfg.Authorize != nil {
		err = c.cfg.Authorize(call)
	}
	if err == nil {
		res, err = invokeSafely(c.ctx, t.target, call)
	}
	if afterHandler != nil {
		afterHandler()
	}
	if id.IsNull() {
		return // a notification-style call expects no reply
	}
	if err != nil {
		c.replyErr(id, err)
		return
	}
	raw, release, err := c.encodePooled(res, call.Service)
	if err != nil {
		c.replyErr(id, err)
		return
	}
	_ = c.enqueue(context.Background(), &protocol.ResPacket{ID: id, Result: raw}, release, cork)
}

// encBuf is a pooled payload buffer with the encoding state that goes
// with it, so that encoding a call's payload allocates nothing per call.
type encBuf struct {
	b       []byte
	c       *Conn
	service string
	opts    protocol.EncodeOptions
}

// register is the buffer's resource hook (bound once, when the buffer is
// made).
func (eb *encBuf) register(v any) (string, error) {
	t, err := TargetOf(v)
	if err != nil {
		return "", err
	}
	return eb.c.RegisterFor(t, eb.service)
}

// encodeBufs recycles payload buffers once send has copied them (small) or
// written them (big).
var encodeBufs = sync.Pool{New: func() any {
	eb := &encBuf{b: make([]byte, 0, 512)}
	eb.opts.Resource = eb.register
	return eb
}}

// encodePooledArgs is encodePooled for an argument list.
func (c *Conn) encodePooledArgs(args []any) (protocol.Raw, *encBuf, error) {
	eb := c.pooledBuf("")
	var err error
	eb.b, err = protocol.AppendValues(eb.b[:0], args, &eb.opts)
	return eb.result(err)
}

// encodePooled is EncodeFor into a pooled buffer; enqueue (or release)
// returns it to the pool once the payload is no longer needed.
func (c *Conn) encodePooled(v any, service string) (protocol.Raw, *encBuf, error) {
	eb := c.pooledBuf(service)
	var err error
	eb.b, err = protocol.AppendValue(eb.b[:0], v, &eb.opts)
	return eb.result(err)
}

// pooledBuf takes a buffer from the pool for a payload of this session,
// resources in it made by a call to service.
func (c *Conn) pooledBuf(service string) *encBuf {
	eb := encodeBufs.Get().(*encBuf)
	eb.c, eb.service = c, service
	return eb
}

// result is what the encodePooled functions return once eb holds the
// payload or encoding failed with err (the buffer then goes back).
func (eb *encBuf) result(err error) (protocol.Raw, *encBuf, error) {
	if err != nil {
		eb.release()
		return nil, nil, err
	}
	return protocol.Raw(eb.b), eb, nil
}

// release returns the buffer to the pool (a nil buffer is ignored; a huge
// one is left to the collector).
func (eb *encBuf) release() {
	if eb == nil {
		return
	}
	eb.c, eb.service = nil, ""
	if cap(eb.b) <= 4<<20 {
		eb.b = eb.b[:0]
		encodeBufs.Put(eb)
	}
}

// invokeSafely runs a target, turning a panic into an error so that user
// code cannot crash the process through the peer.
func invokeSafely(ctx context.Context, t Target, call *Call) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errcode.New(errcode.Unknown, "handler panicked: "+panicString(r))
		}
	}()
	return t.Invoke(ctx, call)
}

func panicString(r any) string {
	switch x := r.(type) {
	case error:
		return x.Error()
	case string:
		return x
	}
	return "unknown panic"
}

// replyErr sends an ERR for id (nothing for a null id). A failure to send
// it does not end the session (see below), so it reports none.
func (c *Conn) replyErr(id protocol.ID, err error) {
	if id.IsNull() {
		return
	}
	b, encErr := protocol.AppendRemoteError(nil, ToRemoteError(err))
	if encErr != nil {
		b = []byte(`{"name":"Error","code":"E_UNKNOWN","message":"unserializable error"}`)
	}
	// An error reply that cannot be sent (too big, or the session ended)
	// is dropped: the session goes on or is ending anyway.
	_ = c.send(&protocol.ErrPacket{ID: id, Error: b})
}

// InFlight returns the number of incoming calls running now.
func (c *Conn) InFlight() int { return int(c.inflight.Load()) }
