package protocol_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/vectors"
	"github.com/nexus-interop/nexus-go/protocol"
)

// seedPackets returns packet texts to seed the fuzzers: the golden packets
// from real Node plus hand-written edge cases.
func seedPackets(tb testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(`[3,1,null,["svc","echo"],["hi","\u0003U","\u0004\u0003x","\u0003N:12","\u0003M:[[1,\"a\"]]","\u0003S:[1,2,1]","\u0003R:res-1"]]`),
		[]byte(`[10,1,{"context":"node-ipc-client","appId":"x","pid":1},null,["provider-catalog-v1"]]`),
		[]byte(`[8,1,[[1,2,null,["a"]],[7,null,"res-1"],[8,3,[[5,4,{"1":2,"0":1,"b":[]}]]]]]`),
		[]byte(`[5,"id",{"a":[1e21,-0,0.1,"\ud800\udc00\ud800"]}]`),
		[]byte(`[16,1,2,3,5]`), []byte(`[17,1,0,"x"]`), []byte(`[14,1]`), []byte(`[11,1,{}]`),
	}
	var cases []struct {
		Wire string `json:"wire"`
	}
	if err := vectors.Load("packets.json", &cases); err == nil {
		for _, c := range cases {
			if c.Wire != "" {
				seeds = append(seeds, []byte(c.Wire))
			}
		}
	}
	var values []struct {
		Wire string `json:"wire"`
	}
	if err := vectors.Load("values.json", &values); err == nil {
		for _, c := range values {
			seeds = append(seeds, []byte(`[5,1,`+c.Wire+`]`))
		}
	}
	return seeds
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range seedPackets(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := protocol.DecodePacket(data, nil)
		if err != nil {
			if !errors.Is(err, errcode.IPCProtocolError) {
				t.Fatalf("error without E_IPC_PROTOCOL_ERROR: %v", err)
			}
			return
		}
		enc1, err := protocol.MarshalPacket(p)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		p2, err := protocol.DecodePacket(enc1, nil)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", enc1, err)
		}
		enc2, _ := protocol.MarshalPacket(p2)
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("unstable: %s then %s", enc1, enc2)
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	for _, s := range seedPackets(f) {
		if p, err := protocol.DecodePacket(s, nil); err == nil {
			if r, ok := p.(*protocol.ResPacket); ok && r.Result != nil {
				f.Add([]byte(r.Result))
			}
			if a, ok := p.(*protocol.ApplyPacket); ok && a.Args != nil {
				f.Add([]byte(a.Args))
			}
		}
	}
	f.Add([]byte(`"\u0003M:[[{\"0\":1},2],[1],{\"1\":3}]"`))
	f.Add([]byte(`"\u0003S:\"ab\ud800\""`))
	f.Add([]byte(`"\u0003N: 0x1f "`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := protocol.DecodeValue(data)
		if err != nil {
			if !errors.Is(err, errcode.IPCProtocolError) {
				t.Fatalf("error without E_IPC_PROTOCOL_ERROR: %v", err)
			}
			return
		}
		enc1, err := protocol.MarshalValue(v, nil)
		if err != nil {
			// A Map or Set holding a BigInt placeholder cannot come out of a
			// decode; everything decoded must re-encode.
			t.Fatalf("re-encode of %q: %v", data, err)
		}
		v2, err := protocol.DecodeValue(enc1)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", enc1, err)
		}
		// JS itself is not idempotent on the first pass: undefined inside a
		// Map or Set becomes null, which can then merge keys or values. So
		// the invariant is that the second encoding is a fixed point.
		enc2, err := protocol.MarshalValue(v2, nil)
		if err != nil {
			t.Fatalf("re-encode of %s: %v", enc1, err)
		}
		v3, err := protocol.DecodeValue(enc2)
		if err != nil {
			t.Fatalf("decode of %s: %v", enc2, err)
		}
		enc3, err := protocol.MarshalValue(v3, nil)
		if err != nil || !bytes.Equal(enc2, enc3) {
			t.Fatalf("unstable: %s then %s (%v)", enc2, enc3, err)
		}
		if !vectors.Equal(v3, mustDecode(t, enc3)) {
			t.Fatalf("decode not stable on %s", enc3)
		}
	})
}

