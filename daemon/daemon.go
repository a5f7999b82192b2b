package daemon

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/provider"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// DefaultHandshakeTimeout is how long a connection may take to complete the
// handshake (core 1.2.0 uses 30 s).
const DefaultHandshakeTimeout = 30 * time.Second

// Options configures a Daemon. A nil *Options is not allowed: AppID is
// required.
type Options struct {
	// AppID is the daemon's appId. Required.
	AppID string
	// Instance is the daemon instance; "" means "default".
	Instance string
	// SocketPath listens on this path instead of the default
	// $XDG_RUNTIME_DIR/nexus/<appId>/<instance>.sock.
	SocketPath string
	// Env is the environment for the default path; nil means the process's.
	Env *compat.Env
	// Groups, if set, are sent as "groups" in the identity, as node-ipc
	// 0.3.x sends them (0.6.0 no longer does; its clients ignore them,
	// and Go clients' MatchGroup matches them).
	Groups []string
	// Metadata holds extra identity fields sent with the standard ones
	// ({context, appId, instance, pid}) in every HANDSHAKE_ACK, as a JS
	// peer's endpoint meta may: any JSON-able values, in key order. The
	// standard keys, and "groups" when Groups is set, are E_USAGE_INVALID
	// here; UpdateIdentity may change any field later.
	Metadata map[string]any
	// RefuseLegacy refuses core 0.x clients (node-ipc 0.3.x: a
	// HANDSHAKE_REQ without capabilities) with the bytes a JS 1.2.0
	// daemon sends, [12,id,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}].
	// By default the daemon serves both generations on the same socket;
	// see Conn.Generation.
	RefuseLegacy bool
	// Token enables shared-secret pre-auth; "" disables it.
	Token string
	// AuthTimeout bounds pre-auth; 0 means 5 s.
	AuthTimeout time.Duration
	// MaxAuthLine bounds the pre-auth line, newline included; 0 means 8 KiB.
	MaxAuthLine int
	// HandshakeTimeout bounds the handshake; 0 means 30 s.
	HandshakeTimeout time.Duration
	// CallTimeout bounds how long a call the daemon makes to a client (to
	// a service the client provides, or to a callback or reference it
	// handed out) waits for its answer when its context has no deadline;
	// then it fails with E_CALL_TIMEOUT, as a JS call does after its
	// callTimeout. 0 means DefaultCallTimeout (5 s, JS's default);
	// NoCallTimeout (or any negative value) means no bound. A context
	// deadline, earlier or later, always takes precedence.
	CallTimeout time.Duration
	// MaxFrameSize bounds frames both ways; 0 means 16 MiB.
	MaxFrameSize int
	// MaxHandshakeFrame bounds the frames a client sends before its
	// handshake is complete (REQ, READY: an identity and a list of
	// tokens), so that a connection that has not identified itself cannot
	// make the daemon hold a big frame; 0 means 64 KiB. A bigger frame
	// closes the connection.
	MaxHandshakeFrame int
	// MaxClientProviders bounds the services one client may announce
	// (HANDSHAKE_READY and PROVIDER_AVAILABLE together): a client that
	// announces more is disconnected, so that a client cannot make the
	// daemon hold a catalog without bound. 0 means
	// DefaultMaxClientProviders (1024). A client's IDENTITY_UPDATEs are
	// bounded by MaxHandshakeFrame the same way: one that makes its
	// identity bigger than that, encoded, disconnects it.
	MaxClientProviders int
	// MaxPending bounds the connections in pre-auth or handshake: with
	// MaxPending of them, the daemon accepts no more until one finishes
	// (new ones wait in the socket's backlog). With MaxHandshakeFrame it
	// bounds what connections that have not identified themselves can
	// make the daemon hold; AuthTimeout and HandshakeTimeout bound how
	// long they hold it. 0 means 256.
	MaxPending int
	// MaxInFlight bounds the calls one connection may have running; 0 means
	// 1024.
	MaxInFlight int
	// ConnBudget bounds the memory one connection can make the daemon
	// hold, in bytes: 7/16 for its calls being served (each counts twice
	// its frame, 9 KiB for its goroutine and its reply until that is
	// queued; the daemon stops reading from it beyond that), 7/16 for
	// what is queued to be written to it (replies wait beyond that), and
	// 1/8 left for what the connection holds besides (its read buffer, the
	// frame being read). One frame may go beyond the budget, so that a
	// call as big as MaxFrameSize can be served. A connection that stays
	// at its budget for StallTimeout is closed. 0 means DefaultConnBudget
	// (32 MiB).
	ConnBudget int
	// StallTimeout is how long a connection may stay at its budget, or
	// leave the daemon's writes to it untaken, before it is closed with
	// E_CONN_CLOSED; 0 means 10 s.
	StallTimeout time.Duration
	// Policy decides who may connect and call. The zero Policy allows all.
	Policy Policy
	// Logger receives connection and call events; nil discards them.
	Logger *slog.Logger
	// ShutdownTimeout is how long Serve lets calls in flight finish once its
	// context ends, before it closes them; 0 means 5 s.
	ShutdownTimeout time.Duration
	// KeepMemory stops the daemon from giving memory back to the OS when
	// connections leave. By default, a second after connections close,
	// if the process keeps more than 2 MiB of heap above what it kept
	// after the last return, the daemon collects and returns the free
	// memory (debug.FreeOSMemory), at most every 10 s. Set it in a
	// process that manages its own memory.
	KeepMemory bool
}

