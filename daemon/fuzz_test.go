package daemon_test

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// fuzzToken is the pre-auth token of FuzzDaemonSession's daemon.
const fuzzToken = "fuzz-token"

// fuzzSvc is the service of FuzzDaemonSession's daemon: stateless, so that
// no input can change what the health check sees, and never calling the
// peer back, so that no call waits on the raw connection.
type fuzzSvc struct{}

func (fuzzSvc) Add(a, b float64) float64 { return a + b }
func (fuzzSvc) Echo(v any) any           { return v }
func (fuzzSvc) Fail() error              { return errcode.New("E_FUZZ", "failed on purpose") }
func (fuzzSvc) Adder(k float64) func(float64) float64 {
	return func(x float64) float64 { return x + k }
}
func (fuzzSvc) Secret() string { return "denied by the policy" }

// fuzzFrame frames one packet text; bodies that AppendFrame refuses are
// written with a raw header.
func fuzzFrame(body string) []byte {
	b, err := protocol.AppendFrame(nil, []byte(body), 0)
	if err != nil {
		return append([]byte{0, 0, 0, byte(len(body))}, body...)
	}
	return b
}

func fuzzFrames(bodies ...string) []byte {
	var b []byte
	for _, s := range bodies {
		b = append(b, fuzzFrame(s)...)
	}
	return b
}

const (
	fuzzReq   = `[10,1,{"context":"node-ipc-client","appId":"fuzz","pid":1},null,["provider-catalog-v1"]]`
	fuzzReady = `[14,1,["provider-catalog-v1"],[]]`
)

// daemonSeeds are whole sessions as a client writes them, valid and not.
func daemonSeeds() [][]byte {
	auth := protocol.AppendAuthRequest(nil, fuzzToken)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hs := cat(auth, fuzzFrames(fuzzReq, fuzzReady))
	return [][]byte{
		// A correct session: pre-auth, handshake, a call.
		cat(hs, fuzzFrame(`[3,1,null,["calc","add"],[2,3]]`)),
		// Everything a client may send after the handshake.
		cat(hs, fuzzFrames(
			`[3,1,null,["calc","echo"],["hi","\u0003U","\u0004\u0003x","\u0003N:12","\u0003M:[[1,\"a\"]]","\u0003S:[1,2,1]","\u0003R:res-1"]]`,
			`[1,2,null,["calc","add"]]`,
			`[1,3,null,["calc"],"calc"]`,
			`[2,4,null,["calc","add"],5]`,
			`[2,5,null,["calc"],null,1]`,
			`[3,6,null,["calc","adder"],[1]]`,
			`[3,7,"res-1",[],[41]]`,
			`[3,"s",null,["calc","fail"],[]]`,
			`[3,null,null,["calc","secret"],[]]`,
			`[3,8.5,null,["nosuch","x"],[]]`,
			`[3,9,null,["calc","__proto__","x"],[]]`,
			`[3,10,null,[],[]]`,
			`[3,11,null,null,null]`,
			`[5,1,"unasked"]`, `[6,2,{"message":"x"}]`,
			`[7,null,"res-1"]`, `[7,null,"res-999"]`,
			`[8,12,[[3,13,null,["calc","add"],[1,2]]]]`, `[9,14,[]]`,
			`[13,null,{"appId":"renamed"}]`,
			`[15,null,["late"]]`, `[16,1,2,3,5]`, `[17,1,0,"x"]`,
			fuzzReq, fuzzReady,
		)),
		// A call before READY, and a second REQ.
		cat(auth, fuzzFrames(fuzzReq, `[3,1,null,["calc","add"],[2,3]]`, fuzzReq, fuzzReady, `[3,2,null,["calc","add"],[2,3]]`)),
		// Wrong token, no token, an empty token, a bad version.
		cat(protocol.AppendAuthRequest(nil, "wrong"), fuzzFrames(fuzzReq, fuzzReady)),
		cat(fuzzFrames(fuzzReq, fuzzReady, `[3,1,null,["calc","add"],[2,3]]`)),
		cat(protocol.AppendAuthRequest(nil, ""), fuzzFrame(fuzzReq)),
		[]byte(`{"type":"nexus-ipc-auth","version":"1","token":"fuzz-token"}` + "\n"),
		[]byte(`{"token":"fuzz-token","version":1e0,"type":"nexus-ipc-auth","x":[]}` + "\r\n"),
		// An auth line without its newline; one over the 8 KiB limit.
		auth[:len(auth)-1],
		append(bytes.Repeat([]byte(" "), protocol.DefaultMaxAuthLine), auth...),
		// Truncated frames: in the header, in the body.
		cat(auth, fuzzFrame(fuzzReq)[:2]),
		cat(auth, fuzzFrame(fuzzReq)[:20]),
		cat(hs, fuzzFrame(`[3,1,null,["calc","add"],[2,3]]`)[:10]),
		// Bad lengths: 16 MiB + 1, 16 MiB announced but not sent, 0.
		cat(auth, []byte{0x01, 0x00, 0x00, 0x01}, []byte(fuzzReq)),
		cat(auth, []byte{0x01, 0x00, 0x00, 0x00}, []byte(fuzzReq)),
		cat(hs, []byte{0x01, 0x00, 0x00, 0x01}),
		cat(hs, []byte{0, 0, 0, 0}),
		// Handshakes the daemon refuses: a 0.x REQ, metadata that is not an
		// object, a client the policy denies.
		cat(auth, fuzzFrame(`[10,1,{"context":"node-ipc-client","appId":"old","pid":1},null]`)),
		cat(auth, fuzzFrame(`[10,1,"meta",null,["provider-catalog-v1"]]`)),
		cat(auth, fuzzFrames(`[10,"x",{"appId":"denied"},null,["provider-catalog-v1"]]`, fuzzReady)),
		// Bodies that are not packets.
		cat(auth, fuzzFrame(`[10,1,{"context":`)),
		cat(hs, fuzzFrame(`{"a":1}`)),
		cat(hs, fuzzFrame(`[4,1]`)),
		cat(hs, fuzzFrame("[3,1,null,[\"calc\",\"echo\"],[\"\xff\xfe\xed\xa0\x80\"]]")),
		cat(hs, fuzzFrame(`[3,1,null,["calc","echo"],[`+strings.Repeat("[", 500)+strings.Repeat("]", 500)+`]]`)),
		// Garbage.
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0xff, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x01, '['},
		{},
	}
}

