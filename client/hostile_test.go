//go:build linux

package client_test

// Hostile daemons: raw bytes against the Go client from a fake daemon on a
// Unix socket. Each fake completes the handshake with the bytes a JS 1.2.0
// daemon sends, then misbehaves. For every case the client's calls get a
// clear outcome within their context (their answer, the protocol's error
// code, or the session closing with E_CONN_CLOSED), memory stays within a
// bound that a defect would cross, and nothing outlives Close (TestMain's
// leak check). The file needs Linux: the fakes ask the kernel (TIOCOUTQ)
// whether the client has read what they wrote.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/internal/memcheck"

	"golang.org/x/sys/unix"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

const (
	// hostileDeadline bounds every read and write of a fake daemon and
	// every Dial: a client that neither answers nor closes fails the test
	// instead of hanging it.
	hostileDeadline = 30 * time.Second

	// hostileAck is the HANDSHAKE_ACK of a JS 1.2.0 daemon, byte for byte
	// as captured (PROTOCOL.md §4, "A full session"): the daemon provides
	// "svc" and "denied".
	hostileAck = `[11,1,{"context":"node-ipc-daemon","appId":"proto-app","instance":"default","pid":6673},["provider-catalog-v1"],["svc","denied"]]`
	// hostileReady is the READY the client must answer with.
	hostileReady = `[14,1,["provider-catalog-v1"],[]]`
)

// hostileDaemon is the daemon side of one connection, after the handshake.
// Its methods run on the fake's goroutine: a failure is reported with
// t.Errorf and ends that goroutine (closing the connection), never the
// test's.
type hostileDaemon struct {
	t  *testing.T
	nc *net.UnixConn
	fr *protocol.FrameReader
}

// hostileClient starts a fake daemon that runs script once the handshake
// is done (the connection closes when script returns) and dials it with
// opts. It returns the client and a channel closed when the fake has
// ended; Cleanup closes the client and joins the fake.
func hostileClient(t *testing.T, opts client.Options, script func(d *hostileDaemon)) (*client.Client, <-chan struct{}) {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "nxh") // short: socket paths are < 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "d.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ln.SetDeadline(time.Now().Add(hostileDeadline))
		nc, err := ln.AcceptUnix()
		ln.Close()
		if err != nil {
			t.Errorf("fake daemon: accept: %v", err)
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(hostileDeadline))
		d := &hostileDaemon{t: t, nc: nc, fr: protocol.NewFrameReader(nc, 0)}
		d.handshake()
		script(d)
	}()
	opts.SocketPath = path
	if opts.AppID == "" {
		opts.AppID = "hostile"
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostileDeadline)
	defer cancel()
	c, err := client.Dial(ctx, client.Address{AppID: "proto-app"}, &opts)
	if err != nil {
		ln.Close()
		<-done
		os.RemoveAll(dir)
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		<-done
		os.RemoveAll(dir)
	})
	return c, done
}

// hostileRecv receives what the fake daemon sends on ch. A fake that ended
// without sending (it failed: see its error) fails the test instead of
// hanging it.
func hostileRecv[T any](t *testing.T, fake <-chan struct{}, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-fake:
		select {
		case v := <-ch:
			return v
		default:
		}
	}
	t.Fatal("the fake daemon ended early")
	panic("unreachable")
}

func (d *hostileDaemon) fail(format string, args ...any) {
	d.t.Helper()
	d.t.Errorf("fake daemon: "+format, args...)
	runtime.Goexit()
}

func (d *hostileDaemon) handshake() {
	d.t.Helper()
	p := d.next()
	req, ok := p.(*protocol.HandshakeReqPacket)
	if !ok || req.ID != protocol.NumID(1) || len(req.Capabilities) != 1 || req.Capabilities[0] != "provider-catalog-v1" {
		d.fail("the client's first packet is %#v, want its REQ", p)
	}
	d.frames(hostileAck)
	if b := d.frame(); string(b) != hostileReady {
		d.fail("got %q, want the READY %s", b, hostileReady)
	}
}

// write writes b; the client must not have closed the connection.
func (d *hostileDaemon) write(b []byte) {
	d.t.Helper()
	if _, err := d.nc.Write(b); err != nil {
		d.fail("write: %v", err)
	}
}

// frames writes the bodies as frames, in one write.
func (d *hostileDaemon) frames(bodies ...string) {
	d.t.Helper()
	d.write(hostileFrames(bodies...))
}

// header writes a bare frame header declaring n bytes.
func (d *hostileDaemon) header(n uint32) {
	d.t.Helper()
	d.write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func (d *hostileDaemon) frame() []byte {
	d.t.Helper()
	b, err := d.fr.ReadFrame()
	if err != nil {
		d.fail("read: %v", err)
	}
	return b
}

// next reads the client's next packet; the connection must not close.
func (d *hostileDaemon) next() protocol.Packet {
	d.t.Helper()
	b := d.frame()
	p, err := protocol.DecodePacket(b, nil)
	if err != nil {
		d.fail("the client sent an invalid packet %q: %v", b, err)
	}
	return p
}

// apply reads the client's next packet, which must be an APPLY.
func (d *hostileDaemon) apply() *protocol.ApplyPacket {
	d.t.Helper()
	p := d.next()
	a, ok := p.(*protocol.ApplyPacket)
	if !ok {
		d.fail("got %s, want an APPLY", hostileDescribe(p))
	}
	return a
}

// untilClosed reads until the client closes the connection and returns
// the packets it sent before.
func (d *hostileDaemon) untilClosed() []protocol.Packet {
	d.t.Helper()
	var got []protocol.Packet
	for {
		b, err := d.fr.ReadFrame()
		if err != nil {
			if !hostileClosedErr(err) {
				d.fail("the client did not close the connection: %v (got %v)", err, got)
			}
			return got
		}
		p, err := protocol.DecodePacket(b, nil)
		if err != nil {
			d.fail("the client sent an invalid packet %q: %v", b, err)
		}
		got = append(got, p)
	}
}

// drained waits until the client has read everything written so far: the
// kernel counts, for a Unix stream socket, the bytes the peer has not read
// yet (TIOCOUTQ).
func (d *hostileDaemon) drained() {
	d.t.Helper()
	rc, err := d.nc.SyscallConn()
	if err != nil {
		d.fail("%v", err)
	}
	if !hostilePoll(2000, func() bool {
		n := -1
		rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCOUTQ) })
		return n == 0
	}) {
		d.fail("the client did not read what was written")
	}
}

