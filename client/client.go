package client

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
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

// DefaultHandshakeTimeout is how long Dial waits for the handshake when
// the context has no deadline; core 1.2.0 uses 30 s.
const DefaultHandshakeTimeout = 30 * time.Second

// Address names a daemon as node-ipc does: an appId and an instance.
type Address struct {
	// AppID is the daemon's appId. Required.
	AppID string
	// Instance is the daemon instance; "" means "default".
	Instance string
}

// String formats the target as "app/instance".
func (t Address) String() string { return t.AppID + "/" + t.instance() }

func (t Address) instance() string {
	if t.Instance == "" {
		return compat.DefaultInstance
	}
	return t.Instance
}

// Resolver maps a target to a Unix socket path, like node-ipc's
// resolveAddress. Returning "" means the target cannot be resolved
// (E_IPC_ADDRESS_INVALID). The path is then validated and normalized as JS
// does.
type Resolver func(Address) (string, error)

// DefaultCallTimeout is how long a call waits for its answer when its
// context has no deadline and Options.CallTimeout is 0: JS's callTimeout
// default.
const DefaultCallTimeout = session.DefaultCallTimeout

// NoCallTimeout, as Options.CallTimeout, lets calls without a context
// deadline wait for their answer as long as the session lives.
const NoCallTimeout = session.NoCallTimeout

// Options configures Dial. A nil *Options uses the defaults.
type Options struct {
	// AppID is this client's own appId in its identity metadata. Default:
	// the program's base name.
	AppID string
	// Groups, if set, are sent as "groups" in the identity (a 0.x field
	// that 1.2.0 daemons accept and ignore, and that MatchGroup matches).
	Groups []string
	// Metadata holds extra identity fields sent with the standard ones
	// ({context, appId, pid}), as a JS peer's endpoint meta may: any
	// JSON-able values, in key order. The standard keys, and "groups"
	// when Groups is set, are E_USAGE_INVALID here; UpdateIdentity may
	// change any field later.
	Metadata map[string]any
	// Services are provided to the daemon from the start: they go out in
	// HANDSHAKE_READY's provider list, and the daemon may call them (see
	// Client.Provide for services added later). A token listed twice is
	// provided once, by its last entry, as in a JS provide([...]) batch.
	Services []Provided
	// Policy decides whether the daemon may be connected to and what it
	// may call here. The zero Policy allows all.
	Policy Policy
	// RefuseLegacy refuses core 0.x daemons (node-ipc 0.3.x: an ACK
	// without capabilities) with E_PROTOCOL_INCOMPATIBLE, as a JS 1.2.0
	// client does. By default the client speaks to them: see
	// Client.Generation.
	RefuseLegacy bool
	// Token is the shared secret for pre-auth; "" disables pre-auth (an
	// empty token cannot be configured, as in JS).
	Token string
	// SocketPath dials this path instead of resolving the target.
	SocketPath string
	// Resolve replaces the default target-to-path resolution.
	Resolve Resolver
	// Env is the environment for the default path; nil means the process's
	// ($XDG_RUNTIME_DIR and uid).
	Env *compat.Env
	// AuthTimeout bounds the pre-auth exchange; 0 means 5 s.
	AuthTimeout time.Duration
	// MaxAuthLine bounds the daemon's pre-auth reply line, newline
	// included (JS: maxAuthLineBytes); 0 means 8 KiB.
	MaxAuthLine int
	// HandshakeTimeout bounds the handshake when ctx has no earlier
	// deadline; 0 means 30 s.
	HandshakeTimeout time.Duration
	// CallTimeout bounds how long a call (to a service or a reference of
	// the daemon) waits for its answer when its context has no deadline;
	// then it fails with E_CALL_TIMEOUT, as a JS call does after its
	// callTimeout. 0 means DefaultCallTimeout (5 s, JS's default);
	// NoCallTimeout (or any negative value) means no bound. A context
	// deadline, earlier or later, always takes precedence.
	CallTimeout time.Duration
	// MaxFrameSize bounds frames both ways; 0 means 16 MiB.
	MaxFrameSize int
	// MaxInFlight bounds the calls (to callbacks and provided services)
	// the daemon may run at once here; 0 means 1024.
	MaxInFlight int
	// StallTimeout is how long the session waits for the daemon to take
	// bytes it writes when no caller waits with a context of its own (a
	// callback's reply, a RELEASE, the rest of a call's frame after its
	// context ended), and how long the daemon may keep the session at its
	// memory budget; then the session ends with E_CONN_CLOSED. 0 means
	// 10 s.
	StallTimeout time.Duration
}