func FuzzFrameReader(f *testing.F) {
	for _, s := range seedPackets(f) {
		b, _ := protocol.AppendFrame(nil, s, 0)
		f.Add(b, uint16(0))
	}
	f.Add([]byte{0, 0, 0, 0}, uint16(3))
	f.Add([]byte{1, 0, 0, 0, 'x'}, uint16(1))
	f.Add([]byte{0, 0, 0, 2, 'a', 'b', 0, 0, 0, 1, 'c'}, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		max := 1 << 10
		fr := protocol.NewFrameReader(&chunkReader{data: data, n: int(chunk%64) + 1}, max)
		var got [][]byte
		for {
			b, err := fr.ReadFrame()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errcode.IPCProtocolError) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(b) == 0 || len(b) > max {
				t.Fatalf("frame of %d bytes", len(b))
			}
			got = append(got, b)
		}
		// Re-framing what was read reproduces a prefix of the input.
		var re []byte
		for _, b := range got {
			re, _ = protocol.AppendFrame(re, b, max)
		}
		if !bytes.HasPrefix(data, re) {
			t.Fatalf("frames do not re-encode to the input prefix")
		}
	})
}

func FuzzAuthLine(f *testing.F) {
	f.Add([]byte(protocol.AppendAuthRequest(nil, "token")), uint16(0))
	f.Add([]byte(`{"type":"nexus-ipc-auth","version":1,"token":"\ud800"}`+"\nrest"), uint16(100))
	f.Add([]byte(`{"type":"nexus-ipc-auth-ok"}`+"\n"), uint16(10))
	f.Add([]byte(`{"token":"a","token":"b","type":"nexus-ipc-auth","version":1.0}`+"\n"), uint16(8192))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		line, err := protocol.ReadAuthLine(br, int(limit))
		if err != nil {
			if !errors.Is(err, errcode.IPCProtocolError) && !errors.Is(err, errcode.IPCAuthFailed) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		max := int(limit)
		if max <= 0 {
			max = protocol.DefaultMaxAuthLine
		}
		if len(line)+1 > max {
			t.Fatalf("line of %d bytes passed a limit of %d", len(line)+1, max)
		}
		_ = protocol.ParseAuthOK(line)
		tok, err := protocol.ParseAuthRequest(line)
		if err != nil {
			if !errors.Is(err, errcode.IPCProtocolError) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		again := protocol.AppendAuthRequest(nil, tok)
		tok2, err := protocol.ParseAuthRequest(again[:len(again)-1])
		if err != nil || tok2 != tok {
			t.Fatalf("token %q did not round-trip: %q, %v", tok, tok2, err)
		}
	})
}

func mustDecode(t *testing.T, b []byte) any {
	v, err := protocol.DecodeValue(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestWriteFuzzCorpus refreshes the checked-in seed corpora under
// testdata/fuzz from the golden vectors when NEXUS_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("NEXUS_WRITE_CORPUS") != "1" {
		t.Skip("set NEXUS_WRITE_CORPUS=1 to rewrite testdata/fuzz seeds")
	}
	for i, s := range seedPackets(t) {
		if len(s) > 2048 || i%4 != 0 {
			continue // a small, varied sample; f.Add adds the rest at run time
		}
		writeSeed(t, "FuzzDecodePacket", i, fmt.Sprintf("[]byte(%q)", s))
		b, _ := protocol.AppendFrame(nil, s, 0)
		writeSeed(t, "FuzzFrameReader", i, fmt.Sprintf("[]byte(%q)\nuint16(%d)", b, i%7))
		if p, err := protocol.DecodePacket(s, nil); err == nil {
			if r, ok := p.(*protocol.ResPacket); ok && r.Result != nil {
				writeSeed(t, "FuzzDecodeValue", i, fmt.Sprintf("[]byte(%q)", []byte(r.Result)))
			}
		}
	}
	for i, tok := range []string{"t", "\u2028", "\"\\", "\xed\xa0\x80"} {
		writeSeed(t, "FuzzAuthLine", i, fmt.Sprintf("[]byte(%q)\nuint16(0)", protocol.AppendAuthRequest(nil, tok)))
	}
}

func writeSeed(t *testing.T, target string, i int, body string) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, fmt.Sprintf("seed-%04d", i))
	if err := os.WriteFile(name, []byte("go test fuzz v1\n"+body+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