// hostilePoll polls cond every millisecond, tries times at most, and
// reports whether it became true. Polling a condition, not sleeping for an
// outcome: the tests have no other way to see the kernel's queues.
func hostilePoll(tries int, cond func() bool) bool {
	for range tries {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}

func hostileFrames(bodies ...string) []byte {
	var b []byte
	for _, s := range bodies {
		var err error
		if b, err = protocol.AppendFrame(b, []byte(s), 0); err != nil {
			panic(err) // the tests' own frames are valid
		}
	}
	return b
}

// hostileClosedErr reports whether err is the other side closing the
// connection (a reset when it closed with bytes unread).
func hostileClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func hostileDescribe(p protocol.Packet) string {
	switch x := p.(type) {
	case *protocol.ErrPacket:
		return "ERR " + x.ID.String() + " " + hostileClip(string(x.Error))
	case *protocol.ResPacket:
		return "RES " + x.ID.String() + " " + hostileClip(string(x.Result))
	case *protocol.ApplyPacket:
		return "APPLY " + x.ID.String() + " " + hostileClip(string(x.Args))
	case *protocol.ReleasePacket:
		return "RELEASE " + x.ResourceID
	}
	return p.Type().String() + " " + p.MessageID().String()
}

func hostileClip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func hostileMs(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms"
}

func hostileMiB(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB" }

// hostileRace reports whether the test binary runs with the race detector.
func hostileRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// hostileSlow is a time bound d for the machine the tests run on: four
// times d under the race detector, which slows the client down that much
// and more on a busy machine.
func hostileSlow(d time.Duration) time.Duration {
	if hostileRace() {
		return 4 * d
	}
	return d
}

// hostileCall calls svc.method with a context of the given timeout.
func hostileCall(c *client.Client, timeout time.Duration, method string, args ...any) (client.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Service("svc").Call(ctx, method, args...)
}

// hostileEnded checks that err, the error of a call that was pending, is
// the session ending with E_CONN_CLOSED (caused by cause, if not ""),
// that the session has ended with it, and that a new call fails at once.
func hostileEnded(t *testing.T, c *client.Client, err error, cause errcode.Code) {
	t.Helper()
	if !errors.Is(err, errcode.ConnClosed) || (cause != "" && !errors.Is(err, cause)) {
		t.Fatalf("the call returned %v, want %s caused by %q", err, errcode.ConnClosed, cause)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("the call failed with E_CONN_CLOSED but the session is open")
	}
	if !errors.Is(c.Err(), errcode.ConnClosed) {
		t.Fatalf("the session ended with %v", c.Err())
	}
	start := time.Now()
	if _, err := hostileCall(c, 5*time.Second, "echo", 1); !errors.Is(err, errcode.ConnClosed) || time.Since(start) > hostileSlow(time.Second) {
		t.Fatalf("a call after the end: %v after %v", err, time.Since(start))
	}
}

// hostileSampler records, while it runs, the peak of the memory in use
// in two ways: the heap objects the last collection found live, plus
// stacks (what the process holds: the bound the tests check), and all heap
// objects, garbage not yet collected included, plus stacks (what it costs
// meanwhile, which also depends on the collector's pace: logged).
type hostileSampler struct {
	stop, done            chan struct{}
	live, all, goroutines atomic.Int64
	goroutines0           int64
}

// hostilePeak is a hostileSampler's result, above a baseline.
type hostilePeak struct{ live, all, goroutines int64 }

func (p hostilePeak) String() string {
	return "+" + hostileMiB(p.live) + " live (+" + hostileMiB(p.all) + " with garbage), +" + strconv.FormatInt(p.goroutines, 10) + " goroutines"
}

func hostileSample() *hostileSampler {
	s := &hostileSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	read := func() {
		metrics.Read(samples)
		stacks := int64(samples[2].Value.Uint64())
		s.live.Store(max(s.live.Load(), int64(samples[0].Value.Uint64())+stacks))
		s.all.Store(max(s.all.Load(), int64(samples[1].Value.Uint64())+stacks))
		s.goroutines.Store(max(s.goroutines.Load(), int64(samples[3].Value.Uint64())))
	}
	read()
	s.goroutines0 = s.goroutines.Load()
	go func() {
		defer close(s.done)
		// A measurement every millisecond, not a wait for an outcome.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				read()
			case <-s.stop:
				read()
				return
			}
		}
	}()
	return s
}

// end stops the sampler and returns the peaks above base (a hostileLive).
func (s *hostileSampler) end(base int64) hostilePeak {
	close(s.stop)
	<-s.done
	return hostilePeak{s.live.Load() - base, s.all.Load() - base, s.goroutines.Load() - s.goroutines0}
}

// 1. Reply frames whose length the client must refuse: it closes the
// session at once, without reading further and without a word, and the
// pending call fails with E_CONN_CLOSED caused by E_IPC_PROTOCOL_ERROR.
func TestHostileReplyFrameLengths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		length uint32
		body   bool // a body follows the header
	}{
		{"16 MiB + 1", protocol.DefaultMaxFrameSize + 1, false},
		{"16 MiB + 1 with a body behind it", protocol.DefaultMaxFrameSize + 1, true},
		{"4 GiB - 1", 1<<32 - 1, false},
		{"0", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			after := make(chan []protocol.Packet, 1)
			c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
				a := d.apply()
				d.header(tc.length)
				if tc.body {
					// The client may have closed already.
					_, _ = d.nc.Write(hostileFrames(`[5,` + a.ID.String() + `,"x"]`))
				}
				after <- d.untilClosed()
			})
			start := time.Now()
			_, err := hostileCall(c, 10*time.Second, "echo", "x")
			t.Logf("-> %v after %s", err, hostileMs(time.Since(start)))
			hostileEnded(t, c, err, errcode.IPCProtocolError)
			if got := hostileRecv(t, fake, after); len(got) != 0 {
				t.Errorf("the client sent %v after the bad header", got)
			}
		})
	}
}

// 1. A reply of exactly the client's MaxFrameSize is accepted; one byte
// more closes the session.
func TestHostileReplyAtMaxFrameSize(t *testing.T) {
	t.Parallel()
	// reply returns a RES for id whose body has exactly n bytes.
	reply := func(id protocol.ID, n int) string {
		head, tail := `[5,`+id.String()+`,"`, `"]`
		return head + strings.Repeat("A", n-len(head)-len(tail)) + tail
	}
	t.Run("MaxFrameSize 1024", func(t *testing.T) {
		t.Parallel()
		c, _ := hostileClient(t, client.Options{MaxFrameSize: 1024}, func(d *hostileDaemon) {
			a := d.apply()
			d.frames(reply(a.ID, 1024))
			d.apply()
			d.header(1025)
			d.untilClosed()
		})
		res, err := hostileCall(c, 10*time.Second, "echo", "x")
		s, _ := res.Value().(string)
		if err != nil || len(s) != 1024-len(`[5,1,""]`) || strings.Count(s, "A") != len(s) {
			t.Fatalf("a 1024-byte reply: %d bytes, %v", len(s), err)
		}
		_, err = hostileCall(c, 10*time.Second, "echo", "y")
		hostileEnded(t, c, err, errcode.IPCProtocolError)
	})
	t.Run("default: 16 MiB", func(t *testing.T) {
		t.Parallel()
		c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
			a := d.apply()
			d.frames(reply(a.ID, protocol.DefaultMaxFrameSize))
			a = d.apply()
			d.frames(`[5,` + a.ID.String() + `,"after"]`)
			d.untilClosed()
		})
		start := time.Now()
		res, err := hostileCall(c, hostileDeadline, "echo", "x")
		s, _ := res.Value().(string)
		t.Logf("a 16 MiB reply: %d bytes of result in %s", len(s), hostileMs(time.Since(start)))
		if err != nil || len(s) != protocol.DefaultMaxFrameSize-len(`[5,1,""]`) || strings.Count(s, "A") != len(s) {
			t.Fatalf("a 16 MiB reply: %d bytes, %v", len(s), err)
		}
		if res, err := hostileCall(c, 10*time.Second, "echo", 1); err != nil || res.Value() != "after" {
			t.Fatalf("the next call: %v, %v", res.Value(), err)
		}
	})
}

