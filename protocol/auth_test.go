package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
)

func TestAuthRequestLine(t *testing.T) {
	got := string(AppendAuthRequest(nil, "s3cr\"et\u2028"))
	want := "{\"type\":\"nexus-ipc-auth\",\"version\":1,\"token\":\"s3cr\\\"et\u2028\"}\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	tok, err := ParseAuthRequest([]byte(strings.TrimSuffix(got, "\n")))
	if err != nil || tok != "s3cr\"et\u2028" {
		t.Fatalf("round trip: %q, %v", tok, err)
	}
}

func TestParseAuthRequest(t *testing.T) {
	cases := []struct {
		line string
		tok  string
		ok   bool
	}{
		{`{"type":"nexus-ipc-auth","version":1,"token":"t"}`, "t", true},
		{` {"token":"t","version":1.0,"type":"nexus-ipc-auth","extra":[1]} `, "t", true},
		{`{"type":"nexus-ipc-auth","version":1,"token":"a","token":"b"}`, "b", true},
		{`{"type":"nexus-ipc-auth","version":1,"token":"\ud800"}`, "\xed\xa0\x80", true},
		{`{"type":"nexus-ipc-auth","version":1,"token":"\u0003U"}`, "\x03U", true},  // plain JSON: no placeholders
		{`{"type":"nexus-ipc-auth","type":"x","version":1,"token":"t"}`, "", false}, // the last "type" counts
		{`{"type":"nexus-ipc-auth","version":2,"token":"t"}`, "", false},
		{`{"type":"nexus-ipc-auth","version":"1","token":"t"}`, "", false},
		{`{"type":"nexus-ipc-auth","version":1,"token":5}`, "", false},
		{`{"type":"nexus-ipc-auth","version":1}`, "", false},
		{`{"type":"other","version":1,"token":"t"}`, "", false},
		{`["nexus-ipc-auth"]`, "", false},
		{`{"type":"nexus-ipc-auth","version":1,"token":"t"`, "", false},
		{``, "", false},
	}
	for _, c := range cases {
		tok, err := ParseAuthRequest([]byte(c.line))
		if c.ok != (err == nil) || tok != c.tok {
			t.Errorf("%s: got %q, %v", c.line, tok, err)
		}
		if err != nil && !errors.Is(err, errcode.IPCProtocolError) {
			t.Errorf("%s: error %v lacks E_IPC_PROTOCOL_ERROR", c.line, err)
		}
	}
}

func TestParseAuthOK(t *testing.T) {
	if err := ParseAuthOK([]byte(strings.TrimSuffix(AuthOKLine, "\n"))); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"type":"nexus-ipc-auth"}`, `"nexus-ipc-auth-ok"`, `{`, `null`} {
		if err := ParseAuthOK([]byte(bad)); !errors.Is(err, errcode.IPCProtocolError) {
			t.Errorf("%s: got %v", bad, err)
		}
	}
}

func TestReadAuthLine(t *testing.T) {
	// Bytes after the newline stay in the reader for the frame stream.
	br := bufio.NewReaderSize(strings.NewReader("{\"a\":1}\nREST"), 16)
	line, err := ReadAuthLine(br, 0)
	if err != nil || string(line) != `{"a":1}` {
		t.Fatalf("line %q, %v", line, err)
	}
	rest := make([]byte, 10)
	n, _ := br.Read(rest)
	if string(rest[:n]) != "REST" {
		t.Fatalf("rest %q", rest[:n])
	}

	// The limit counts the newline: 8192 bytes with it pass, 8193 fail.
	ok := strings.Repeat("a", DefaultMaxAuthLine-1) + "\n"
	if _, err := ReadAuthLine(bufio.NewReaderSize(strings.NewReader(ok), 16), 0); err != nil {
		t.Fatalf("8192-byte line: %v", err)
	}
	long := strings.Repeat("a", DefaultMaxAuthLine) + "\n"
	if _, err := ReadAuthLine(bufio.NewReaderSize(strings.NewReader(long), 16), 0); !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("8193-byte line: %v", err)
	}
	// An endless line stops at the limit without reading everything.
	endless := &countingReader{}
	if _, err := ReadAuthLine(bufio.NewReaderSize(endless, 4096), 0); !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("endless line: %v", err)
	}
	if endless.n > 3*DefaultMaxAuthLine {
		t.Fatalf("read %d bytes of an endless line", endless.n)
	}
	// EOF before the newline is an auth failure.
	if _, err := ReadAuthLine(bufio.NewReader(bytes.NewReader([]byte(`{"type"`))), 0); !errors.Is(err, errcode.IPCAuthFailed) {
		t.Fatalf("eof: %v", err)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n += len(p)
	return len(p), nil
}
