package session

import "sync"

// The session's two tables, each a small type whose state only its
// methods change: the outgoing calls waiting for a reply, and the local
// resources the peer may call.

// callTable is the outgoing calls waiting for their reply, by request id.
type callTable struct {
	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan reply
	closed  bool
}

// add registers the reply channel of a new call and returns its id; false
// once the table is closed.
func (t *callTable) add(ch chan reply) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, false
	}
	if t.pending == nil {
		t.pending = map[uint64]chan reply{}
	}
	t.nextID++
	t.pending[t.nextID] = ch
	return t.nextID, true
}

// take removes call id and returns its reply channel, nil if no call with
// that id waits (it was answered, forgotten, or never made).
func (t *callTable) take(id uint64) chan reply {
	t.mu.Lock()
	defer t.mu.Unlock()
	ch := t.pending[id]
	delete(t.pending, id)
	return ch
}

// close closes the table and returns the calls still waiting; false if it
// was closed already.
func (t *callTable) close() (map[uint64]chan reply, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	t.closed = true
	pending := t.pending
	t.pending = nil
	return pending, true
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