// 1. Memory follows what arrives, not what is declared, and replies that
// answer nothing are dropped. Not parallel: it measures the process's
// memory.
func TestHostileReplyMemory(t *testing.T) {
	for _, sent := range []int{1 << 10, 1 << 20} {
		t.Run(fmt.Sprintf("16 MiB declared, %d KiB sent", sent>>10), func(t *testing.T) {
			ready, sentAll := make(chan struct{}), make(chan struct{})
			send, finish := make(chan struct{}), make(chan struct{})
			sendNow, finishNow := sync.OnceFunc(func() { close(send) }), sync.OnceFunc(func() { close(finish) })
			defer finishNow() // on every way out: the fake waits for them
			defer sendNow()
			c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
				a := d.apply()
				close(ready)
				<-send
				d.header(protocol.DefaultMaxFrameSize)
				head := `[5,` + a.ID.String() + `,"`
				d.write([]byte(head + strings.Repeat("A", sent-len(head))))
				d.drained()
				close(sentAll)
				<-finish // then close, in the middle of the frame
			})
			errc := make(chan error, 1)
			go func() {
				_, err := hostileCall(c, hostileDeadline, "echo", "x")
				errc <- err
			}()
			hostileRecv(t, fake, ready)
			base := memcheck.Live()
			sendNow()
			hostileRecv(t, fake, sentAll)
			grown := memcheck.Live() - base
			finishNow()
			t.Logf("heap +%s with %d KiB of a 16 MiB frame received", hostileMiB(grown), sent>>10)
			// The frame reader holds what arrived in 64 KiB chunks.
			if limit := int64(2*sent + 512<<10); grown > limit {
				t.Errorf("the client holds %s for %d KiB received, want at most %s", hostileMiB(grown), sent>>10, hostileMiB(limit))
			}
			hostileEnded(t, c, <-errc, "")
		})
	}
	t.Run("20 replies of 1 MiB to one call", func(t *testing.T) {
		const n, size = 20, 1 << 20
		after := make(chan []protocol.Packet, 1)
		// Built before the baseline, and the 19 others share one buffer:
		// the measures are the client's.
		first := hostileFrames(`[5,1,"` + strings.Repeat("A", size) + `"]`)
		other := hostileFrames(`[5,1,"` + strings.Repeat("B", size) + `"]`)
		c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
			if a := d.apply(); a.ID != protocol.NumID(1) {
				d.fail("the first call is %s", a.ID)
			}
			flood := net.Buffers{first}
			for range n - 1 {
				flood = append(flood, other)
			}
			if _, err := flood.WriteTo(d.nc); err != nil { // one writev
				d.fail("write: %v", err)
			}
			a := d.apply()
			d.frames(`[5,` + a.ID.String() + `,"second"]`)
			after <- d.untilClosed()
		})
		base := memcheck.Live()
		sampler := hostileSample()
		start := time.Now()
		func() {
			res, err := hostileCall(c, hostileDeadline, "echo", "x")
			s, _ := res.Value().(string)
			if err != nil || len(s) != size || strings.Count(s, "A") != size {
				t.Fatalf("the first reply: %d bytes (want %d of A), %v", len(s), size, err)
			}
		}()
		// The second call's reply follows the 19 others on the stream:
		// once it is in, they were all read.
		res, err := hostileCall(c, hostileDeadline, "echo", "y")
		if err != nil || res.Value() != "second" {
			t.Fatalf("the next call: %v, %v", res.Value(), err)
		}
		elapsed := time.Since(start)
		peak := sampler.end(base)
		live := memcheck.Live() - base
		t.Logf("%d replies of 1 MiB in %s: peak %s, live +%s after", n, hostileMs(elapsed), peak, hostileMiB(live))
		// Holding the 19 dropped replies would be 19 MiB more.
		if peak.live > 8<<20 {
			t.Errorf("memory peaked at %s: the client held the replies", peak)
		}
		if live > 1<<20 {
			t.Errorf("the client still holds +%s after the replies", hostileMiB(live))
		}
		c.Close()
		if got := hostileRecv(t, fake, after); len(got) != 0 {
			t.Errorf("the client sent %v for the ignored replies", got)
		}
	})
}

// hostileArg returns the argument of a call echo(k) with k a
// non-negative integer.
func hostileArg(a *protocol.ApplyPacket) (int, bool) {
	args, err := protocol.DecodeArgs(a.Args)
	if err != nil || len(args) != 1 {
		return 0, false
	}
	f, ok := args[0].(float64)
	return int(f), ok && f >= 0 && f == float64(int(f))
}

// hostileTemplate replaces {id}, {prev} and {next} in s by the APPLY's id,
// the one before and the one after.
func hostileTemplate(s string, id protocol.ID) string {
	n, _ := id.Num()
	return strings.NewReplacer("{id}", id.String(), "{prev}", protocol.NumID(n-1).String(), "{next}", protocol.NumID(n+1).String()).Replace(s)
}

