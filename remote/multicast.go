package remote

import (
	"context"
	"iter"
	"sync"

	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Multicast calls one service on several peers at once, the Go form of
// the proxies that JS createMulticast and selectMulticast return. Its
// calls are made concurrently, one per peer; All-style methods (Call,
// CallPath, Get, All) return every peer's outcome in the peers' order,
// as expects: "all" does, and Stream-style methods (StreamCall, Stream)
// yield outcomes as they arrive, as expects: "stream" does (JS yields
// them in the peers' order, an early slow peer holding back the others;
// Go does not). It is safe for concurrent use.
//
// Unlike JS, which leaves out a peer whose session ended or whose answer
// did not come before the call timeout, a Settled is produced for every
// peer, with the error (E_CONN_CLOSED, E_CALL_TIMEOUT) in Err.
type Multicast struct {
	token string
	peers []Candidate
}

// NewMulticast returns a multicast of the service token over the given
// sessions (their Provides field is not checked).
func NewMulticast(token string, peers []Candidate) *Multicast {
	return &Multicast{token: token, peers: append([]Candidate(nil), peers...)}
}

// Token returns the service token id.
func (m *Multicast) Token() string { return m.token }

// Len returns the number of peers.
func (m *Multicast) Len() int { return len(m.peers) }

// Peers returns the peers, as they were when the multicast was made.
func (m *Multicast) Peers() []Candidate { return append([]Candidate(nil), m.peers...) }

// Settled is one peer's outcome of a multicast call: JS's
// {status: "fulfilled", value} when Err is nil, {status: "rejected",
// reason} otherwise.
type Settled struct {
	// Identity is the peer's identity when the multicast was made.
	Identity *protocol.Object
	// Observed is what this side observed about the peer's connection.
	Observed session.Observed
	// Service is the service on that peer, for further calls.
	Service *Service
	// Result is the result when Err is nil.
	Result Result
	// Err is the peer's error: a *protocol.RemoteError for a remote
	// failure, E_CONN_CLOSED or E_CALL_TIMEOUT for one that did not
	// answer.
	Err error
}

// Func is one operation on one peer's service, for All and Stream.
type Func func(ctx context.Context, s *Service) (Result, error)

// Call calls the method at a dotted path on every peer (see Service.Call)
// and returns every outcome, in the peers' order.
func (m *Multicast) Call(ctx context.Context, method string, args ...any) []Settled {
	return m.All(ctx, func(ctx context.Context, s *Service) (Result, error) { return s.Call(ctx, method, args...) })
}

// CallPath is Call with the path as segments.
func (m *Multicast) CallPath(ctx context.Context, path []string, args ...any) []Settled {
	return m.All(ctx, func(ctx context.Context, s *Service) (Result, error) { return s.CallPath(ctx, path, args...) })
}

// Get reads the property at a dotted path on every peer.
func (m *Multicast) Get(ctx context.Context, path string) []Settled {
	return m.All(ctx, func(ctx context.Context, s *Service) (Result, error) { return s.Get(ctx, path) })
}

// StreamCall calls the method on every peer and yields each outcome as it
// arrives. Stopping the iteration early abandons the calls still running
// (as a cancelled context does).
func (m *Multicast) StreamCall(ctx context.Context, method string, args ...any) iter.Seq[Settled] {
	return m.Stream(ctx, func(ctx context.Context, s *Service) (Result, error) { return s.Call(ctx, method, args...) })
}

// All runs f on every peer concurrently and returns every outcome, in the
// peers' order, once all have one.
func (m *Multicast) All(ctx context.Context, f Func) []Settled {
	out := make([]Settled, len(m.peers))
	var wg sync.WaitGroup
	for i := range m.peers {
		wg.Go(func() { out[i] = m.settle(ctx, i, f) })
	}
	wg.Wait()
	return out
}

// Stream runs f on every peer concurrently when the iteration starts and
// yields each outcome as it arrives. Stopping early cancels the context of
// the calls still running and waits for them; their outcomes are dropped.
func (m *Multicast) Stream(ctx context.Context, f Func) iter.Seq[Settled] {
	return func(yield func(Settled) bool) {
		ctx, cancel := context.WithCancel(ctx)
		out := make(chan Settled, len(m.peers)) // nobody blocks after a break
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		for i := range m.peers {
			wg.Go(func() { out <- m.settle(ctx, i, f) })
		}
		for range m.peers {
			if !yield(<-out) {
				return
			}
		}
	}
}

func (m *Multicast) settle(ctx context.Context, i int, f Func) Settled {
	p := m.peers[i]
	s := Settled{Identity: p.Identity, Observed: p.Observed, Service: NewService(p.Session, m.token)}
	s.Result, s.Err = f(ctx, s.Service)
	return s
}
