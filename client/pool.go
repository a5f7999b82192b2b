package client

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Matcher chooses peers by their identity metadata. It is the Go form of
// the node-ipc matchers daemon(appId), client(appId), instance(name) and
// group(name); combine them with MatchAll and MatchAny.
type Matcher func(identity *protocol.Object) bool

func str(o *protocol.Object, key string) string {
	s, _ := protocol.Get(o, key).(string)
	return s
}

// MatchDaemon matches a node-ipc daemon with this appId.
func MatchDaemon(appID string) Matcher {
	return func(id *protocol.Object) bool {
		return str(id, "context") == compat.DaemonContext && str(id, "appId") == appID
	}
}

// MatchClient matches a node-ipc client with this appId.
func MatchClient(appID string) Matcher {
	return func(id *protocol.Object) bool {
		return str(id, "context") == compat.ClientContext && str(id, "appId") == appID
	}
}

// MatchInstance matches a daemon instance ("default" when the identity has
// none).
func MatchInstance(name string) Matcher {
	return func(id *protocol.Object) bool {
		inst := str(id, "instance")
		if inst == "" {
			inst = compat.DefaultInstance
		}
		return inst == name
	}
}

// MatchGroup matches identities whose "groups" array holds name.
func MatchGroup(name string) Matcher {
	return func(id *protocol.Object) bool {
		groups, _ := protocol.Get(id, "groups").([]any)
		return slices.Contains(groups, any(name))
	}
}

// MatchAll matches when every matcher does.
func MatchAll(ms ...Matcher) Matcher {
	return func(id *protocol.Object) bool {
		for _, m := range ms {
			if !m(id) {
				return false
			}
		}
		return true
	}
}

// MatchAny matches when any matcher does.
func MatchAny(ms ...Matcher) Matcher {
	return func(id *protocol.Object) bool {
		for _, m := range ms {
			if m(id) {
				return true
			}
		}
		return false
	}
}

// Pool keeps one session per daemon target, as a JS client runtime does:
// Client dials a target on first use and reuses the session while it
// lives; Service goes to the default target; Select chooses among the
// sessions already open. It is safe for concurrent use.
type Pool struct {
	opts          Options
	defaultTarget *Address

	mu      sync.Mutex
	clients map[Address]*Client
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

// Select returns the service token on an open session whose daemon
// identity matches m (nil matches any) and whose catalog provides token.
// Like JS select(), it never opens a socket. When no open session matches
// m, it returns E_SERVICE_ACQUISITION_TIMEOUT at once; when sessions match
// but none provides token yet, it waits for one of them to announce it
// (PROVIDER_AVAILABLE) until ctx ends (E_SERVICE_ACQUISITION_TIMEOUT,
// wrapping ctx's error). A session with a core 0.x daemon, which has no
// catalog, counts as providing every token: a call to a service that
// daemon lacks fails with E_SERVICE_UNAVAILABLE.
func (p *Pool) Select(ctx context.Context, token string, m Matcher) (*Service, error) {
	for {
		// The first case is ctx; the others are the candidates' catalog
		// change channels, captured under their lock together with the
		// catalog they were checked against, so a change after the check
		// closes a channel that the wait below sees.
		cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
		p.mu.Lock()
		for _, c := range p.clients {
			if c.Err() != nil || (m != nil && !m(c.Daemon())) {
				continue
			}
			c.mu.Lock()
			// A 0.x daemon has no catalog: it may provide anything.
			has, ch := c.provided[token] || c.peer.Generation.Legacy(), c.changed
			c.mu.Unlock()
			if has {
				p.mu.Unlock()
				return c.Service(token), nil
			}
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		p.mu.Unlock()
		if len(cases) == 1 {
			return nil, errcode.New(errcode.ServiceAcquisitionTimeout, "no open session provides "+token)
		}
		if selectWaitHook != nil {
			selectWaitHook()
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			return nil, errcode.Wrap(errcode.ServiceAcquisitionTimeout, "no provider for "+token, ctx.Err())
		}
	}
}

// selectWaitHook, when a test sets it, runs after Select has chosen the
// sessions to wait for and before it waits.
var selectWaitHook func()

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
