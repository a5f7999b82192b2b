package daemon

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Giving memory back when load ends. The Go runtime collects only when a
// program allocates, and returns freed pages to the OS slowly: a daemon
// whose clients have left allocates nothing, so the memory they used stays
// resident until the runtime's forced collection two minutes later and
// its scavenger's pace after that. Once connections close, the daemon
// looks (after returnDelay, so that a wave of closes is looked at once)
// at the heap the process keeps: when it is more than returnSlack above
// what it was after the last return, it collects and returns the free
// memory to the OS (debug.FreeOSMemory), at most once per returnEvery.

const (
	returnDelay = time.Second
	returnEvery = 10 * time.Second
	returnSlack = 2 << 20
)

// memoryReturn is the daemon's memory return: armed by connections that
// close, stopped and joined by stop.
type memoryReturn struct {
	mu       sync.Mutex
	timer    *time.Timer // armed, or nil
	pending  sync.WaitGroup
	stopped  bool
	last     time.Time // of the last return
	baseline uint64    // heap kept after the last return
	returns  int       // returns done, for tests
	arms     int       // looks armed, for tests
}

// heapKept is the heap the process keeps from the OS: objects, live or
// not yet swept, and free pages not returned.
func heapKept() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	var n uint64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			n += x.Value.Uint64()
		}
	}
	return n
}

// start records the baseline.
func (m *memoryReturn) start() {
	m.mu.Lock()
	m.baseline = heapKept()
	m.mu.Unlock()
}

// closed tells that a connection closed: it arms the look unless it is
// armed already.
func (m *memoryReturn) closed() { m.arm(returnDelay) }

func (m *memoryReturn) arm(after time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.timer != nil {
		return
	}
	m.pending.Add(1)
	m.arms++
	m.timer = time.AfterFunc(after, m.look)
}

// look returns memory if the heap kept grew by more than returnSlack, or
// looks again once returnEvery has passed since the last return.
func (m *memoryReturn) look() {
	defer m.pending.Done()
	m.mu.Lock()
	m.timer = nil
	if m.stopped || heapKept() < m.baseline+returnSlack {
		m.mu.Unlock()
		return
	}
	if wait := returnEvery - time.Since(m.last); !m.last.IsZero() && wait > 0 {
		m.mu.Unlock()
		m.arm(wait)
		return
	}
	m.mu.Unlock()
	runtime.GC() // sync.Pools keep their contents through one collection
	debug.FreeOSMemory()
	m.mu.Lock()
	m.last, m.baseline = time.Now(), heapKept()
	m.returns++
	m.mu.Unlock()
}

// stop disarms the look and waits for one under way.
func (m *memoryReturn) stop() {
	m.mu.Lock()
	m.stopped = true
	if m.timer != nil && m.timer.Stop() {
		m.pending.Done()
	}
	m.timer = nil
	m.mu.Unlock()
	m.pending.Wait()
}