// Provided is a service a client provides to its daemon, as a JS client's
// provide(token, impl, {policy}) does.
type Provided struct {
	// Token is the service token id. Required.
	Token string
	// Service is adapted as daemon.Provide adapts services (bind.Object):
	// usually a pointer to a struct whose methods the daemon calls and
	// whose exported fields it gets and sets.
	Service any
	// CanCall, if set, decides for calls on this service (and on the
	// resources its calls hand out) instead of Policy.CanCall, as a JS
	// service policy does.
	CanCall func(c *Client, service string, path []string, op session.Op) bool
}

// Policy holds the client's authorization hooks, with core's semantics
// (a JS client's policy: {canConnect, canCall}).
type Policy struct {
	// CanConnect decides whether the session with the daemon may open,
	// given the daemon's identity (c.Daemon()) and what the client
	// observed (c.Observed()); it is asked again with the merged identity
	// on every IDENTITY_UPDATE from the daemon. A false answer (or a
	// panic) refuses the ACK with a HANDSHAKE_REJECT carrying
	// E_AUTH_CONNECT_DENIED (Dial returns a local *session.HandshakeError
	// with that code), or, on an update, closes the session. nil allows
	// every daemon.
	CanConnect func(c *Client) bool
	// CanCall decides whether the daemon may run a call here: on a
	// provided service (service is its token, path below it) or on a
	// callback or other resource the client handed out (service is the
	// service whose call made it, "" for callbacks passed as arguments).
	// A false answer (or a panic) is an ERR with E_AUTH_CALL_DENIED. nil
	// allows every call.
	CanCall func(c *Client, service string, path []string, op session.Op) bool
}

// ResolvePath returns the socket path Dial would use for target: the
// explicit SocketPath, the custom resolver's answer, or the JS default
// path, each validated as node-ipc validates it.
func ResolvePath(target Address, opts *Options) (string, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.SocketPath != "" {
		return compat.ValidateSocketPath(opts.SocketPath)
	}
	if err := compat.CheckTarget(compat.DaemonContext, target.AppID); err != nil {
		return "", err
	}
	if opts.Resolve != nil {
		p, err := opts.Resolve(target)
		if err != nil {
			return "", errcode.Wrap(errcode.IPCAddressInvalid, "Target could not be resolved to a socket address", err)
		}
		if p == "" {
			return "", errcode.New(errcode.IPCAddressInvalid, "Target could not be resolved to a socket address")
		}
		return compat.ValidateSocketPath(p)
	}
	env := compat.OSEnv()
	if opts.Env != nil {
		env = *opts.Env
	}
	return compat.DefaultSocketPath(target.AppID, target.instance(), env)
}

// Client is one session with a daemon. It multiplexes any number of
// concurrent calls over one connection and is safe for concurrent use.
// Like a JS proxy it is bound to its session: after a disconnect every
// call, service and reference fails with E_CONN_CLOSED; Dial again for a
// new session.
type Client struct {
	target   Address
	conn     *session.Conn
	peer     *session.Peer
	observed session.Observed
	policy   Policy
	services *provider.Table[*Client]
	self     *session.Identity // this client's identity
	daemon   *session.Identity // the daemon's, as last updated

	changes   remote.Changes // providers, the daemon's identity, the session's end
	mu        sync.Mutex
	providers []string
	provided  map[string]bool // the tokens in providers: a daemon may announce millions
}

// Dial connects to the daemon for target, runs pre-auth when opts.Token is
// set, and completes the handshake. ctx bounds the whole setup; the
// session's lifetime is its own (Close ends it).
//
// Errors: E_IPC_ADDRESS_INVALID / E_IPC_PATH_TOO_LONG for bad targets,
// E_IPC_CONNECT_FAILED (wrapping the OS error) when nobody listens,
// E_IPC_AUTH_FAILED when the token is refused or pre-auth times out,
// E_IPC_PROTOCOL_ERROR for a malformed auth reply, a *session.HandshakeError
// (errors.Is E_HANDSHAKE_REJECTED and the daemon's code, such as
// E_AUTH_CONNECT_DENIED) when the daemon refuses the session, and
// E_CALL_TIMEOUT when ctx or the handshake timeout ends first.
func Dial(ctx context.Context, target Address, opts *Options) (*Client, error) {
	return dial(ctx, target, opts, nil)
}