// DefaultCallTimeout is Options.CallTimeout's default, JS's callTimeout.
const DefaultCallTimeout = session.DefaultCallTimeout

// NoCallTimeout, as Options.CallTimeout, lets calls without a context
// deadline wait for their answer as long as the session lives.
const NoCallTimeout = session.NoCallTimeout

// DefaultConnBudget is Options.ConnBudget's default.
const DefaultConnBudget = 32 << 20

// Defaults of Options.MaxHandshakeFrame, MaxPending and
// MaxClientProviders.
const (
	DefaultMaxClientProviders = 1024
	DefaultMaxHandshakeFrame  = 64 << 10
	DefaultMaxPending         = 256
)

// DefaultShutdownTimeout is Serve's drain time when
// Options.ShutdownTimeout is 0.
const DefaultShutdownTimeout = 5 * time.Second

// Policy holds the authorization hooks, with core's semantics.
type Policy struct {
	// CanConnect decides whether a client may complete the handshake,
	// given its identity (c.Identity()) and what the daemon observed
	// (c.Observed()). A false answer (or a panic) rejects it with
	// E_AUTH_CONNECT_DENIED. It is asked again, with the merged identity,
	// on every IDENTITY_UPDATE from the client; a denial then closes the
	// connection, as core does. nil allows every client.
	CanConnect func(c *Conn) bool
	// CanCall decides whether a client may run a call. service is the
	// service token (for a call on a resource, the service that made the
	// resource; "" for callbacks the client passed); path is below the
	// service; op is get, set or apply. A false answer (or a panic) is an
	// ERR with E_AUTH_CALL_DENIED. A service provided WithCanCall is
	// decided by its own policy instead, as in JS. nil allows every call.
	CanCall func(c *Conn, service string, path []string, op session.Op) bool
}

// Conn is one client connection as the daemon sees it.
type Conn struct {
	d        *Daemon
	observed session.Observed
	peer     *session.Peer
	identity *session.Identity
	mu       sync.Mutex
	sess     *session.Conn
	provided []string        // the client's catalog: READY's list, then PROVIDER_AVAILABLE
	has      map[string]bool // the tokens in provided
}

// Identity returns the client's identity metadata ({context:
// "node-ipc-client", appId, pid, ...}): the handshake's, merged with every
// IDENTITY_UPDATE the client sent since. The object returned does not
// change; call again for the current one.
func (c *Conn) Identity() *protocol.Object { return c.identity.Get() }

// Providers returns the services the client provides: the tokens of its
// HANDSHAKE_READY, then those of its PROVIDER_AVAILABLE notices. A core
// 0.x client has no catalog: the list is empty.
func (c *Conn) Providers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.provided...)
}

// Provides reports whether the client's catalog holds token.
func (c *Conn) Provides(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.has[token]
}

