package protocol

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/nexus-interop/nexus-go/errcode"
)

func frames(bodies ...string) []byte {
	var b []byte
	for _, s := range bodies {
		var err error
		b, err = AppendFrame(b, []byte(s), 0)
		if err != nil {
			panic(err)
		}
	}
	return b
}

func TestFrameReaderChunking(t *testing.T) {
	bodies := []string{`[5,1,"a"]`, strings.Repeat("x", 100000), `[7,null,"res-1"]`, "y"}
	stream := frames(bodies...)
	readers := map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(stream) },
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			fr := NewFrameReader(mk(), 0)
			for i, want := range bodies {
				got, err := fr.ReadFrame()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if string(got) != want {
					t.Fatalf("frame %d: got %d bytes, want %d", i, len(got), len(want))
				}
			}
			if _, err := fr.ReadFrame(); err != io.EOF {
				t.Fatalf("at end: got %v, want io.EOF", err)
			}
		})
	}
}

func TestFrameReaderLimits(t *testing.T) {
	cases := []struct {
		name   string
		stream []byte
		max    int
		want   error
	}{
		{"zero length", []byte{0, 0, 0, 0, 'x'}, 0, errcode.IPCProtocolError},
		{"over default max", []byte{1, 0, 0, 1}, 0, errcode.IPCProtocolError},
		{"over custom max", append([]byte{0, 0, 0, 11}, "01234567890"...), 10, errcode.IPCProtocolError},
		{"truncated header", []byte{0, 0}, 0, io.ErrUnexpectedEOF},
		{"truncated body", []byte{0, 0, 0, 5, 'a', 'b'}, 0, io.ErrUnexpectedEOF},
		{"empty stream", nil, 0, io.EOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(c.stream), c.max).ReadFrame()
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// Exactly the maximum is accepted.
	body := strings.Repeat("z", 10)
	got, err := NewFrameReader(bytes.NewReader(frames(body)), 10).ReadFrame()
	if err != nil || string(got) != body {
		t.Fatalf("max-size frame: %v", err)
	}
	if _, err := AppendFrame(nil, nil, 0); !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("empty body encoded: %v", err)
	}
	if _, err := AppendFrame(nil, make([]byte, 11), 10); !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("oversized body encoded: %v", err)
	}
}

// A peer that declares 16 MiB and sends a few bytes must not make us
// allocate 16 MiB.
func TestFrameReaderAllocatesAsBytesArrive(t *testing.T) {
	stream := append([]byte{1, 0, 0, 0}, "[5,1,"...) // 16 MiB declared
	before := memAlloc()
	fr := NewFrameReader(bytes.NewReader(stream), 0)
	_, err := fr.ReadFrame()
	after := memAlloc()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
	if grown := after - before; grown > 1<<20 {
		t.Fatalf("allocated %d bytes for a frame whose 5 bytes arrived", grown)
	}
}

// Reading one byte at a time must stay linear: a 4 MiB frame through a
// one-byte reader would take minutes if each chunk re-copied the buffer.
func TestFrameReaderOneByteLargeFrame(t *testing.T) {
	body := bytes.Repeat([]byte("q"), 4<<20)
	fr := NewFrameReader(iotest.OneByteReader(bytes.NewReader(frames(string(body)))), 0)
	got, err := fr.ReadFrame()
	if err != nil || len(got) != len(body) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}

func TestFrameReaderPrepend(t *testing.T) {
	stream := frames("a", "b")
	fr := NewFrameReader(bytes.NewReader(stream[3:]), 0)
	fr.Prepend(stream[:3])
	for _, want := range []string{"a", "b"} {
		got, err := fr.ReadFrame()
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v", got, err)
		}
	}
}

func TestAppendPacketFrame(t *testing.T) {
	b, err := AppendPacketFrame([]byte("prefix"), &ResPacket{ID: NumID(7), Result: Raw(`"ok"`)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "prefix\x00\x00\x00\x0a[5,7,\"ok\"]"
	if string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
	if _, err := AppendPacketFrame(nil, &ResPacket{ID: NumID(7), Result: Raw(`"okokokokok"`)}, 10); !errors.Is(err, errcode.IPCProtocolError) {
		t.Fatalf("oversized packet frame: %v", err)
	}
}
