package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

var (
	smallApply = []byte(`[3,12345,null,["echo-service","echo"],["hello world"]]`)
	smallRes   = []byte(`[5,12345,"echo:hello world"]`)
	bigRes     = []byte(`[5,12345,"` + strings.Repeat("abcdefgh", 1<<17) + `"]`)
)

// ours: encode the packet from typed values and decode it back to values.
func oursApply(b *testing.B, buf []byte) []byte {
	args, err := AppendValue(buf[:0], []any{"hello world"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := ApplyPacket{ID: NumID(12345), Callee: Callee{Path: []string{"echo-service", "echo"}}, Args: args}
	out, err := AppendPacket(buf[len(args):len(args)], &p)
	if err != nil {
		b.Fatal(err)
	}
	d, err := DecodePacket(out, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := DecodeValue(d.(*ApplyPacket).Args); err != nil {
		b.Fatal(err)
	}
	return buf
}

func oursRes(b *testing.B, buf []byte, result any) []byte {
	r, err := AppendValue(buf[:0], result, nil)
	if err != nil {
		b.Fatal(err)
	}
	out, err := AppendPacket(r[len(r):], &ResPacket{ID: NumID(12345), Result: r})
	if err != nil {
		b.Fatal(err)
	}
	d, err := DecodePacket(out, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := DecodeValue(d.(*ResPacket).Result); err != nil {
		b.Fatal(err)
	}
	return append(r[:0], out...)[:0]
}

// baseline: plain encoding/json into and out of []any.
func stdRoundTrip(b *testing.B, v []any) {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	var back []any
	if err := json.Unmarshal(out, &back); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSmallApply(b *testing.B) {
	b.Run("nexus-go", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(smallApply)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = oursApply(b, buf)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(smallApply)))
		v := []any{3, 12345, nil, []any{"echo-service", "echo"}, []any{"hello world"}}
		for b.Loop() {
			stdRoundTrip(b, v)
		}
	})
}

func BenchmarkSmallRes(b *testing.B) {
	b.Run("nexus-go", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(smallRes)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = oursRes(b, buf, "echo:hello world")
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(smallRes)))
		v := []any{5, 12345, "echo:hello world"}
		for b.Loop() {
			stdRoundTrip(b, v)
		}
	})
}

func BenchmarkRes1MiB(b *testing.B) {
	s := strings.Repeat("abcdefgh", 1<<17)
	b.Run("nexus-go", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bigRes)))
		buf := make([]byte, 0, 3<<20)
		for b.Loop() {
			buf = oursRes(b, buf, s)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bigRes)))
		v := []any{5, 12345, s}
		for b.Loop() {
			stdRoundTrip(b, v)
		}
	})
}

// BenchmarkRouting compares how fast a packet's routing fields are pulled
// out: our single-pass validating decoder against gjson (validate, then
// read elements).
func BenchmarkRouting(b *testing.B) {
	b.Run("nexus-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePacket(smallApply, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !gjson.ValidBytes(smallApply) {
				b.Fatal("invalid")
			}
			r := gjson.ParseBytes(smallApply).Array()
			_ = r[0].Int()
			_ = r[1].Num
			_ = r[3].Array()
			_ = r[4].Raw
		}
	})
}