// 2. Replies that match no pending call: unknown ids, ids of other JSON
// types, a second reply to an answered call. Each is dropped, resources
// in it are released, and the call gets its real answer.
func TestHostileReplyIDs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		before []string // frames before the real answer
		after  []string // frames behind it
	}{
		{"unknown id", []string{`[5,999999,"x"]`, `[6,999999,{"code":"E_X","message":"m"}]`}, nil},
		{"the id as a string", []string{`[5,"{id}","x"]`, `[6,"{id}",{"code":"E_X"}]`}, nil},
		{"the id plus a fraction", []string{`[5,{id}.5,"x"]`, `[6,{id}.000001,{"code":"E_X"}]`}, nil},
		{"negative, zero, -0 and null ids", []string{`[5,-{id},"x"]`, `[5,0,"x"]`, `[5,-0,"x"]`, `[5,null,"x"]`, `[6,null,{"code":"E_X"}]`}, nil},
		{"huge ids", []string{`[5,1e300,"x"]`, `[5,9007199254740993,"x"]`, `[5,1e400,"x"]`, `[5,-1e400,"x"]`}, nil},
		{"the previous call's id", []string{`[5,{prev},"x"]`, `[6,{prev},{"code":"E_X"}]`}, nil},
		{"the next call's id, before that call", []string{`[5,{next},"x"]`}, nil},
		{"an unknown id with a reference", []string{`[5,999999,"\u0003R:res-77"]`}, nil},
		{"a second reply", nil, []string{`[5,{id},"dup"]`, `[6,{id},{"code":"E_X"}]`}},
		{"a second reply with a reference", nil, []string{`[5,{id},["\u0003R:res-78",{"f":"\u0003R:res-79"}]]`}},
		{"a second reply of 64 KiB", nil, []string{`[5,{id},"` + strings.Repeat("d", 64<<10) + `"]`}},
	}
	others := make(chan []protocol.Packet, 1)
	c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		var got []protocol.Packet
		for {
			b, err := d.fr.ReadFrame()
			if err != nil {
				if !hostileClosedErr(err) {
					d.fail("read: %v", err)
				}
				others <- got
				return
			}
			p, err := protocol.DecodePacket(b, nil)
			if err != nil {
				d.fail("the client sent an invalid packet %q: %v", b, err)
			}
			a, ok := p.(*protocol.ApplyPacket)
			if !ok {
				got = append(got, p)
				continue
			}
			k, ok := hostileArg(a)
			if !ok || k >= len(cases) {
				d.fail("unexpected call %s", hostileDescribe(p))
			}
			tc := cases[k]
			var frames []string
			for _, f := range tc.before {
				frames = append(frames, hostileTemplate(f, a.ID))
			}
			frames = append(frames, `[5,`+a.ID.String()+`,"real `+strconv.Itoa(k)+`"]`)
			for _, f := range tc.after {
				frames = append(frames, hostileTemplate(f, a.ID))
			}
			d.frames(frames...)
		}
	})
	for k, tc := range cases {
		res, err := hostileCall(c, 10*time.Second, "echo", k)
		if want := "real " + strconv.Itoa(k); err != nil || res.Value() != want {
			t.Errorf("%s: got %v, %v; want %q", tc.name, res.Value(), err, want)
		}
	}
	// Once more: the replies behind the last call's answer are in too.
	if res, err := hostileCall(c, 10*time.Second, "echo", 0); err != nil || res.Value() != "real 0" {
		t.Errorf("the last call: %v, %v", res.Value(), err)
	}
	c.Close()
	var released []string
	for _, p := range hostileRecv(t, fake, others) {
		r, ok := p.(*protocol.ReleasePacket)
		if !ok {
			t.Errorf("the client sent %s", hostileDescribe(p))
			continue
		}
		released = append(released, r.ResourceID)
	}
	if got, want := strings.Join(released, " "), "res-77 res-78 res-79"; got != want {
		t.Errorf("released %q, want %q (the references in the dropped replies)", got, want)
	}
}

