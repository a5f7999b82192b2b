package session

import (
	"strconv"
	"sync"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
)

// The session's two tables, each a small type whose state only its
// methods change: the outgoing calls waiting for a reply, and the local
// resources the peer may call.

// callTable is the outgoing calls waiting for their reply, by request id.
// With a call timeout, one timer per session (not one per call) expires
// them: every timed call is due the same timeout after it was made, the
// timer fires at the earliest due time among the calls then pending and
// fails those that are due, so a call pays for one clock read.
type callTable struct {
	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]pendingCall
	closed  bool

	timeout time.Duration // Config.CallTimeout; 0: calls are never due
	timer   *time.Timer   // runs expire; made by the first timed call
	armed   bool          // the timer will fire
}

// pendingCall is a call waiting for its reply: where the reply goes, and
// when the call is due (monoNow; 0: never).
type pendingCall struct {
	ch  chan reply
	due int64
}

// add registers the reply channel of a new call and returns its id; false
// once the table is closed. A timed call is failed with E_CALL_TIMEOUT
// when the table's timeout has passed without its reply.
func (t *callTable) add(ch chan reply, timed bool) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, false
	}
	if t.pending == nil {
		t.pending = map[uint64]pendingCall{}
	}
	t.nextID++
	p := pendingCall{ch: ch}
	if timed && t.timeout > 0 {
		p.due = monoNow() + int64(t.timeout)
		if !t.armed {
			t.armed = true
			if t.timer == nil {
				t.timer = time.AfterFunc(t.timeout, t.expire)
			} else {
				t.timer.Reset(t.timeout)
			}
		}
	}
	t.pending[t.nextID] = p
	return t.nextID, true
}

// expire fails the calls that are due and sets the timer for the next.
func (t *callTable) expire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed = false
	if t.closed {
		return
	}
	now := monoNow()
	var next int64
	var timedOut error
	for id, p := range t.pending {
		switch {
		case p.due == 0:
		case p.due <= now:
			if timedOut == nil {
				timedOut = errcode.New(errcode.CallTimeout, "call timed out after "+strconv.FormatInt(t.timeout.Milliseconds(), 10)+" ms (the session's call timeout)")
			}
			delete(t.pending, id)
			p.ch <- reply{err: timedOut} // buffered: the caller takes it
		case next == 0 || p.due < next:
			next = p.due
		}
	}
	if next != 0 {
		t.armed = true
		t.timer.Reset(time.Duration(next - now))
	}
}

// take removes call id and returns its reply channel, nil if no call with
// that id waits (it was answered, forgotten, timed out, or never made).
func (t *callTable) take(id uint64) chan reply {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pending[id]
	delete(t.pending, id)
	return p.ch
}

// close closes the table, stops its timer and returns the calls still
// waiting; false if it was closed already.
func (t *callTable) close() ([]chan reply, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
	}
	out := make([]chan reply, 0, len(t.pending))
	for _, p := range t.pending {
		out = append(out, p.ch)
	}
	t.pending = nil
	return out, true
}

// resourceTable is the local resources of one session, which it also
// registers in the session's group (so that the group's other sessions
// refuse them with E_RESOURCE_ACCESS_DENIED).
type resourceTable struct {
	group  *Group
	owner  *Conn
	mu     sync.Mutex
	byID   map[string]resource
	closed bool
}

// add registers r under id; false once the table is closed.
func (t *resourceTable) add(id string, r resource) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.byID == nil {
		t.byID = map[string]resource{}
	}
	t.byID[id] = r
	t.group.owners.Store(id, t.owner)
	return true
}

// get returns resource id.
func (t *resourceTable) get(id string) (resource, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byID[id]
	return r, ok
}

// remove drops resource id (the peer released it).
func (t *resourceTable) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byID[id]; ok {
		delete(t.byID, id)
		t.group.owners.Delete(id)
	}
}

// len returns the number of resources.
func (t *resourceTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// close drops every resource and refuses new ones.
func (t *resourceTable) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for id := range t.byID {
		t.group.owners.Delete(id)
	}
	t.byID = nil
}
