package client

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// Matcher chooses daemons by their identity and what the client observed
// about the connection, as a JS where function does (see
// remote.Matcher).
type Matcher = remote.Matcher

// SelectOptions are Pool.Select's options, JS select's {where, wait} (see
// remote.SelectOptions).
type SelectOptions = remote.SelectOptions

// MatchDaemon matches a node-ipc daemon with this appId.
func MatchDaemon(appID string) Matcher { return remote.MatchDaemon(appID) }

// MatchClient matches a node-ipc client with this appId.
func MatchClient(appID string) Matcher { return remote.MatchClient(appID) }

// MatchInstance matches a daemon instance ("default" when the identity has
// none); it never matches a client.
func MatchInstance(name string) Matcher { return remote.MatchInstance(name) }

// MatchGroup matches identities whose "groups" holds name (see
// remote.MatchGroup for what node-ipc 0.6.0 sends).
func MatchGroup(name string) Matcher { return remote.MatchGroup(name) }

// MatchField matches identities whose field key equals value (see
// remote.MatchField).
func MatchField(key string, value any) Matcher { return remote.MatchField(key, value) }

// MatchAll matches when every matcher does.
func MatchAll(ms ...Matcher) Matcher { return remote.MatchAll(ms...) }

// MatchAny matches when any matcher does.
func MatchAny(ms ...Matcher) Matcher { return remote.MatchAny(ms...) }

// Pool keeps one session per daemon target, as a JS client runtime does:
// Client dials a target on first use and reuses the session while it
// lives; Service goes to the default target; Select and SelectMulticast
// choose among the sessions already open, and CreateMulticast dials its
// targets. Every session uses the pool's Options (its Services are
// provided to every daemon). It is safe for concurrent use.
type Pool struct {
	opts          Options
	defaultTarget *Address

	mu      sync.Mutex
	clients map[Address]*Client
	changes remote.Changes   // a session was added
	updates *protocol.Object // UpdateIdentity's, merged: later sessions start with them
	closed  bool
}

// NewPool returns a pool whose sessions use opts (nil for defaults) and
// whose Service method uses defaultTarget (nil for none).
func NewPool(opts *Options, defaultTarget *Address) *Pool {
	p := &Pool{clients: map[Address]*Client{}}
	if opts != nil {
		p.opts = *opts
	}
	if defaultTarget != nil {
		t := *defaultTarget
		p.defaultTarget = &t
	}
	return p
}

func normTarget(t Address) Address {
	t.Instance = t.instance()
	return t
}