// 2. Ids that are not a number, a string or null make the packet invalid:
// the client closes the session (a JS client would ignore them).
func TestHostileReplyIDTypes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[5,true,"x"]`, `[5,false,"x"]`, `[5,{},"x"]`, `[5,[1],"x"]`, `[6,{"id":1},{"code":"E_X"}]`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			after := make(chan []protocol.Packet, 1)
			c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
				d.apply()
				d.frames(body)
				after <- d.untilClosed()
			})
			_, err := hostileCall(c, 10*time.Second, "echo", "x")
			hostileEnded(t, c, err, errcode.IPCProtocolError)
			if got := hostileRecv(t, fake, after); len(got) != 0 {
				t.Errorf("the client sent %v", got)
			}
		})
	}
}

// 2. ERR packets whose error is not an error object: the call fails with
// a *protocol.RemoteError that says what came (or, for a falsy error,
// succeeds with null, as a JS client resolves it).
func TestHostileErrorObjects(t *testing.T) {
	t.Parallel()
	deep := `{"code":"E_OUTER","cause":` + strings.Repeat(`{"code":"E_MID","cause":`, 900) + `{"code":"E_INNER"}` + strings.Repeat("}", 900) + `}`
	cases := []struct {
		name, err string
		code      errcode.Code // "" for a success with null
		message   string
		causes    int // the length of the chain of causes
	}{
		{"a number", `5`, errcode.Unknown, "5", 0},
		{"an array", `[1,{"code":"E_X"}]`, errcode.Unknown, `[1,{"code":"E_X"}]`, 0},
		{"true", `true`, errcode.Unknown, "true", 0},
		{"a string", `"text"`, errcode.Unknown, "text", 0},
		{"a placeholder string", `"\u0003R:res-5"`, errcode.Unknown, "\x03R:res-5", 0},
		{"an empty object", `{}`, errcode.Unknown, "", 0},
		{"members of the wrong types", `{"code":5,"message":["m"],"name":{},"stack":null,"cause":7,"context":[1]}`, errcode.Unknown, "", 0},
		{"a cause that is not an object", `{"code":"E_APP","message":"boom","cause":"why"}`, "E_APP", "boom", 1},
		{"900 nested causes", deep, "E_OUTER", "", 32},
		{"extra elements", `{"code":"E_APP","message":"m"},"extra",{}`, "E_APP", "m", 0},
		// A remote code is the call's code, even a local one: the session
		// goes on (the calls below are answered).
		{"a remote E_CONN_CLOSED", `{"name":"Error","code":"E_CONN_CLOSED","message":"not really"}`, errcode.ConnClosed, "not really", 0},
		{"null", `null`, "", "", 0},
		{"false", `false`, "", "", 0},
		{"0", `0`, "", "", 0},
		{"an empty string", `""`, "", "", 0},
		{"-0", `-0`, "", "", 0},
	}
	c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		for {
			b, err := d.fr.ReadFrame()
			if hostileClosedErr(err) {
				return
			}
			if err != nil {
				d.fail("read: %v", err)
			}
			p, err := protocol.DecodePacket(b, nil)
			a, ok := p.(*protocol.ApplyPacket)
			if err != nil || !ok {
				d.fail("got %q, want an APPLY", b)
			}
			k, ok := hostileArg(a)
			switch {
			case !ok || k > len(cases):
				d.fail("unexpected call %s", hostileDescribe(p))
			case k == len(cases):
				d.frames(`[6,` + a.ID.String() + `]`) // no error element at all
			default:
				d.frames(`[6,` + a.ID.String() + `,` + cases[k].err + `]`)
			}
		}
	})
	for k, tc := range cases {
		res, err := hostileCall(c, 10*time.Second, "echo", k)
		if tc.code == "" {
			if err != nil || res.Value() != nil {
				t.Errorf("%s: got %v, %v; want a success with null", tc.name, res.Value(), err)
			}
			continue
		}
		var re *protocol.RemoteError
		if !errors.As(err, &re) || errcode.CodeOf(err) != tc.code || re.Message != tc.message {
			t.Errorf("%s: got %#v (%v), want a remote %s with message %q", tc.name, re, err, tc.code, tc.message)
			continue
		}
		causes := 0
		for e := re.Cause; e != nil; e = e.Cause {
			causes++
		}
		if causes != tc.causes {
			t.Errorf("%s: %d causes, want %d", tc.name, causes, tc.causes)
		}
	}
	if res, err := hostileCall(c, 10*time.Second, "echo", len(cases)); err != nil || res.Value() != nil {
		t.Errorf("an ERR without an error element: got %v, %v; want a success with null", res.Value(), err)
	}
	if err := c.Err(); err != nil {
		t.Errorf("the session ended: %v", err)
	}
}

// 2. A reply that comes after its call gave up is dropped, and the
// resources in it are released at once, as a JS client does.
func TestHostileLateReply(t *testing.T) {
	t.Parallel()
	gaveUp := make(chan struct{})
	others := make(chan []protocol.Packet, 1)
	c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		a := d.apply()
		<-gaveUp
		d.frames(`[5,` + a.ID.String() + `,{"fn":"\u0003R:res-5","list":["\u0003R:res-6"]}]`)
		// The next call may come before or after the RELEASEs.
		var got []protocol.Packet
		for answered := false; len(got) < 2 || !answered; {
			switch p := d.next().(type) {
			case *protocol.ApplyPacket:
				d.frames(`[5,` + p.ID.String() + `,"next"]`)
				answered = true
			default:
				got = append(got, p)
			}
		}
		others <- append(got, d.untilClosed()...)
	})
	_, err := hostileCall(c, 50*time.Millisecond, "echo", 1)
	close(gaveUp)
	if !errors.Is(err, errcode.CallTimeout) {
		t.Fatalf("got %v, want %s", err, errcode.CallTimeout)
	}
	if res, err := hostileCall(c, 10*time.Second, "echo", 2); err != nil || res.Value() != "next" {
		t.Fatalf("the next call: %v, %v", res.Value(), err)
	}
	c.Close()
	var got []string
	for _, p := range hostileRecv(t, fake, others) {
		got = append(got, hostileDescribe(p))
	}
	if g, want := strings.Join(got, ", "), "RELEASE res-5, RELEASE res-6"; g != want {
		t.Errorf("the client sent %s, want %s", g, want)
	}
}

// 3. A daemon that stops reading: calls with a deadline return at it with
// E_CALL_TIMEOUT, what is left to write is given StallTimeout to move,
// then the session ends with E_CONN_CLOSED; Close returns at once.
func TestHostileDaemonStopsReading(t *testing.T) {
	t.Parallel()
	const stall = 300 * time.Millisecond
	big := strings.Repeat("x", 4<<20) // far more than the socket buffers take
	// silent is a fake daemon that reads nothing after the handshake until
	// stop is closed (deferred by each test: it runs before Cleanup).
	silent := func(stop chan struct{}) func(d *hostileDaemon) {
		return func(d *hostileDaemon) { <-stop }
	}
	t.Run("calls time out, then the session ends after StallTimeout", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		defer close(stop)
		c, _ := hostileClient(t, client.Options{StallTimeout: stall}, silent(stop))
		const timeout = 200 * time.Millisecond
		start := time.Now()
		_, err := hostileCall(c, timeout, "echo", big)
		gaveUp := time.Now()
		t.Logf("a 4 MiB call with a %s deadline -> %v after %s", hostileMs(timeout), err, hostileMs(gaveUp.Sub(start)))
		if !errors.Is(err, errcode.CallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want %s", err, errcode.CallTimeout)
		}
		if d := gaveUp.Sub(start); d < timeout || d > timeout+hostileSlow(time.Second) {
			t.Errorf("returned after %v, want at its deadline (%v)", d, timeout)
		}
		// A call queued behind the stuck frame returns at its deadline too
		// (E_CALL_TIMEOUT), or sooner with E_CONN_CLOSED if the session
		// ends first: on a loaded machine this goroutine may only get here
		// after StallTimeout has run out.
		const behind = 50 * time.Millisecond
		callStart := time.Now()
		_, err = hostileCall(c, behind, "echo", 1)
		if took := time.Since(callStart); took > behind+hostileSlow(time.Second) {
			t.Errorf("the call behind it returned after %v, want at its deadline (%v)", took, behind)
		}
		if !errors.Is(err, errcode.CallTimeout) && !(errors.Is(err, errcode.ConnClosed) && c.Err() != nil) {
			t.Fatalf("the call behind it: %v, want %s (or %s once the session ended)", err, errcode.CallTimeout, errcode.ConnClosed)
		}
		select {
		case <-c.Done():
		case <-time.After(stall + hostileSlow(5*time.Second)):
			t.Fatalf("the session is still open %v after the first call gave up", time.Since(gaveUp))
		}
		ended := time.Since(gaveUp)
		t.Logf("session ended %s after the call gave up (StallTimeout %s): %v", hostileMs(ended), hostileMs(stall), c.Err())
		if ended < stall*9/10 || ended > stall+hostileSlow(2*time.Second) {
			t.Errorf("the session ended %v after the call gave up, want about StallTimeout (%v)", ended, stall)
		}
		if err := c.Err(); !errors.Is(err, errcode.ConnClosed) || !strings.Contains(err.Error(), "stopped reading") {
			t.Errorf("the session ended with %v, want %s: the peer stopped reading", err, errcode.ConnClosed)
		}
		hostileEnded(t, c, c.Err(), "")
		start = time.Now()
		c.Close()
		if d := time.Since(start); d > hostileSlow(time.Second) {
			t.Errorf("Close took %v", d)
		}
	})
	t.Run("a call without a deadline fails after StallTimeout", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		defer close(stop)
		c, _ := hostileClient(t, client.Options{StallTimeout: stall}, silent(stop))
		start := time.Now()
		_, err := c.Service("svc").Call(context.Background(), "echo", big)
		elapsed := time.Since(start)
		t.Logf("-> %v after %s", err, hostileMs(elapsed))
		hostileEnded(t, c, err, "")
		if elapsed < stall*9/10 || elapsed > stall+hostileSlow(2*time.Second) {
			t.Errorf("returned after %v, want about StallTimeout (%v)", elapsed, stall)
		}
	})
	t.Run("Close during a stuck write", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		defer close(stop)
		c, _ := hostileClient(t, client.Options{}, silent(stop)) // the default StallTimeout, 10 s
		errc := make(chan error, 1)
		go func() {
			_, err := hostileCall(c, hostileDeadline, "echo", big)
			errc <- err
		}()
		// The frame is in the writer (queued or being written).
		if !hostilePoll(5000, func() bool { return c.Session().Held() >= len(big) }) {
			t.Fatalf("the call's frame never reached the writer (held %d)", c.Session().Held())
		}
		start := time.Now()
		c.Close()
		elapsed := time.Since(start)
		err := <-errc
		t.Logf("Close took %s; the call -> %v", hostileMs(elapsed), err)
		if elapsed > hostileSlow(time.Second) {
			t.Errorf("Close took %v", elapsed)
		}
		if !errors.Is(err, errcode.ConnClosed) {
			t.Errorf("the call: %v, want %s", err, errcode.ConnClosed)
		}
	})
}

// hostileFlood is n APPLY frames on resource id: calls 1 to n, each with
// its number as the argument.
func hostileFlood(id string, n int) []byte {
	var b []byte
	q := strconv.Quote(id)
	for i := 1; i <= n; i++ {
		s := strconv.Itoa(i)
		b, _ = protocol.AppendFrame(b, []byte(`[3,`+s+`,`+q+`,[],[`+s+`]]`), 0)
	}
	return b
}

// hostileCallback checks that a passes one argument, the client's first
// resource (res-1: each client has its own resource ids), which the flood
// was built for.
func hostileCallback(d *hostileDaemon, a *protocol.ApplyPacket) {
	d.t.Helper()
	args, err := protocol.DecodeArgs(a.Args)
	if err != nil || len(args) != 1 || args[0] != (protocol.Ref{ID: "res-1"}) {
		d.fail("args %s (%v), want the callback res-1", a.Args, err)
	}
}

// hostileReplies reads up to n replies to calls 1 to n, in any order, each
// [5,i,2i] (the callbacks double their argument), and returns how many
// came and the first problem; with untilClosed, fewer than n followed by
// the client closing is no problem.
func hostileReplies(fr *protocol.FrameReader, n int, untilClosed bool) (int, error) {
	seen := make([]bool, n+1)
	for got := 0; got < n; got++ {
		b, err := fr.ReadFrame()
		if err != nil {
			if untilClosed && hostileClosedErr(err) {
				return got, nil
			}
			return got, err
		}
		p, err := protocol.DecodePacket(b, nil)
		if err != nil {
			return got, fmt.Errorf("invalid packet %q: %v", b, err)
		}
		r, ok := p.(*protocol.ResPacket)
		if !ok {
			return got, fmt.Errorf("got %s, want a RES", hostileDescribe(p))
		}
		f, _ := r.ID.Num()
		i := int(f)
		if float64(i) != f || i < 1 || i > n || seen[i] {
			return got, fmt.Errorf("a reply for id %s (unknown or twice)", r.ID)
		}
		seen[i] = true
		if string(r.Result) != strconv.Itoa(2*i) {
			return got, fmt.Errorf("reply %d: %s, want %d", i, r.Result, 2*i)
		}
	}
	return n, nil
}

// hostileMaxInFlight is Options.MaxInFlight's default.
const hostileMaxInFlight = 1024

// hostileFloodBound checks the peak of a flood of calls against what the
// session's budget lets it cost: a goroutine per call running (at most
// maxInFlight, plus the reader, the watchdog and the test's own), each with
// its stack and its call, about 24 KiB together at most. Holding the
// 100,000 calls instead would take far more than 24 MiB.
func hostileFloodBound(t *testing.T, peak hostilePeak, maxInFlight int) {
	t.Helper()
	if peak.goroutines > int64(maxInFlight)+16 {
		t.Errorf("%d goroutines more at the peak, MaxInFlight is %d", peak.goroutines, maxInFlight)
	}
	if limit := int64(maxInFlight)*16<<10 + 8<<20; peak.live > limit {
		t.Errorf("memory peaked at %s, want at most +%s", peak, hostileMiB(limit))
	}
}

// 4. A daemon that calls a callback 100,000 times in one write, without
// waiting for the replies. Not parallel: it measures the process's memory.
func TestHostileCallbackFlood(t *testing.T) {
	const n = 100_000
	// Built once, before every baseline: 2.4 MiB of frames.
	flood := hostileFlood("res-1", n)
	double := func(served *atomic.Int64) func(float64) float64 {
		return func(x float64) float64 {
			served.Add(1)
			return 2 * x
		}
	}
	t.Run("the daemon reads the replies as they come", func(t *testing.T) {
		var served atomic.Int64
		c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
			a := d.apply()
			hostileCallback(d, a)
			errc := make(chan error, 1)
			go func() {
				_, err := hostileReplies(d.fr, n, false)
				errc <- err
			}()
			d.write(flood)
			if err := <-errc; err != nil {
				d.fail("the replies: %v", err)
			}
			d.frames(`[5,` + a.ID.String() + `,"done"]`)
			a = d.apply()
			d.frames(`[5,` + a.ID.String() + `,"again"]`)
			if got := d.untilClosed(); len(got) != 0 {
				d.fail("then the client sent %v", got)
			}
		})
		base := memcheck.Live()
		sampler := hostileSample()
		start := time.Now()
		res, err := hostileCall(c, hostileDeadline, "run", double(&served))
		elapsed := time.Since(start)
		peak := sampler.end(base)
		t.Logf("%d callbacks served in %s (%.0f/s); memory peak %s", served.Load(), hostileMs(elapsed), float64(n)/elapsed.Seconds(), peak)
		if err != nil || res.Value() != "done" || served.Load() != n {
			t.Fatalf("the call: %v, %v after %d callbacks", res.Value(), err, served.Load())
		}
		hostileFloodBound(t, peak, hostileMaxInFlight)
		if res, err := hostileCall(c, hostileDeadline, "echo", 1); err != nil || res.Value() != "again" {
			t.Fatalf("the next call: %v, %v", res.Value(), err)
		}
	})
	t.Run("blocking callbacks: the reader stops at MaxInFlight", func(t *testing.T) {
		const maxInFlight = 64
		var running, peakRunning, served atomic.Int64
		gate := make(chan struct{})
		wrote := make(chan struct{})
		c, _ := hostileClient(t, client.Options{MaxInFlight: maxInFlight}, func(d *hostileDaemon) {
			a := d.apply()
			hostileCallback(d, a)
			errc := make(chan error, 1)
			go func() {
				_, err := hostileReplies(d.fr, n, false)
				errc <- err
			}()
			d.write(flood)
			close(wrote)
			if err := <-errc; err != nil {
				d.fail("the replies: %v", err)
			}
			d.frames(`[5,` + a.ID.String() + `,"done"]`)
			d.untilClosed()
		})
		base := memcheck.Live()
		sampler := hostileSample()
		start := time.Now()
		resc := make(chan error, 1)
		go func() {
			res, err := hostileCall(c, hostileDeadline, "run", func(x float64) float64 {
				r := running.Add(1)
				for p := peakRunning.Load(); r > p && !peakRunning.CompareAndSwap(p, r); p = peakRunning.Load() {
				}
				<-gate
				running.Add(-1)
				served.Add(1)
				return 2 * x
			})
			if err == nil && res.Value() != "done" {
				err = fmt.Errorf("result %v", res.Value())
			}
			resc <- err
		}()
		if !hostilePoll(5000, func() bool { return running.Load() == maxInFlight }) {
			close(gate)
			t.Fatalf("%d callbacks running, want %d", running.Load(), maxInFlight)
		}
		held, inflight, blocked := memcheck.Live()-base, c.Session().InFlight(), running.Load()
		select {
		case <-wrote:
			t.Errorf("the daemon wrote the whole flood while every callback was blocked: the client read on")
		default:
		}
		close(gate)
		err := <-resc
		elapsed := time.Since(start)
		peak := sampler.end(base)
		t.Logf("held at %d callbacks running (%d calls in flight): live +%s; then %d served in %s, peak %s", blocked, inflight, hostileMiB(held), served.Load(), hostileMs(elapsed), peak)
		if err != nil || served.Load() != n {
			t.Fatalf("the call: %v after %d callbacks", err, served.Load())
		}
		if p := peakRunning.Load(); p > maxInFlight {
			t.Errorf("%d callbacks ran at once, MaxInFlight is %d", p, maxInFlight)
		}
		if inflight > maxInFlight+1 {
			t.Errorf("%d calls in flight, MaxInFlight is %d (+1 waiting for a worker)", inflight, maxInFlight)
		}
		// 64 goroutines and their calls, and the reader's buffer.
		if held > 2<<20 {
			t.Errorf("the client holds +%s while %d callbacks block", hostileMiB(held), maxInFlight)
		}
		hostileFloodBound(t, peak, maxInFlight)
	})
	t.Run("the daemon reads no reply", func(t *testing.T) {
		// The client serves the flood and queues the replies (1.4 MiB,
		// within its write budget); the write that the daemon does not
		// take fails after StallTimeout and ends the session.
		const stall = 300 * time.Millisecond
		var served atomic.Int64
		ended := make(chan struct{})
		end := sync.OnceFunc(func() { close(ended) })
		defer end()
		type outcome struct {
			wroteAll bool
			replies  int
		}
		out := make(chan outcome, 1)
		c, fake := hostileClient(t, client.Options{StallTimeout: stall}, func(d *hostileDaemon) {
			a := d.apply()
			hostileCallback(d, a)
			_, err := d.nc.Write(flood)
			if err != nil && !hostileClosedErr(err) {
				d.fail("write: %v", err)
			}
			<-ended
			// What the client wrote before it gave up is still queued.
			got, rerr := hostileReplies(d.fr, n, true)
			if rerr != nil {
				d.fail("after %d replies: %v", got, rerr)
			}
			out <- outcome{err == nil, got}
		})
		base := memcheck.Live()
		sampler := hostileSample()
		start := time.Now()
		_, err := hostileCall(c, hostileDeadline, "run", double(&served))
		elapsed := time.Since(start)
		peak := sampler.end(base)
		end()
		hostileEnded(t, c, err, "")
		o := hostileRecv(t, fake, out)
		t.Logf("%d callbacks served (the daemon's write went through: %v), then %v after %s; %d well-formed replies were in the socket; peak %s",
			served.Load(), o.wroteAll, err, hostileMs(elapsed), o.replies, peak)
		if !strings.Contains(err.Error(), "stopped reading") {
			t.Errorf("got %v, want the peer to have stopped reading", err)
		}
		if elapsed > stall+hostileSlow(5*time.Second) {
			t.Errorf("the session ended after %v (StallTimeout %v)", elapsed, stall)
		}
		if o.replies == 0 || int64(o.replies) > served.Load() {
			t.Errorf("%d replies for %d callbacks served", o.replies, served.Load())
		}
		hostileFloodBound(t, peak, hostileMaxInFlight)
	})
}

// 5. Garbage after the handshake: the client closes the session at once,
// without a word; a pending call fails with E_CONN_CLOSED caused by
// E_IPC_PROTOCOL_ERROR.
func TestHostileGarbage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body string }{
		{"invalid JSON: truncated", `[5,1,"x"`},
		{"invalid JSON: bad literal", `[5,1,nul]`},
		{"invalid JSON: data after the packet", `[5,1,"x"]x`},
		{"invalid JSON: bare bytes", "\xff\xfe\x00\x01"},
		{"not an array: object", `{"type":5,"id":1}`},
		{"not an array: string", `"[5,1,\"x\"]"`},
		{"not an array: number", `5`},
		{"empty array", `[]`},
		{"unknown type 4", `[4,1,"x"]`},
		{"unknown type 0", `[0,1]`},
		{"unknown type 99", `[99,1]`},
		{"type 5.5", `[5.5,1,"x"]`},
		{"type \"5\"", `["5",1,"x"]`},
		{"type null", `[null,1,"x"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			after := make(chan []protocol.Packet, 1)
			c, fake := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
				d.apply()
				d.frames(tc.body)
				after <- d.untilClosed()
			})
			start := time.Now()
			_, err := hostileCall(c, hostileDeadline, "echo", "x")
			elapsed := time.Since(start)
			t.Logf("%s -> %v after %s", hostileClip(tc.body), hostileClip(fmt.Sprint(err)), hostileMs(elapsed))
			hostileEnded(t, c, err, errcode.IPCProtocolError)
			if elapsed > hostileSlow(2*time.Second) {
				t.Errorf("the call took %v", elapsed)
			}
			if got := hostileRecv(t, fake, after); len(got) != 0 {
				t.Errorf("the client sent %v", got)
			}
		})
	}
	t.Run("with no call pending", func(t *testing.T) {
		t.Parallel()
		c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
			d.frames(`{"not":"a packet"}`)
			d.untilClosed()
		})
		select {
		case <-c.Done():
		case <-time.After(hostileSlow(5 * time.Second)):
			t.Fatal("the session is still open")
		}
		hostileEnded(t, c, c.Err(), errcode.IPCProtocolError)
	})
	t.Run("ignored packets keep the session", func(t *testing.T) {
		t.Parallel()
		// BATCH, BATCH_RES, CHUNK_*, handshake packets and notifications
		// are not garbage: core 1.2.0 ignores them, and so does the client.
		c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
			a := d.apply()
			id := a.ID.String()
			d.frames(`[8,`+id+`,[[5,`+id+`,"in a batch"]]]`, `[9,`+id+`,[]]`, `[16,`+id+`,2,`+id+`,5]`, `[17,`+id+`,0,"x"]`,
				hostileAck, `[12,1,{"code":"E_X"}]`, `[14,1]`, `[10,1,{},null,[]]`, `[13,null,{"appId":"x"}]`, `[15,null,["late"]]`,
				`[5,`+id+`,"real"]`)
			d.untilClosed()
		})
		res, err := hostileCall(c, 10*time.Second, "echo", "x")
		if err != nil || res.Value() != "real" {
			t.Fatalf("got %v, %v", res.Value(), err)
		}
		if p := c.Providers(); len(p) != 3 || p[2] != "late" {
			t.Errorf("providers %v", p)
		}
	})
}