// dial is Dial with identity updates to apply on top of opts' identity
// (a Pool's UpdateIdentity, for its later sessions).
func dial(ctx context.Context, target Address, opts *Options, updates *protocol.Object) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	path, err := ResolvePath(target, opts)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errcode.Wrap(errcode.CallTimeout, "dial cancelled", ctx.Err())
		}
		return nil, errcode.Wrap(errcode.IPCConnectFailed, "Could not connect to Unix socket "+path, dialCause{err})
	}
	c, err := handshake(ctx, nc, target, path, opts, updates)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// dialCause is a failed dial as the cause of E_IPC_CONNECT_FAILED: it
// prints only the OS error ("no such file or directory"), since the
// message already names the path that net's error text would repeat, and
// unwraps to the *net.OpError.
type dialCause struct{ err error }

func (d dialCause) Error() string {
	var sys *os.SyscallError
	if errors.As(d.err, &sys) {
		return sys.Err.Error()
	}
	return d.err.Error()
}

func (d dialCause) Unwrap() error { return d.err }

// identity builds the client's identity metadata from opts.
func identity(opts *Options) (*protocol.Object, error) {
	appID := opts.AppID
	if appID == "" {
		appID = filepath.Base(os.Args[0])
	}
	meta := protocol.NewObject("context", compat.ClientContext, "appId", appID, "pid", float64(os.Getpid()))
	if len(opts.Groups) > 0 {
		meta.Set("groups", opts.Groups)
	}
	return meta, session.ExtendIdentity(meta, opts.Metadata)
}

func handshake(ctx context.Context, nc net.Conn, target Address, path string, opts *Options, updates *protocol.Object) (*Client, error) {
	meta, err := identity(opts)
	if err != nil {
		return nil, err
	}
	self := session.NewIdentity(meta)
	if updates != nil {
		_, meta = self.Merge(updates)
	}
	c := &Client{target: target, policy: opts.Policy, services: provider.New[*Client]("client"), self: self, provided: map[string]bool{}}
	for _, p := range opts.Services {
		if _, err := c.services.Provide(p.Token, p.Service, p.CanCall); err != nil {
			return nil, err
		}
	}

	// The context ends the setup by closing the socket under it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	c.observed = session.Observe(nc, path)
	var br *bufio.Reader // for the pre-auth line only
	if opts.Token != "" {
		timeout := opts.AuthTimeout
		if timeout <= 0 {
			timeout = protocol.DefaultAuthTimeout
		}
		nc.SetDeadline(time.Now().Add(timeout))
		br = bufio.NewReaderSize(nc, 4096)
		if _, err := nc.Write(protocol.AppendAuthRequest(nil, opts.Token)); err != nil {
			return nil, errcode.Wrap(errcode.IPCAuthFailed, "IPC authentication failed", err)
		}
		maxLine := opts.MaxAuthLine
		if maxLine <= 0 {
			maxLine = protocol.DefaultMaxAuthLine
		}
		line, err := protocol.ReadAuthLine(br, maxLine)
		if err != nil {
			if ctx.Err() != nil {
				return nil, errcode.Wrap(errcode.CallTimeout, "dial cancelled", ctx.Err())
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, errcode.New(errcode.IPCAuthFailed, "IPC authentication timed out")
			}
			if errcode.CodeOf(err) == errcode.IPCProtocolError {
				return nil, errcode.Wrap(errcode.IPCProtocolError, "Malformed auth response", err)
			}
			var ce *errcode.Error
			if errors.As(err, &ce) && ce.Code == errcode.IPCAuthFailed {
				return nil, errcode.Wrap(errcode.IPCAuthFailed, ce.Message+" (token refused?)", ce.Cause)
			}
			return nil, errcode.Wrap(errcode.IPCAuthFailed, "IPC authentication failed (token refused?)", err)
		}
		if err := protocol.ParseAuthOK(line); err != nil {
			return nil, err
		}
		c.observed.Authenticated, c.observed.AuthMethod = true, "shared-secret"
	}

	hsTimeout := opts.HandshakeTimeout
	if hsTimeout <= 0 {
		hsTimeout = DefaultHandshakeTimeout
	}
	deadline := time.Now().Add(hsTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	fr := protocol.NewFrameReaderAfter(nc, br, opts.MaxFrameSize)
	hello := session.Hello{Metadata: meta, Providers: c.services.Start(), AcceptLegacy: !opts.RefuseLegacy}
	peer, err := session.ClientHandshake(ctx, nc, fr, hello, func(p *session.Peer) *protocol.RemoteError {
		c.peer, c.daemon = p, session.NewIdentity(p.Identity)
		if c.policy.CanConnect != nil && !provider.SafeBool(func() bool { return c.policy.CanConnect(c) }) {
			return &protocol.RemoteError{Name: "LogicalConnectionAuthDeniedError", Code: string(errcode.AuthConnectDenied), Message: "connection denied by the client's policy"}
		}
		return nil
	}, opts.MaxFrameSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errcode.Wrap(errcode.CallTimeout, "dial cancelled", ctx.Err())
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errcode.Wrap(errcode.CallTimeout, "handshake timed out", err)
		}
		return nil, err
	}
	if !stop() {
		return nil, errcode.Wrap(errcode.CallTimeout, "dial cancelled", ctx.Err())
	}
	nc.SetDeadline(time.Time{})
	c.peer = peer
	c.providers = slices.Clone(peer.Providers)
	for _, p := range peer.Providers {
		c.provided[p] = true
	}
	session.New(nc, fr, session.Config{
		Attach:            func(s *session.Conn) { c.conn = s },
		Handler:           c.services,
		Bind:              bind.Resource,
		MaxFrameSize:      opts.MaxFrameSize,
		MaxInFlight:       opts.MaxInFlight,
		WriteStallTimeout: opts.StallTimeout,
		CallTimeout:       session.CallTimeoutOption(opts.CallTimeout),
		BaseContext:       context.WithValue(context.Background(), clientKey{}, c),
		Authorize:         func(call *session.Call) error { return c.services.Authorize(c, call, c.policy.CanCall) },
		OnProviders:       c.addProviders,
		OnIdentityUpdate:  c.daemonUpdate,
		Generation:        peer.Generation,
	})
	// Wake Pool.Select and WaitProvider when the session ends.
	c.conn.AfterDone(c.changes.Notify)
	return c, nil
}

