package session

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Group is the sessions of one peer: a daemon's connections, or the
// connections a client process opens as one Nexus instance. Its sessions
// share what JS keeps per Nexus instance: one space of resource ids
// ("res-1", "res-2", …), so that a call naming a resource of another
// session of the group is refused with E_RESOURCE_ACCESS_DENIED rather
// than E_RESOURCE_NOT_FOUND, and one watchdog goroutine (see inline.go).
//
// The watchdog runs only while some session of the group runs a call
// inline or has workers, and exits when none has; Wait joins it. Nothing
// of a Group is shared with other groups. The zero value is not usable:
// use NewGroup.
type Group struct {
	owners     sync.Map      // live local resource id -> *Conn
	nextID     atomic.Uint64 // the last resource id handed out
	workerIdle atomic.Int64  // see workerIdle; changeable by tests

	mu      sync.Mutex
	conns   map[*Conn]struct{}
	running atomic.Bool // a watchdog goroutine exists (set under mu)
	done    sync.WaitGroup
}

// NewGroup returns an empty group.
func NewGroup() *Group {
	g := &Group{conns: map[*Conn]struct{}{}}
	g.workerIdle.Store(int64(workerIdle))
	return g
}

// Wait blocks until the group's watchdog goroutine has returned. Call it
// once the group's sessions are closed (a watchdog started meanwhile is
// not waited for).
func (g *Group) Wait() { g.done.Wait() }

// resourceID returns a new resource id of the group, "res-N" as JS makes
// them.
func (g *Group) resourceID() string { return "res-" + strconv.FormatUint(g.nextID.Add(1), 10) }

func (g *Group) add(c *Conn) {
	g.mu.Lock()
	g.conns[c] = struct{}{}
	g.mu.Unlock()
}

func (g *Group) remove(c *Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// activity is called when a session starts a call inline or a worker: it
// starts the watchdog if none runs. The check is one atomic load.
func (g *Group) activity() {
	if g.running.Load() {
		return
	}
	g.mu.Lock()
	if !g.running.Load() {
		g.running.Store(true)
		g.done.Add(1)
		go g.watch()
	}
	g.mu.Unlock()
}

const (
	watchTick      = 5 * time.Millisecond // between the watchdog's looks
	watchIdleTicks = 100                  // quiet ticks before the watchdog exits
)

// watch is the watchdog: every tick it looks at each session of the group
// (Conn.watch), and it returns after watchIdleTicks quiet ticks once no
// session needs watching, or at the first tick after the group's last
// session ended (so Close waits at most one tick for it).
func (g *Group) watch() {
	defer g.done.Done()
	tick := newTicker(watchTick)
	defer tick.close()
	var conns []*Conn
	quiet := 0
	for {
		g.mu.Lock()
		conns = conns[:0]
		for c := range g.conns {
			conns = append(conns, c)
		}
		g.mu.Unlock()
		if len(conns) == 0 && g.retire() {
			return // the group's last session has ended
		}
		busy := false
		for _, c := range conns {
			if c.watch() {
				busy = true
			}
		}
		clear(conns)
		if busy {
			quiet = 0
		} else if quiet++; quiet >= watchIdleTicks && g.retire() {
			return
		}
		tick.wait()
	}
}

// retire ends the watchdog unless a session needs watching. Running is
// cleared before the last look: a session that starts a call after that
// look sees it cleared and starts a new watchdog in activity, and one that
// started earlier is seen by the look, which keeps this watchdog.
func (g *Group) retire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running.Store(false)
	for c := range g.conns {
		if c.needsWatch() {
			g.running.Store(true)
			return false
		}
	}
	return true
}
