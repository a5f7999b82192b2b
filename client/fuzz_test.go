package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// replyFrames frames packet texts; bodies that AppendFrame refuses are
// written with a raw header.
func replyFrames(bodies ...string) []byte {
	var out []byte
	for _, s := range bodies {
		b, err := protocol.AppendFrame(out, []byte(s), 0)
		if err != nil {
			b = append(append(out, 0, 0, 0, byte(len(s))), s...)
		}
		out = b
	}
	return out
}

// clientSeeds are what a daemon may write after the HANDSHAKE_ACK, while
// the client's call 1 (echo(1, callback), the callback being the client's
// res-1) waits.
func clientSeeds() [][]byte {
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	return [][]byte{
		// Replies to call 1.
		replyFrames(`[5,1,"ok"]`),
		replyFrames(`[5,1,["\u0003U","\u0003N:12","\u0003M:[[1,\"a\"]]","\u0003S:[1,2,1]","\u0004\u0003x",{"a":-0}]]`),
		replyFrames(`[5,1,"\u0003R:res-7"]`),
		replyFrames(`[6,1,{"name":"Error","message":"boom","code":"E_BOOM","context":{"a":1}}]`),
		replyFrames(`[6,1,null]`), replyFrames(`[6,1,"text"]`), replyFrames(`[6,1,{}]`),
		replyFrames(`[5,1]`), replyFrames(`[5]`),
		// Replies for no call: unknown, strange and mistyped ids.
		replyFrames(`[5,2,"x"]`, `[5,"1","x"]`, `[5,1.5,1]`, `[5,-1,1]`, `[5,0,1]`, `[5,9007199254740993,1]`, `[5,null,1]`, `[5,2,"\u0003R:res-9"]`, `[5,1,"last"]`),
		replyFrames(`[6,{},{}]`),
		// The daemon calls the client: its callback, unknown resources, a
		// service (the client has none), then answers.
		replyFrames(`[3,7,"res-1",[],[21]]`, `[1,8,"res-1",[]]`, `[2,9,"res-1",["x"],1]`, `[3,10,"res-99",[],[]]`,
			`[3,11,null,["svc","x"],[]]`, `[3,12,"res-1",["__proto__"],[]]`, `[7,null,"res-1"]`, `[3,13,"res-1",[],[1]]`, `[5,1,"late"]`),
		// Notifications and packets the session ignores.
		replyFrames(`[15,null,["late"]]`, `[13,null,{"appId":"x"}]`, `[8,1,[[5,1,"x"]]]`, `[9,1,[]]`,
			`[16,1,2,3,5]`, `[17,1,0,"x"]`, `[11,1,{},["provider-catalog-v1"],[]]`, `[12,1,{}]`, `[14,1]`, `[10,1,{},null,[]]`, `[5,1,"after"]`),
		// Malformed packets.
		replyFrames(`[8,1,5]`), replyFrames(`[8,1,[[99]]]`), replyFrames(`[4,1]`), replyFrames(`[99,1]`),
		replyFrames(`{"a":1}`), replyFrames(`[5,1,`), replyFrames(`"x"`), replyFrames(`[]`),
		replyFrames("[5,1,\"\xff\xfe\xed\xa0\x80\"]"), replyFrames("\xef\xbb\xbf[5,1,1]"),
		replyFrames(`[5,1,` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `]`),
		replyFrames(`[5,1,"\u0003M:` + strings.Repeat(`[`, 200) + `"]`),
		// Bad lengths and truncated frames.
		{0x01, 0x00, 0x00, 0x01},
		cat([]byte{0x01, 0x00, 0x00, 0x00}, []byte(`[5,1,"x"]`)),
		{0, 0, 0, 0},
		replyFrames(`[5,1,"ok"]`)[:7],
		{0, 0},
		cat(replyFrames(`[5,2,"x"]`), []byte{0xff, 0xff, 0xff, 0xff}),
		// Garbage.
		[]byte(protocol.AuthOKLine),
		[]byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		{},
	}
}

// FuzzClientReplies runs a client against a fake daemon that completes
// the handshake, waits for the client's call, then writes the input raw
// and closes its side. The call (with a 300 ms deadline) must return, with
// any result, and Close must return; the package's TestMain then checks
// that no goroutine outlived them. A panic anywhere in the client crashes
// the test.
func FuzzClientReplies(f *testing.F) {
	for _, s := range clientSeeds() {
		f.Add(s)
	}
	dir, err := os.MkdirTemp("/tmp", "nxf") // short: socket paths are < 108 bytes
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })
	ul := ln.(*net.UnixListener)

	f.Fuzz(func(t *testing.T, data []byte) {
		var wg sync.WaitGroup
		var fakeErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			fakeErr = fakeDaemon(ul, data)
		}()
		defer wg.Wait()

		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := client.Dial(dctx, client.Address{AppID: "fuzz"}, &client.Options{SocketPath: path, AppID: "fuzz"})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		// The call and Close run on their own goroutine so that a hang is
		// reported (with every stack) instead of stalling the fuzzer.
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, _ = c.Service("svc").Call(ctx, "echo", 1, func(x float64) float64 { return 2 * x })
			c.Close()
		}()
		hang := time.NewTimer(10 * time.Second)
		defer hang.Stop()
		select {
		case <-done:
		case <-hang.C:
			buf := make([]byte, 1<<20)
			t.Fatalf("the call or Close did not return within 10 s:\n%s", buf[:runtime.Stack(buf, true)])
		}
		wg.Wait()
		if fakeErr != nil {
			t.Fatalf("fake daemon: %v", fakeErr)
		}
	})
}

// fakeDaemon accepts one connection on ln, answers the client's
// HANDSHAKE_REQ with an ACK providing "svc", waits for the client's first
// APPLY, writes data, closes its write side and reads until the client
// closes.
func fakeDaemon(ln *net.UnixListener, data []byte) error {
	ln.SetDeadline(time.Now().Add(5 * time.Second))
	nc, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	fr := protocol.NewFrameReader(nc, 0)
	next := func() (protocol.Packet, error) {
		b, err := fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		return protocol.DecodePacket(b, nil)
	}
	p, err := next()
	if err != nil {
		return err
	}
	req, ok := p.(*protocol.HandshakeReqPacket)
	if !ok {
		return errors.New("the client's first packet is " + p.Type().String())
	}
	meta := protocol.NewObject("context", compat.DaemonContext, "appId", "fuzz", "instance", "default", "pid", 1.0)
	metaJSON, err := protocol.AppendJSON(nil, meta)
	if err != nil {
		return err
	}
	ack, err := protocol.AppendPacketFrame(nil, &protocol.HandshakeAckPacket{ID: req.ID, Metadata: metaJSON, Capabilities: []string{session.CapProviderCatalog}, Providers: []string{"svc"}}, 0)
	if err != nil {
		return err
	}
	if _, err := nc.Write(ack); err != nil {
		return err
	}
	for {
		p, err := next()
		if err != nil {
			return err
		}
		if p.Type() == protocol.TypeApply {
			break
		}
	}
	// The client may close as soon as the bytes it has read break the
	// protocol: a failed write or a reset is then expected.
	if _, err := nc.Write(data); err == nil {
		nc.CloseWrite()
	}
	_, err = io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("the client did not close the connection within 5 s")
	}
	return nil
}