func (c *Conn) addProviders(ps []string) error {
	c.mu.Lock()
	for _, p := range ps {
		if c.has[p] {
			continue
		}
		if len(c.provided) >= c.d.maxClientProviders() {
			c.mu.Unlock()
			return errcode.New(errcode.ProtocolError, "the client announced more than "+strconv.Itoa(c.d.maxClientProviders())+" providers (Options.MaxClientProviders)")
		}
		c.has[p] = true
		c.provided = append(c.provided, p)
	}
	c.mu.Unlock()
	c.d.changes.Notify()
	return nil
}

func (d *Daemon) maxClientProviders() int {
	if d.opts.MaxClientProviders > 0 {
		return d.opts.MaxClientProviders
	}
	return DefaultMaxClientProviders
}

// Service returns a handle on the client's service with this token id,
// the Go form of a JS daemon's select() proxy for one client: calls,
// gets and sets on it go to this client, with callbacks and references
// both ways. It does not check the client's catalog: a call to a service
// it does not provide fails with its error (E_RESOURCE_NOT_FOUND). It is
// nil before the handshake ends.
func (c *Conn) Service(token string) *remote.Service {
	s := c.Session()
	if s == nil {
		return nil
	}
	return remote.NewService(s, token)
}

// Observed returns what the daemon observed about the connection: its
// socket, whether pre-auth succeeded, and the client's credentials.
func (c *Conn) Observed() session.Observed { return c.observed }

// Generation returns the protocol generation the client speaks:
// session.Core0 for a node-ipc 0.3.x client, session.Core1 otherwise.
func (c *Conn) Generation() session.Generation { return c.peer.Generation }

// Session returns the underlying session, nil before the handshake ends.
func (c *Conn) Session() *session.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Daemon serves services to node-ipc clients (Node or Go) on a Unix socket.
// Create it with New, register services with Provide (before or after
// Listen), then either Serve, which blocks until its context ends, or
// Listen, which serves in the background until Close or Shutdown. It is
// safe for concurrent use.
type Daemon struct {
	opts     Options
	path     string
	identity *session.Identity
	log      *slog.Logger
	services *provider.Table[*Conn]
	changes  remote.Changes // connections, client catalogs and identities

	mu      sync.Mutex
	group   *session.Group // the sessions of the daemon's connections
	ln      *net.UnixListener
	conns   map[*Conn]struct{}
	pending map[net.Conn]struct{} // connections still in pre-auth or handshake
	slots   chan struct{}         // one per pending connection, MaxPending in all
	closed  bool
	done    chan struct{} // closed by Close
	mem     memoryReturn
	wg      sync.WaitGroup // accept loop and connection setup goroutines
}

// New checks opts and returns a daemon that is not listening yet. The
// socket path is resolved now (E_IPC_ADDRESS_INVALID, E_IPC_PATH_TOO_LONG).
func New(opts *Options) (*Daemon, error) {
	if opts == nil || opts.AppID == "" {
		return nil, errcode.New(errcode.IPCAddressInvalid, "Target does not identify a node-ipc daemon: AppID is required")
	}
	o := *opts
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.Instance == "" {
		o.Instance = compat.DefaultInstance
	}
	var path string
	var err error
	if o.SocketPath != "" {
		path, err = compat.ValidateSocketPath(o.SocketPath)
	} else {
		env := compat.OSEnv()
		if o.Env != nil {
			env = *o.Env
		}
		path, err = compat.DefaultSocketPath(o.AppID, o.Instance, env)
	}
	if err != nil {
		return nil, err
	}
	id := protocol.NewObject("context", compat.DaemonContext, "appId", o.AppID, "instance", o.Instance, "pid", float64(os.Getpid()))
	if len(o.Groups) > 0 {
		id.Set("groups", o.Groups)
	}
	if err := session.ExtendIdentity(id, o.Metadata); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Daemon{opts: o, path: path, identity: session.NewIdentity(id), log: log, services: provider.New[*Conn]("daemon"), group: session.NewGroup(), done: make(chan struct{}), conns: map[*Conn]struct{}{}, pending: map[net.Conn]struct{}{}, slots: make(chan struct{}, o.MaxPending)}, nil
}

// Path returns the socket path.
func (d *Daemon) Path() string { return d.path }

// Identity returns the daemon identity sent in every HANDSHAKE_ACK: the
// options', merged with every UpdateIdentity since. The object returned
// does not change; call again for the current one.
func (d *Daemon) Identity() *protocol.Object { return d.identity.Get() }