type clientKey struct{}

// FromContext returns the client whose daemon made the call, from the
// context a provided service's method or a callback receives; nil
// outside such a call.
func FromContext(ctx context.Context) *Client {
	c, _ := ctx.Value(clientKey{}).(*Client)
	return c
}

func (c *Client) addProviders(ps []string) error {
	c.mu.Lock()
	for _, p := range ps {
		if !c.provided[p] {
			c.provided[p] = true
			c.providers = append(c.providers, p)
		}
	}
	c.mu.Unlock()
	c.changes.Notify()
	return nil
}

// daemonUpdate applies the daemon's IDENTITY_UPDATE and asks CanConnect
// again, as core does; a denial closes the session.
func (c *Client) daemonUpdate(raw protocol.Raw) error {
	u, err := session.DecodeIdentityUpdate(raw)
	if err != nil {
		return err
	}
	if _, _, err := c.daemon.MergeBounded(u, session.MaxPeerIdentity); err != nil {
		return err
	}
	c.changes.Notify()
	if c.policy.CanConnect != nil && !provider.SafeBool(func() bool { return c.policy.CanConnect(c) }) {
		return errcode.New(errcode.AuthConnectDenied, "the daemon's identity update was denied by the client's policy")
	}
	return nil
}

// Target returns the target the client was dialed for.
func (c *Client) Target() Address { return c.target }

// Daemon returns the daemon's identity metadata ({context:
// "node-ipc-daemon", appId, instance, pid, ...}): the handshake's, merged
// with every IDENTITY_UPDATE the daemon sent since. The object returned
// does not change; call again for the current one.
func (c *Client) Daemon() *protocol.Object { return c.daemon.Get() }

// DaemonMetadata returns the daemon's identity exactly as sent in the
// handshake.
func (c *Client) DaemonMetadata() protocol.Raw { return c.peer.Metadata }

// Identity returns this client's own identity metadata: the handshake's,
// merged with every UpdateIdentity since.
func (c *Client) Identity() *protocol.Object { return c.self.Get() }