// 5. A reply string of 16 MiB of \u0041 escapes: decoded in bounded time.
// TestHostileDeepReplies: a reply or an error nested deeper than the
// decoder's limit fails that call alone, with a clear error, as a JS
// caller would; the session goes on and the next call is answered.
func TestHostileDeepReplies(t *testing.T) {
	t.Parallel()
	const depth = 200_000
	for _, tc := range []struct {
		name, body string
		code       errcode.Code
	}{
		{"a 200,000-deep reply", `[5,ID,` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `]`, errcode.IPCProtocolError},
		{"a 200,000-deep error", `[6,ID,` + strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat("}", depth) + `]`, errcode.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
				a := d.apply()
				d.frames(strings.Replace(tc.body, "ID", a.ID.String(), 1))
				a = d.apply()
				d.frames(`[5,` + a.ID.String() + `,"next"]`)
				d.untilClosed()
			})
			start := time.Now()
			_, err := hostileCall(c, hostileDeadline, "echo", "x")
			t.Logf("-> %v after %s", hostileClip(fmt.Sprint(err)), hostileMs(time.Since(start)))
			if !errors.Is(err, tc.code) || errors.Is(err, errcode.ConnClosed) {
				t.Fatalf("got %v, want %s for that call only", hostileClip(fmt.Sprint(err)), tc.code)
			}
			if n := len(err.Error()); n > 1024 {
				t.Errorf("the error's text is %d bytes long", n)
			}
			if res, err := hostileCall(c, hostileDeadline, "echo", "y"); err != nil || res.Value() != "next" {
				t.Fatalf("the next call: %v, %v", res.Value(), err)
			}
		})
	}
}

