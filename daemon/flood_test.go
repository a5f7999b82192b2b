//go:build linux

package daemon_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/internal/memcheck"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/protocol"
)

// floodCalls writes calls APPLY frames of big.echo with an argument of
// size bytes to nc, one at a time (so the writer holds one frame, not the
// flood), until they are written or the connection fails.
func floodCalls(nc net.Conn, calls, size int) error {
	arg := strings.Repeat("k", size)
	var b []byte
	for i := range calls {
		var err error
		b, err = protocol.AppendFrame(b[:0], []byte(`[3,`+strconv.Itoa(i+2)+`,null,["big","echo"],["`+arg+`"]]`), 0)
		if err != nil {
			return err
		}
		if _, err := nc.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// TestHostileFloodWithoutReading: a peer that sends calls whose replies
// (more than the kernel buffers take) it never reads makes the daemon hold
// no more than its connection budget; other clients are served meanwhile,
// the peer is disconnected once the daemon's writes to it stall for
// StallTimeout, and the memory comes back.
func TestHostileFloodWithoutReading(t *testing.T) {
	for _, tc := range []struct {
		budget, calls, size int
	}{
		{daemon.DefaultConnBudget, 20_000, 1024},
		{daemon.DefaultConnBudget, 100_000, 16},
		{8 << 20, 20_000, 1024},
		{8 << 20, 100_000, 16},
	} {
		t.Run(fmt.Sprintf("budget %d MiB, %d calls of %d bytes", tc.budget>>20, tc.calls, tc.size), func(t *testing.T) {
			d := hostileDaemon(t, daemon.Options{ConnBudget: tc.budget, StallTimeout: 500 * time.Millisecond})
			if err := d.Provide("big", map[string]any{"echo": func(s string) string { return s }}); err != nil {
				t.Fatal(err)
			}
			base := memcheck.Live()
			h := hostileSession(t, d)
			wrote := make(chan error, 1)
			go func() { wrote <- floodCalls(h.nc, tc.calls, tc.size) }()
			hostileServed(t, d, "") // while the flood is under way
			// Memory is sampled while what the session holds stays the
			// same from one poll to the next: the daemon is then waiting
			// (at its budget, or with everything read), so nothing it
			// allocates between a collection and the reading counts.
			var peak int64
			last := -1
			for i := 0; len(d.Conns()) > 0; i++ {
				if i == 4_000 {
					t.Fatalf("the flooding peer is still connected after %d polls", i)
				}
				held := -2
				if cs := d.Conns(); len(cs) > 0 && cs[0].Session() != nil {
					held = cs[0].Session().Held()
				}
				if held == last {
					peak = max(peak, memcheck.Live())
				}
				last = held
				time.Sleep(5 * time.Millisecond) // polling a condition: the stall ends the connection
			}
			<-wrote // written or cut off by the close: either is fine
			grown := peak - base
			t.Logf("daemon memory peak +%.1f MiB", float64(grown)/(1<<20))
			if grown > int64(tc.budget) {
				t.Fatalf("the daemon grew by %.1f MiB for one connection; its budget is %d MiB", float64(grown)/(1<<20), tc.budget>>20)
			}
			hostileServed(t, d, "")
			// What may stay is the runtime's own: a descriptor for each
			// of the up to MaxInFlight workers that ran at once, and the
			// stacks it caches (more under -race); a leak of the flood's
			// calls or replies would be tens of MiB.
			after := memcheck.Live() - base
			t.Logf("after the peer left: +%.1f MiB", float64(after)/(1<<20))
			if after > 4<<20 {
				t.Fatalf("the memory stayed %.1f MiB above its baseline after the peer left", float64(after)/(1<<20))
			}
		})
	}
}