// Listen prepares the runtime directory and the socket path with node-ipc's
// safety rules and starts accepting connections in the background:
//   - no ancestor of the socket directory may be a symlink; each must be
//     ours and not group/other-writable unless root-owned (sticky or not
//     world-writable);
//   - the directory is created with mode 0700 and must be ours with no
//     group/other bits (E_IPC_ADDRESS_INVALID otherwise);
//   - a socket nobody accepts on is removed; a live daemon on the path is
//     E_IPC_ADDRESS_IN_USE; a regular file or a symlink at the path is never
//     removed (E_IPC_STALE_SOCKET_CLEANUP_FAILED).
func (d *Daemon) Listen() error {
	d.mu.Lock()
	if d.ln != nil || d.closed {
		d.mu.Unlock()
		return errcode.New(errcode.UsageInvalid, "Listen called twice or after Close")
	}
	d.mu.Unlock()
	ln, err := listenUnix(d.path)
	if err != nil {
		return err
	}
	d.services.Start()
	d.mu.Lock()
	d.ln = ln
	d.wg.Add(1)
	d.mu.Unlock()
	d.mem.start()
	go d.acceptLoop(ln)
	d.log.Info("listening", "socket", d.path, "appId", d.opts.AppID, "instance", d.opts.Instance)
	return nil
}

