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

// Options configures Dial. A nil *Options uses the defaults.
type Options struct {
	// AppID is this client's own appId in its identity metadata. Default:
	// the program's base name.
	AppID string
	// Groups, if set, are sent as "groups" in the identity (a 0.x field
	// that 1.2.0 daemons accept and ignore).
	Groups []string
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
	// HandshakeTimeout bounds the handshake when ctx has no earlier
	// deadline; 0 means 30 s.
	HandshakeTimeout time.Duration
	// MaxFrameSize bounds frames both ways; 0 means 16 MiB.
	MaxFrameSize int
	// MaxInFlight bounds the callbacks the daemon may run at once here;
	// 0 means 1024.
	MaxInFlight int
	// StallTimeout is how long the session waits for the daemon to take
	// bytes it writes when no caller waits with a context of its own (a
	// callback's reply, a RELEASE, the rest of a call's frame after its
	// context ended), and how long the daemon may keep the session at its
	// memory budget; then the session ends with E_CONN_CLOSED. 0 means
	// 10 s.
	StallTimeout time.Duration
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

	mu        sync.Mutex
	providers []string
	provided  map[string]bool // the tokens in providers: a daemon may announce millions
	changed   chan struct{}   // closed and replaced when providers change
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
	c, err := handshake(ctx, nc, target, path, opts)
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

func handshake(ctx context.Context, nc net.Conn, target Address, path string, opts *Options) (*Client, error) {
	// The context ends the setup by closing the socket under it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	observed := session.Observe(nc, path)
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
		line, err := protocol.ReadAuthLine(br, protocol.DefaultMaxAuthLine)
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
		observed.Authenticated, observed.AuthMethod = true, "shared-secret"
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
	appID := opts.AppID
	if appID == "" {
		appID = filepath.Base(os.Args[0])
	}
	meta := protocol.NewObject("context", compat.ClientContext, "appId", appID, "pid", float64(os.Getpid()))
	if len(opts.Groups) > 0 {
		meta.Set("groups", opts.Groups)
	}
	peer, err := session.ClientHandshake(ctx, nc, fr, session.Hello{Metadata: meta, AcceptLegacy: !opts.RefuseLegacy}, opts.MaxFrameSize)
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
	c := &Client{target: target, peer: peer, observed: observed, providers: slices.Clone(peer.Providers), provided: map[string]bool{}, changed: make(chan struct{})}
	for _, p := range peer.Providers {
		c.provided[p] = true
	}
	c.conn = session.New(nc, fr, session.Config{
		Bind:              bind.Resource,
		MaxFrameSize:      opts.MaxFrameSize,
		MaxInFlight:       opts.MaxInFlight,
		WriteStallTimeout: opts.StallTimeout,
		OnProviders:       c.addProviders,
		Generation:        peer.Generation,
	})
	return c, nil
}

func (c *Client) addProviders(ps []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		if !c.provided[p] {
			c.provided[p] = true
			c.providers = append(c.providers, p)
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// Target returns the target the client was dialed for.
func (c *Client) Target() Address { return c.target }

// Daemon returns the daemon's identity metadata from the handshake
// ({context:"node-ipc-daemon", appId, instance, pid, ...}).
func (c *Client) Daemon() *protocol.Object { return c.peer.Identity }

// DaemonMetadata returns the daemon's identity exactly as sent.
func (c *Client) DaemonMetadata() protocol.Raw { return c.peer.Metadata }

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

// WaitProvider waits until the daemon provides token (or ctx ends, or the
// session ends). A core 0.x daemon has no catalog to wait for: it returns
// nil at once, and a call to a service the daemon lacks fails with
// E_SERVICE_UNAVAILABLE.
func (c *Client) WaitProvider(ctx context.Context, token string) error {
	if c.peer.Generation.Legacy() {
		return c.conn.Err()
	}
	for {
		c.mu.Lock()
		has, changed := c.provided[token], c.changed
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
func (c *Client) Service(token string) *Service { return &Service{c: c, token: token} }