// Client returns the live session for target, dialing a new one when there
// is none or the old one has ended.
func (p *Pool) Client(ctx context.Context, target Address) (*Client, error) {
	key := normTarget(target)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errcode.New(errcode.ConnClosed, "pool is closed")
	}
	if c := p.clients[key]; c != nil && c.Err() == nil {
		p.mu.Unlock()
		return c, nil
	}
	opts, updates := p.opts, p.updates
	p.mu.Unlock()
	c, err := dial(ctx, target, &opts, updates)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if old := p.clients[key]; old != nil && old.Err() == nil {
		p.mu.Unlock()
		c.Close() // another caller won the race
		return old, nil
	}
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return nil, errcode.New(errcode.ConnClosed, "pool is closed")
	}
	p.clients[key] = c
	// What Provide and UpdateIdentity did while this session was dialed.
	late, lateUpdates := p.opts.Services[len(opts.Services):], p.updates
	p.mu.Unlock()
	p.changes.Notify()
	for _, s := range late {
		if err := c.Provide(s.Token, s.Service, s.CanCall); err != nil {
			return nil, err
		}
	}
	if lateUpdates != updates {
		if err := c.UpdateIdentity(ctx, lateUpdates); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Service returns the service token of the default target, dialing it if
// needed.
func (p *Pool) Service(ctx context.Context, token string) (*Service, error) {
	if p.defaultTarget == nil {
		return nil, errcode.New(errcode.UsageInvalid, "the pool has no default target")
	}
	c, err := p.Client(ctx, *p.defaultTarget)
	if err != nil {
		return nil, err
	}
	return c.Service(token), nil
}

// Select chooses, among the sessions already open, the one whose daemon
// matches opts.Where and provides token, and returns that service, with
// JS select's semantics and codes (see remote.Select): it never opens a
// session; no match is E_SERVICE_NO_MATCH and two are
// E_SERVICE_AMBIGUOUS; with opts.Wait it waits for a match (a session
// opened by another caller, a PROVIDER_AVAILABLE, an IDENTITY_UPDATE)
// until opts.WaitTimeout (30 s by default) or ctx's deadline, then
// E_SERVICE_WAIT_TIMEOUT (E_ABORTED if ctx is cancelled). A
// session with a core 0.x daemon, which has no catalog, counts as
// providing every token: a call to a service that daemon lacks fails with
// E_SERVICE_UNAVAILABLE.
func (p *Pool) Select(ctx context.Context, token string, opts *SelectOptions) (*Service, error) {
	return remote.Select(ctx, p.source, token, opts)
}

// SelectMulticast returns a multicast over every open session whose
// daemon matches where (nil: all) and provides token now, as JS
// selectMulticast does (see remote.Multicast: All-style calls return
// every daemon's outcome, Stream-style ones yield them as they arrive).
// It never opens a session.
func (p *Pool) SelectMulticast(token string, where Matcher) *remote.Multicast {
	return remote.SelectMulticast(p.source, token, where)
}

// CreateMulticast opens (or reuses) a session with every target, as JS
// createMulticast does, waits until each target's daemon provides token,
// and returns a multicast over them. Errors, as core 1.2.0's: the first
// dial error; E_TARGET_CONSTRAINT_FAILED when a target's daemon does not
// match where (nil matches all); E_SERVICE_ACQUISITION_TIMEOUT (wrapping
// ctx's error) when ctx ends before a target provides token. Bound ctx:
// JS waits 30 s by default.
func (p *Pool) CreateMulticast(ctx context.Context, token string, targets []Address, where Matcher) (*remote.Multicast, error) {
	var peers []remote.Candidate
	for _, t := range targets {
		c, err := p.Client(ctx, t)
		if err != nil {
			return nil, err
		}
		if where != nil && !where(c.Daemon(), c.Observed()) {
			return nil, errcode.New(errcode.TargetConstraintFailed, "The connection to "+t.String()+" does not satisfy the where constraint of the multicast for "+strconv.Quote(token)+".")
		}
		if err := c.WaitProvider(ctx, token); err != nil {
			return nil, err
		}
		cand, _ := c.candidate(token)
		peers = append(peers, cand)
	}
	return remote.NewMulticast(token, peers), nil
}

// source lists the pool's open sessions as candidates for token.
func (p *Pool) source(token string) ([]remote.Candidate, []<-chan struct{}) {
	added := p.changes.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	cands := make([]remote.Candidate, 0, len(p.clients))
	changed := make([]<-chan struct{}, 0, len(p.clients)+1)
	changed = append(changed, added)
	for _, c := range p.clients {
		if c.Err() != nil {
			continue
		}
		cand, ch := c.candidate(token)
		cands = append(cands, cand)
		changed = append(changed, ch)
	}
	return cands, changed
}

// UpdateIdentity merges updates into the identity of every session of
// the pool, as JS updateIdentity does for every connection of a Nexus
// instance: each open session sends IDENTITY_UPDATE (see
// Client.UpdateIdentity), and sessions the pool opens later start with
// the merged identity in their handshake. It returns E_USAGE_INVALID for
// updates that are not an object, and the first send error (the other
// sessions are still updated).
func (p *Pool) UpdateIdentity(ctx context.Context, updates any) error {
	u, err := session.IdentityUpdates(updates)
	if err != nil {
		return err
	}
	return p.everySession(func() {
		if p.updates == nil {
			p.updates = u
		} else {
			_, p.updates = session.NewIdentity(p.updates).Merge(u)
		}
	}, func(c *Client) error { return c.UpdateIdentity(ctx, u) })
}

// everySession runs change under the pool's lock (for the sessions it
// opens later), then f on every open session (the others are still
// done when one fails), and returns f's first error.
func (p *Pool) everySession(change func(), f func(*Client) error) error {
	p.mu.Lock()
	change()
	cs := make([]*Client, 0, len(p.clients))
	for _, c := range p.clients {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	var first error
	for _, c := range cs {
		if c.Err() != nil {
			continue
		}
		if err := f(c); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Provide provides svc under token on every session of the pool (see
// Client.Provide), as JS provide() after ready does for every connection,
// and on the sessions the pool opens later.
func (p *Pool) Provide(token string, svc any, canCall func(c *Client, service string, path []string, op session.Op) bool) error {
	return p.everySession(func() {
		p.opts.Services = append(slices.Clone(p.opts.Services), Provided{Token: token, Service: svc, CanCall: canCall})
	}, func(c *Client) error { return c.Provide(token, svc, canCall) })
}

// Close ends every session of the pool.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	cs := p.clients
	p.clients = map[Address]*Client{}
	p.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	return nil
}
