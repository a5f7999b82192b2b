package client

import (
	"context"
	"strconv"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/remote"
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
// none).
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
	changes remote.Changes // a session was added
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
	p.mu.Unlock()
	c, err := Dial(ctx, target, &p.opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.clients[key]; old != nil && old.Err() == nil {
		c.Close() // another caller won the race
		return old, nil
	}
	if p.closed {
		c.Close()
		return nil, errcode.New(errcode.ConnClosed, "pool is closed")
	}
	p.clients[key] = c
	p.changes.Notify()
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
