package daemon_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
)

type echoSvc struct{}

func (echoSvc) Echo(x any) any { return x }

func benchPair(b *testing.B) *client.Service {
	d, err := daemon.New(&daemon.Options{AppID: "bench", SocketPath: shortDir(b) + "/b.sock"})
	if err != nil {
		b.Fatal(err)
	}
	d.Provide("demo", echoSvc{})
	if err := d.Listen(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	c, err := client.Dial(context.Background(), client.Address{AppID: "bench"}, &client.Options{SocketPath: d.Path()})
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

// BenchmarkRawPingPong is the same-run baseline for BenchmarkGoGoEcho: a
// 4-byte length-prefixed ping-pong of the same message over a Unix socket,
// one goroutine per side, no JSON.
func BenchmarkRawPingPong(b *testing.B) {
	ln, err := net.Listen("unix", shortDir(b)+"/raw.sock")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		buf := make([]byte, 4+64)
		for {
			if _, err := io.ReadFull(br, buf[:4]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(buf)
			if _, err := io.ReadFull(br, buf[4:4+n]); err != nil {
				return
			}
			if _, err := c.Write(buf[:4+n]); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	msg := []byte("\x00\x00\x00\x0dhello, nexus!")
	in := make([]byte, len(msg))
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(br, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