func TestHostileEscapedReply(t *testing.T) {
	t.Parallel()
	size := protocol.DefaultMaxFrameSize
	if hostileRace() {
		// The race detector makes decoding 16 MiB cost seconds of CPU and
		// finds nothing in it (the reader decodes alone): a quarter keeps
		// the suite within its time.
		size /= 4
	}
	head, tail := `[5,1,"`, `"]` // the session's first call is 1
	n := (size - len(head) - len(tail)) / len(`\u0041`)
	c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		if a := d.apply(); a.ID != protocol.NumID(1) {
			d.fail("the first call is %s", a.ID)
		}
		d.frames(head + strings.Repeat(`\u0041`, n) + tail)
		d.untilClosed()
	})
	start := time.Now()
	res, err := hostileCall(c, hostileDeadline, "echo", "x")
	elapsed := time.Since(start)
	s, _ := res.Value().(string)
	t.Logf("a %d-byte frame of %d escapes -> a %d-byte string in %s", size, n, len(s), hostileMs(elapsed))
	if err != nil || len(s) != n || strings.Count(s, "A") != n {
		t.Fatalf("got %d bytes, %v; want %d A", len(s), err, n)
	}
	if elapsed > hostileSlow(5*time.Second) {
		t.Errorf("took %v", elapsed)
	}
}