// FuzzDaemonSession writes each input as the whole of a client's side of a
// connection to one Go daemon (pre-auth with a token, then frames), reads
// what the daemon answers until it closes or a short deadline passes, and
// checks that the daemon answered nothing unless the input began with the
// right pre-auth line, and that a normal client can still connect and call
// afterwards. A panic anywhere in the daemon crashes the test.
func FuzzDaemonSession(f *testing.F) {
	for _, s := range daemonSeeds() {
		f.Add(s)
	}
	dir := shortDir(f)
	d, err := daemon.New(&daemon.Options{
		AppID:            "fuzz",
		SocketPath:       filepath.Join(dir, "d.sock"),
		Token:            fuzzToken,
		AuthTimeout:      2 * time.Second,
		HandshakeTimeout: 2 * time.Second,
		Policy: daemon.Policy{
			CanConnect: func(c *daemon.Conn) bool { return protocol.Get(c.Identity(), "appId") != "denied" },
			CanCall: func(_ *daemon.Conn, _ string, path []string, _ session.Op) bool {
				return len(path) == 0 || path[0] != "secret"
			},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := d.Provide("calc", &fuzzSvc{}); err != nil {
		f.Fatal(err)
	}
	if err := d.Listen(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })

	f.Fuzz(func(t *testing.T, data []byte) {
		answer, err := rawSession(d.Path(), data)
		if err != nil {
			t.Fatalf("raw session: %v", err)
		}
		if len(answer) > 0 {
			if !authorized(data) {
				t.Fatalf("the daemon answered %q to a client without the right pre-auth line", answer)
			}
			if !bytes.HasPrefix(answer, []byte(protocol.AuthOKLine)) && !bytes.HasPrefix([]byte(protocol.AuthOKLine), answer) {
				t.Fatalf("the answer does not begin with the auth ok line: %q", answer)
			}
		}
		served(t, d.Path(), fuzzToken, 5*time.Second)
	})
}

// rawSession writes data on a new connection to path, half-closes it, and
// returns what the daemon wrote until it closed the connection or 200 ms
// passed.
func rawSession(path string, data []byte) ([]byte, error) {
	nc, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	uc := nc.(*net.UnixConn)
	// The daemon may close as soon as the bytes it has read fail a check;
	// what is left unwritten then does not matter.
	uc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := uc.Write(data); err == nil {
		uc.CloseWrite()
	}
	uc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var answer bytes.Buffer
	_, err = answer.ReadFrom(uc)
	var ne net.Error
	// A reset is the daemon closing with bytes of ours still unread.
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, syscall.ECONNRESET) {
		return answer.Bytes(), err
	}
	return answer.Bytes(), nil
}

// authorized reports whether data begins with a pre-auth line that the
// daemon must accept: the only case in which it may write anything.
func authorized(data []byte) bool {
	line, err := protocol.ReadAuthLine(bufio.NewReader(bytes.NewReader(data)), 0)
	if err != nil {
		return false
	}
	tok, err := protocol.ParseAuthRequest(line)
	return err == nil && subtle.ConstantTimeCompare([]byte(tok), []byte(fuzzToken)) == 1
}