// UpdateIdentity merges updates into this client's identity and sends
// them to the daemon as IDENTITY_UPDATE [13,null,updates], as JS
// updateIdentity does; the daemon merges them into its view of this
// client and asks its CanConnect policy again (a denial closes the
// session). updates is a *protocol.Object or a map[string]any (its keys
// sent in sorted order). Errors: E_USAGE_INVALID for updates that are
// not an object, E_CONN_CLOSED when the session has ended.
func (c *Client) UpdateIdentity(ctx context.Context, updates any) error {
	u, err := session.IdentityUpdates(updates)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return errcode.FromContext(ctx)
	}
	c.self.Merge(u)
	return c.conn.UpdateIdentity(u)
}

// Provide makes svc available to the daemon under token, after Dial (see
// Options.Services for services provided from the start), adapted and
// checked as Options.Services are: a new token is announced to the daemon
// with PROVIDER_AVAILABLE, and a token provided again (here or in
// Options.Services) replaces the service and is announced again, as a JS
// provide() after ready does. A
// core 0.x daemon has no catalog: it is sent nothing, and may call the
// service at once. canCall, if not nil, is the service's own policy (see
// Provided.CanCall).
func (c *Client) Provide(token string, svc any, canCall func(c *Client, service string, path []string, op session.Op) bool) error {
	announce, err := c.services.Provide(token, svc, canCall)
	if err != nil || !announce {
		return err
	}
	err = c.conn.Notify(&protocol.ProviderAvailablePacket{Providers: []string{token}})
	if errcode.CodeOf(err) == errcode.UsageInvalid && c.peer.Generation.Legacy() {
		return nil // a 0.x daemon has no catalog
	}
	return err
}

// Provided returns the tokens this client provides, in order.
func (c *Client) Provided() []string { return c.services.Providers() }

// Generation returns the daemon's protocol generation: session.Core0 for
// a node-ipc 0.3.x daemon, which has no provider catalog, session.Core1
// otherwise.
func (c *Client) Generation() session.Generation { return c.peer.Generation }

// Providers returns the daemon's provider catalog: the service token ids
// it announced in the handshake, kept current as PROVIDER_AVAILABLE
// arrives. A core 0.x daemon has no catalog: the list is empty, and calls
// go out directly.
func (c *Client) Providers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.providers)
}

// WaitProvider waits until the daemon provides token (or ctx ends:
// E_SERVICE_ACQUISITION_TIMEOUT, or the session ends: E_CONN_CLOSED). A
// core 0.x daemon has no catalog to wait for: it returns nil at once, and
// a call to a service the daemon lacks fails with E_SERVICE_UNAVAILABLE.
func (c *Client) WaitProvider(ctx context.Context, token string) error {
	if c.peer.Generation.Legacy() {
		return c.conn.Err()
	}
	for {
		changed := c.changes.Wait()
		c.mu.Lock()
		has := c.provided[token]
		c.mu.Unlock()
		if has {
			return nil
		}
		select {
		case <-changed:
		case <-c.conn.Done():
			return c.conn.Err()
		case <-ctx.Done():
			return errcode.Wrap(errcode.ServiceAcquisitionTimeout, "no provider for "+token, ctx.Err())
		}
	}
}

// candidate is c as a remote.Candidate for token; changed is closed when
// that may change.
func (c *Client) candidate(token string) (remote.Candidate, <-chan struct{}) {
	ch := c.changes.Wait()
	c.mu.Lock()
	// A 0.x daemon has no catalog: it may provide anything.
	has := c.provided[token] || c.peer.Generation.Legacy()
	c.mu.Unlock()
	return remote.Candidate{Identity: c.Daemon(), Observed: c.observed, Session: c.conn, Provides: has}, ch
}

// Observed returns what this side observed about the connection: the
// socket, whether pre-auth succeeded, and the daemon's credentials.
func (c *Client) Observed() session.Observed { return c.observed }

// Session returns the underlying session.
func (c *Client) Session() *session.Conn { return c.conn }

// Done is closed when the session ends.
func (c *Client) Done() <-chan struct{} { return c.conn.Done() }

// Err returns why the session ended, or nil.
func (c *Client) Err() error { return c.conn.Err() }

// Close ends the session and waits for every goroutine it started.
func (c *Client) Close() error { return c.conn.Close() }

// Service returns a handle on the daemon's service with this token id.
// It does not check the catalog; a call to an unknown service fails with
// the daemon's error (E_RESOURCE_NOT_FOUND; from a core 0.x daemon,
// E_SERVICE_UNAVAILABLE wrapping it, as that daemon has no catalog).
func (c *Client) Service(token string) *Service { return remote.NewService(c.conn, token) }