// Beyond the list: a daemon that announces 100,000 providers, in
// one PROVIDER_AVAILABLE and again one by one. The catalog is kept in
// linear time (it was quadratic: 40,000 took 2.4 s of the reader, a
// 16 MiB announcement would have taken it for most of an hour), and calls
// are answered behind it.
func TestHostileProviderFlood(t *testing.T) {
	t.Parallel()
	const n = 100_000
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Quote("p-" + strconv.Itoa(i))
	}
	one := hostileFrames(`[15,null,[` + strings.Join(names, ",") + `]]`)
	var each []byte
	for _, name := range names {
		each = append(each, hostileFrames(`[15,null,[`+name+`]]`)...)
	}
	c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		a := d.apply()
		d.write(one)
		d.write(each) // all announced already
		d.frames(`[15,null,["last"]]`, `[5,`+a.ID.String()+`,"answered"]`)
		d.untilClosed()
	})
	start := time.Now()
	res, err := hostileCall(c, hostileDeadline, "echo", 1)
	elapsed := time.Since(start)
	t.Logf("%d providers announced twice (%s): the call answered behind them in %s", n, hostileMiB(int64(len(one)+len(each))), hostileMs(elapsed))
	if err != nil || res.Value() != "answered" {
		t.Fatalf("the call: %v, %v", res.Value(), err)
	}
	if p := c.Providers(); len(p) != 2+n+1 || p[0] != "svc" || p[2] != "p-0" || p[len(p)-1] != "last" {
		t.Errorf("%d providers, want %d once each", len(p), 2+n+1)
	}
	if err := c.WaitProvider(context.Background(), "p-99999"); err != nil {
		t.Error(err)
	}
	// Quadratic, it took 15 s (much more under race).
	if elapsed > hostileSlow(5*time.Second) {
		t.Errorf("the announcements took the reader %v", elapsed)
	}
}

// An ERR whose error object has no string code fails the call with a
// *protocol.RemoteError whose Code is "": it is E_UNKNOWN for Error(),
// NexusCode (hence errcode.CodeOf) and errors.Is alike.
func TestHostileCodelessError(t *testing.T) {
	t.Parallel()
	bodies := []string{`{}`, `{"message":"boom"}`, `{"code":5,"message":"m"}`, `{"code":null,"name":"Error"}`}
	c, _ := hostileClient(t, client.Options{}, func(d *hostileDaemon) {
		for _, e := range bodies {
			a := d.apply()
			d.frames(`[6,` + a.ID.String() + `,` + e + `]`)
		}
		d.untilClosed()
	})
	for _, e := range bodies {
		_, err := hostileCall(c, 10*time.Second, "echo", 1)
		var re *protocol.RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("%s: got %v, want a remote error", e, err)
		}
		if code := errcode.CodeOf(err); code != errcode.Unknown {
			t.Errorf("%s: CodeOf %q", e, code)
		}
		if !errors.Is(err, errcode.Unknown) {
			t.Errorf("%s: %q (CodeOf %s) is not errors.Is %s", e, err, errcode.CodeOf(err), errcode.Unknown)
		}
	}
}
