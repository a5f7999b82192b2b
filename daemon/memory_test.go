package daemon_test

import (
	"context"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
)

// heapKept is the heap memory the process keeps from the OS: objects (live
// or not yet swept) and free pages not released.
func heapKept() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// loadAndLeave connects n clients that each echo a 256 KiB string a few
// times, then, once all have finished (so that no connection closes while
// load goes on), closes them all.
func loadAndLeave(t *testing.T, d *daemon.Daemon, n int) {
	t.Helper()
	big := strings.Repeat("m", 256<<10)
	clients := make([]*client.Client, n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range clients {
		wg.Go(func() {
			c, err := client.Dial(context.Background(), client.Address{AppID: "test"}, &client.Options{SocketPath: d.Path()})
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
			for range 4 {
				if _, err := c.Service("probe").Call(context.Background(), "len", big); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := d.MemoryLooks(); n != 0 {
		t.Fatalf("the daemon looked at its memory %d times before a client left", n)
	}
}

// TestMemoryIsGivenBackWhenClientsLeave: once clients that made the heap
// grow have left, the daemon returns the memory to the OS within about a
// second, instead of keeping it until the runtime's own collection two
// minutes later; with KeepMemory it does not even look. Not parallel: it
// looks at the process's memory.
func TestMemoryIsGivenBackWhenClientsLeave(t *testing.T) {
	d := hostileDaemon(t, daemon.Options{})
	loadAndLeave(t, d, 40) // 40 × 4 × 256 KiB: tens of MiB of garbage
	loaded := heapKept()
	hostilePoll(t, "the daemon returns memory after the clients left", func() bool {
		time.Sleep(4 * time.Millisecond) // a bounded poll: about 10 s in all
		return d.MemoryReturns() == 1
	})
	after := heapKept()
	t.Logf("heap kept from the OS: %.1f MiB when the clients left, %.1f MiB after the return", float64(loaded)/(1<<20), float64(after)/(1<<20))
	if after+8<<20 > loaded {
		t.Errorf("the return gave back less than 8 MiB")
	}

	keep := hostileDaemon(t, daemon.Options{KeepMemory: true})
	loadAndLeave(t, keep, 4)
	hostilePoll(t, "the clients' connections end", func() bool { return len(keep.Conns()) == 0 })
	if n := keep.MemoryLooks(); n != 0 {
		t.Errorf("a daemon with KeepMemory looked at its memory %d times", n)
	}
}
