package daemon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
)

type echoSvc struct{}

func (echoSvc) Echo(x any) any { return x }

func benchPair(b *testing.B) *client.Service {
	d, err := daemon.New(&daemon.Options{AppID: "bench", SocketPath: shortDirB(b) + "/b.sock"})
	if err != nil {
		b.Fatal(err)
	}
	d.Provide("demo", echoSvc{})
	if err := d.Listen(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	c, err := client.Dial(context.Background(), client.Target{AppID: "bench"}, &client.Options{SocketPath: d.Path()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c.Service("demo")
}

// BenchmarkGoGoEcho: Go client -> Go daemon over a real Unix socket, in one
// process (scripts/bench.sh measures separate processes).
func BenchmarkGoGoEcho(b *testing.B) {
	svc := benchPair(b)
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Call(ctx, "echo", "hello, nexus!"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("64-callers", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(32) // 64 goroutines on 2 CPUs
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Call(ctx, "echo", "hello, nexus!"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	big := strings.Repeat("x", 1<<20)
	b.Run("1MiB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(2 << 20)
		for b.Loop() {
			if _, err := svc.Call(ctx, "echo", big); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func shortDirB(b *testing.B) string {
	d, err := makeTemp()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { removeAll(d) })
	return d
}
