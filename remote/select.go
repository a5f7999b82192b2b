package remote

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Candidate is one open session that Select or SelectMulticast may
// choose: the peer's identity as last updated, what this side observed
// about the connection, and whether the peer provides the token asked for.
type Candidate struct {
	Identity *protocol.Object
	Observed session.Observed
	Session  *session.Conn
	Provides bool
}

// Source lists the open sessions that are candidates for token, and
// channels that are closed when that list may change (a session opened or
// ended, a catalog or an identity changed). The client's pool and the
// daemon are sources.
type Source func(token string) (candidates []Candidate, changed []<-chan struct{})

// SelectOptions are the options of Select: JS select's {where, wait}.
type SelectOptions struct {
	// Where chooses the peers; nil matches all.
	Where Matcher
	// Wait makes Select wait, when no peer matches and provides the token,
	// until one does (a session opens, a peer announces the token, an
	// identity changes), WaitTimeout passes or ctx's deadline does
	// (E_SERVICE_WAIT_TIMEOUT), or ctx is cancelled (E_ABORTED, as JS's
	// wait.signal). Without Wait, Select answers at once.
	Wait bool
	// WaitTimeout bounds the wait: 0 means DefaultWaitTimeout (30 s, JS's
	// default wait.timeout), a negative value no bound but ctx.
	WaitTimeout time.Duration
}

// DefaultWaitTimeout is how long Select waits with Wait and no
// WaitTimeout: JS select's default wait.timeout.
const DefaultWaitTimeout = 30 * time.Second

// Select chooses the one open session whose peer matches opts.Where and
// provides token, as JS select does, and returns the service on it. It
// never opens a session. Errors (errors.Is-testable codes, as core
// 1.2.0's):
//   - E_SERVICE_NO_MATCH when no peer matches and provides token;
//   - E_SERVICE_AMBIGUOUS when more than one does (narrow Where, or use
//     SelectMulticast to call them all);
//   - with opts.Wait, E_SERVICE_WAIT_TIMEOUT when no peer came in time
//     (wrapping ctx's error when it was ctx's deadline), and E_ABORTED
//     wrapping context.Canceled when ctx was cancelled.
//
// A nil opts is the zero SelectOptions.
func Select(ctx context.Context, src Source, token string, opts *SelectOptions) (*Service, error) {
	var o SelectOptions
	if opts != nil {
		o = *opts
	}
	var expired <-chan time.Time
	if o.Wait && o.WaitTimeout == 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.Wait && o.WaitTimeout > 0 {
		t := time.NewTimer(o.WaitTimeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		cands, changed := src(token)
		var found []Candidate
		for _, c := range cands {
			if c.Provides && o.Where.matches(c.Identity, c.Observed) {
				found = append(found, c)
			}
		}
		switch {
		case len(found) == 1:
			return NewService(found[0].Session, token), nil
		case len(found) > 1:
			return nil, errcode.New(errcode.ServiceAmbiguous, "Multiple providers for "+strconv.Quote(token)+" are available ("+strconv.Itoa(len(found))+" match).")
		case !o.Wait:
			return nil, errcode.New(errcode.ServiceNoMatch, "No provider for "+strconv.Quote(token)+" is available.")
		}
		if selectWaitHook != nil {
			selectWaitHook()
		}
		// The first cases are ctx and the timer; the others the source's
		// change channels, taken with the list they describe, so a change
		// after the look above closes a channel that this wait sees.
		cases := make([]reflect.SelectCase, 2, 2+len(changed))
		cases[0] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}
		cases[1] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(expired)}
		for _, ch := range changed {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		switch i, _, _ := reflect.Select(cases); i {
		case 0:
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, errcode.Wrap(errcode.Aborted, "Service acquisition was aborted.", ctx.Err())
			}
			return nil, errcode.Wrap(errcode.ServiceWaitTimeout, "No provider for "+strconv.Quote(token)+" became available.", ctx.Err())
		case 1:
			return nil, errcode.New(errcode.ServiceWaitTimeout, "No provider for "+strconv.Quote(token)+" became available within "+o.WaitTimeout.String()+".")
		}
	}
}

// selectWaitHook, when a test sets it, runs after Select has looked at
// the candidates and before it waits.
var selectWaitHook func()

// SelectMulticast returns a multicast over every open session whose peer
// matches where (nil: all) and provides token now, as JS selectMulticast
// does: the set is fixed when it is made. It never opens a session; with
// no match the multicast is empty and its calls return no results.
func SelectMulticast(src Source, token string, where Matcher) *Multicast {
	cands, _ := src(token)
	m := &Multicast{token: token}
	for _, c := range cands {
		if c.Provides && where.matches(c.Identity, c.Observed) {
			m.peers = append(m.peers, c)
		}
	}
	return m
}