func (d *Daemon) acceptLoop(ln *net.UnixListener) {
	defer d.wg.Done()
	var backoff time.Duration
	for {
		// A slot for the connection's setup, released when it ends: with
		// MaxPending connections pending, the next waits in the backlog.
		select {
		case d.slots <- struct{}{}:
		case <-d.done:
			return
		}
		nc, err := ln.AcceptUnix()
		if err != nil {
			<-d.slots
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			d.log.Warn("accept failed", "err", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			nc.Close()
			<-d.slots
			return
		}
		d.pending[nc] = struct{}{}
		d.wg.Add(1)
		d.mu.Unlock()
		go d.setup(nc)
	}
}

// setup runs pre-auth and the handshake for one connection, then hands it
// to a session.
func (d *Daemon) setup(nc *net.UnixConn) {
	defer d.wg.Done()
	ok := false
	defer func() {
		d.mu.Lock()
		delete(d.pending, nc)
		d.mu.Unlock()
		<-d.slots
		if !ok {
			nc.Close()
		}
	}()
	c := &Conn{d: d, observed: session.Observe(nc, d.path), identity: session.NewIdentity(nil)}
	var br *bufio.Reader // for the pre-auth line only

	if d.opts.Token != "" {
		timeout := d.opts.AuthTimeout
		if timeout <= 0 {
			timeout = protocol.DefaultAuthTimeout
		}
		nc.SetDeadline(time.Now().Add(timeout))
		br = bufio.NewReaderSize(nc, 4096)
		line, err := protocol.ReadAuthLine(br, d.opts.MaxAuthLine)
		if err != nil {
			d.log.Info("pre-auth failed", "pid", c.observed.PID, "err", err)
			return
		}
		tok, err := protocol.ParseAuthRequest(line)
		if err != nil || subtle.ConstantTimeCompare([]byte(tok), []byte(d.opts.Token)) != 1 {
			d.log.Info("pre-auth refused", "pid", c.observed.PID)
			return // closed silently, as JS does
		}
		if _, err := nc.Write([]byte(protocol.AuthOKLine)); err != nil {
			return
		}
		c.observed.Authenticated, c.observed.AuthMethod = true, "shared-secret"
	}

	hs := d.opts.HandshakeTimeout
	if hs <= 0 {
		hs = DefaultHandshakeTimeout
	}
	nc.SetDeadline(time.Now().Add(hs))
	maxHandshake := d.opts.MaxHandshakeFrame
	if maxHandshake <= 0 {
		maxHandshake = DefaultMaxHandshakeFrame
	}
	maxFrame := d.opts.MaxFrameSize
	if maxFrame <= 0 {
		maxFrame = protocol.DefaultMaxFrameSize
	}
	fr := protocol.NewFrameReaderAfter(nc, br, min(maxHandshake, maxFrame))
	providers, sent := d.services.Providers(), d.Identity()
	peer, err := session.ServerHandshake(context.Background(), nc, fr, session.Hello{Metadata: sent, Providers: providers, AcceptLegacy: !d.opts.RefuseLegacy}, func(p *session.Peer) *protocol.RemoteError {
		c.peer = p
		c.identity = session.NewIdentity(p.Identity)
		if d.opts.Policy.CanConnect != nil && !provider.SafeBool(func() bool { return d.opts.Policy.CanConnect(c) }) {
			return &protocol.RemoteError{Name: "LogicalConnectionAuthDeniedError", Code: string(errcode.AuthConnectDenied), Message: "connection denied by the daemon's policy"}
		}
		return nil
	}, d.opts.MaxFrameSize)
	if err != nil {
		if c.peer == nil && errors.Is(err, io.EOF) {
			// Closed before sending a byte: a liveness check such as
			// `nexusctl ls` or a client that gave up, not a failure.
			d.log.Debug("closed before the handshake", "pid", c.observed.PID)
			return
		}
		d.log.Info("handshake failed", "pid", c.observed.PID, "err", err)
		return
	}
	nc.SetDeadline(time.Time{})
	fr.SetMax(maxFrame)
	c.peer = peer
	c.has = map[string]bool{}
	if err := c.addProviders(peer.Providers); err != nil {
		d.log.Info("handshake failed", "pid", c.observed.PID, "err", err)
		return
	}

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	budget := d.opts.ConnBudget
	if budget <= 0 {
		budget = DefaultConnBudget
	}
	sess := session.New(nc, fr, session.Config{
		// The first call may come before New returns: it must find c.sess.
		Attach:            func(s *session.Conn) { c.mu.Lock(); c.sess = s; c.mu.Unlock() },
		BaseContext:       context.WithValue(context.Background(), connKey{}, c),
		Handler:           &router{d: d},
		Group:             d.group,
		Bind:              bind.Resource,
		MaxFrameSize:      d.opts.MaxFrameSize,
		MaxInFlight:       d.opts.MaxInFlight,
		MaxBuffered:       budget / 16 * 7,
		MaxHeld:           budget / 16 * 7,
		WriteStallTimeout: d.opts.StallTimeout,
		CallTimeout:       session.CallTimeoutOption(d.opts.CallTimeout),
		Authorize:         func(call *session.Call) error { return d.authorize(c, call) },
		OnProviders:       c.addProviders,
		OnIdentityUpdate:  func(u protocol.Raw) error { return d.identityUpdate(c, u) },
		Generation:        peer.Generation,
	})
	d.conns[c] = struct{}{}
	// Providers registered between the ACK and now (a 0.x session refuses
	// the notice: it has no catalog, and calls whatever it wants).
	var late []string
	for _, p := range d.services.Providers() {
		if !slices.Contains(providers, p) {
			late = append(late, p)
		}
	}
	d.mu.Unlock()
	d.changes.Notify()
	ok = true
	if len(late) > 0 {
		_ = sess.Notify(&protocol.ProviderAvailablePacket{Providers: late})
	}
	// An UpdateIdentity between the ACK and now missed this session.
	if now := d.Identity(); now != sent {
		_ = sess.UpdateIdentity(now)
	}
	d.log.Info("client connected", "appId", protocol.Get(c.Identity(), "appId"), "pid", c.observed.PID, "uid", c.observed.UID, "authenticated", c.observed.Authenticated, "protocol", peer.Generation.String())
	d.wg.Add(1)
	sess.AfterDone(func() {
		defer d.wg.Done()
		sess.Close()
		d.mu.Lock()
		delete(d.conns, c)
		d.mu.Unlock()
		d.changes.Notify()
		if !d.opts.KeepMemory {
			d.mem.closed()
		}
		d.log.Info("client disconnected", "appId", protocol.Get(c.Identity(), "appId"), "pid", c.observed.PID)
	})
}

func (d *Daemon) authorize(c *Conn, call *session.Call) error {
	err := d.services.Authorize(c, call, d.opts.Policy.CanCall)
	if err != nil {
		d.log.Info("call refused by policy", "appId", protocol.Get(c.Identity(), "appId"), "pid", c.observed.PID, "service", call.Service, "path", call.Path, "op", call.Op.String())
	}
	return err
}

// identityUpdate applies an IDENTITY_UPDATE and re-checks CanConnect, as
// core does; a denial closes the connection.
func (d *Daemon) identityUpdate(c *Conn, raw protocol.Raw) error {
	u, err := session.DecodeIdentityUpdate(raw)
	if err != nil {
		return err
	}
	max := d.opts.MaxHandshakeFrame
	if max <= 0 {
		max = DefaultMaxHandshakeFrame
	}
	if _, _, err := c.identity.MergeBounded(u, max); err != nil {
		return err
	}
	d.changes.Notify()
	if d.opts.Policy.CanConnect != nil && !provider.SafeBool(func() bool { return d.opts.Policy.CanConnect(c) }) {
		d.log.Info("identity update refused by policy", "pid", c.observed.PID)
		return errcode.New(errcode.AuthConnectDenied, "identity update denied by the daemon's policy")
	}
	return nil
}

// UpdateIdentity merges updates into the daemon's identity and sends them
// to every connected client as IDENTITY_UPDATE [13,null,updates], as JS
// updateIdentity does (clients merge them into their view of the daemon
// and ask their canConnect policy again); later handshakes send the
// merged identity. updates is a *protocol.Object or a map[string]any (its
// keys sent in sorted order). It returns E_USAGE_INVALID for updates that
// are not an object, and the first send error (the others are still
// sent; a session whose send failed is closed by it).
func (d *Daemon) UpdateIdentity(updates any) error {
	u, err := session.IdentityUpdates(updates)
	if err != nil {
		return err
	}
	d.identity.Merge(u)
	var first error
	for _, c := range d.Conns() {
		if err := c.sess.UpdateIdentity(u); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type connKey struct{}

// ConnFromContext returns the connection a call arrived on, from the
// context a service method receives; nil outside a call.
func ConnFromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

// Conns returns the connections that completed the handshake.
func (d *Daemon) Conns() []*Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*Conn, 0, len(d.conns))
	for c := range d.conns {
		out = append(out, c)
	}
	return out
}

// Serve listens (unless Listen was called already) and serves until ctx
// ends or the daemon is closed. When ctx ends, Serve stops accepting,
// removes the socket file, gives the calls in flight
// Options.ShutdownTimeout to finish (see Shutdown), closes every
// connection and returns nil. When Close or Shutdown is called elsewhere,
// Serve returns nil once the daemon has stopped. It returns Listen's error
// if the socket cannot be prepared. The usual main:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	if err := d.Serve(ctx); err != nil {
//		log.Fatal(err)
//	}
func (d *Daemon) Serve(ctx context.Context) error {
	d.mu.Lock()
	listening := d.ln != nil
	d.mu.Unlock()
	if !listening {
		if err := d.Listen(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		timeout := d.opts.ShutdownTimeout
		if timeout <= 0 {
			timeout = DefaultShutdownTimeout
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		if err := d.Shutdown(sctx); err != nil {
			d.log.Warn("calls still running at shutdown were cancelled", "after", timeout)
		}
		d.log.Info("stopped", "socket", d.path)
	case <-d.done:
		d.wg.Wait()
	}
	return nil
}

// Close stops listening, removes the socket file, closes every connection
// (pending calls fail, running handlers see their contexts cancelled) and
// waits for every goroutine the daemon started.
func (d *Daemon) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.wg.Wait()
		d.group.Wait()
		return nil
	}
	d.closed = true
	close(d.done)
	ln := d.ln
	conns := make([]*Conn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	for nc := range d.pending {
		nc.Close()
	}
	d.mu.Unlock()
	var err error
	if ln != nil {
		err = ln.Close() // also unlinks the socket file
	}
	for _, c := range conns {
		c.sess.Close()
	}
	d.wg.Wait()
	d.group.Wait()
	d.mem.stop()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Shutdown stops accepting connections and removes the socket file at
// once, waits until the calls in flight have finished or ctx ends, then
// closes everything as Close does. It returns ctx's error if the calls did
// not finish in time.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	ln := d.ln
	d.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
	for {
		busy := false
		for _, c := range d.Conns() {
			if c.sess.InFlight() > 0 {
				busy = true
				break
			}
		}
		if !busy {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
			continue
		}
		break
	}
	d.Close()
	return err
}
