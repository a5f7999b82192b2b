package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// wideObject returns the JSON text of an object with n keys of the given
// shape: "plain" (k0, k1, ...), "index" (0, 1, ... ascending), "reverse"
// (array indexes descending), "mixed" (n/2 plain keys, then n/2 indexes
// descending) or "dup" (n keys that repeat 16 names).
func wideObject(shape string, n int) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", wideKey(shape, n, i), i)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// wideKey is the i-th key of wideObject(shape, n).
func wideKey(shape string, n, i int) string {
	switch shape {
	case "index":
		return strconv.Itoa(i)
	case "reverse":
		return strconv.Itoa(n - i)
	case "mixed":
		if i >= n/2 {
			return strconv.Itoa(n - i)
		}
	case "dup":
		return "k" + strconv.Itoa(i%16)
	}
	return "k" + strconv.Itoa(i)
}

// TestWideObjectOrder: decoding keeps JS enumeration order and JSON.parse's
// duplicate rule for objects of every shape and size, including sizes past
// the point where Object keeps an index.
func TestWideObjectOrder(t *testing.T) {
	for _, shape := range []string{"plain", "index", "reverse", "mixed", "dup"} {
		for _, n := range []int{0, 1, 7, 8, 9, 100, 1000} {
			v, err := DecodeJSON(wideObject(shape, n))
			if err != nil {
				t.Fatalf("%s/%d: %v", shape, n, err)
			}
			o := v.(*Object)
			// What JS enumerates: array indexes ascending, then the other
			// keys in first-insertion order, each with its last value.
			type kv struct {
				k string
				v float64
			}
			var idx, other []kv
			pos := map[string]int{}
			for i := 0; i < n; i++ {
				k := wideKey(shape, n, i)
				if p, ok := pos[k]; ok {
					other[p].v = float64(i)
					continue
				}
				if _, isIdx := strconv.Atoi(k); isIdx == nil {
					idx = append(idx, kv{k, float64(i)})
				} else {
					pos[k] = len(other)
					other = append(other, kv{k, float64(i)})
				}
			}
			for i := 1; i < len(idx); i++ { // insertion sort is fine for a test
				for j := i; j > 0; j-- {
					a, _ := strconv.Atoi(idx[j-1].k)
					b, _ := strconv.Atoi(idx[j].k)
					if a < b {
						break
					}
					idx[j-1], idx[j] = idx[j], idx[j-1]
				}
			}
			want := append(idx, other...)
			if o.Len() != len(want) {
				t.Fatalf("%s/%d: %d keys, want %d", shape, n, o.Len(), len(want))
			}
			for i, w := range want {
				k, v := o.At(i)
				if k != w.k || v != w.v {
					t.Fatalf("%s/%d: key %d is %q=%v, want %q=%v", shape, n, i, k, v, w.k, w.v)
				}
				if got, ok := o.Get(w.k); !ok || got != w.v {
					t.Fatalf("%s/%d: Get(%q) = %v, %v", shape, n, w.k, got, ok)
				}
			}
			if _, ok := o.Get("absent"); ok {
				t.Fatalf("%s/%d: Get of an absent key", shape, n)
			}
		}
	}
}

// TestObjectSetAndDelete: Set and Delete keep the order and the lookups
// right on both sides of the indexing threshold.
func TestObjectSetAndDelete(t *testing.T) {
	o := &Object{}
	for i := 0; i < 20; i++ {
		o.Set("k"+strconv.Itoa(i), i)
	}
	o.Set("5", "five")
	o.Set("2", "two")
	o.Set("k3", "again")
	o.Delete("k0")
	o.Delete("2")
	o.Set("k0", "back")
	want := []string{"5", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17", "k18", "k19", "k0"}
	if got := o.Keys(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys %v\nwant %v", got, want)
	}
	for i, k := range want {
		v, ok := o.Get(k)
		if !ok {
			t.Fatalf("Get(%q) missing", k)
		}
		if _, v2 := o.At(i); v2 != v {
			t.Fatalf("Get(%q) = %v, At(%d) = %v", k, v, i, v2)
		}
	}
	if v, _ := o.Get("k3"); v != "again" {
		t.Fatalf("k3 = %v", v)
	}
	if _, ok := o.Get("2"); ok {
		t.Fatal("deleted key still found")
	}
}

// BenchmarkDecodeWideObject shows decoding cost per key staying flat as
// objects grow (it was linear per key, so quadratic per object).
func BenchmarkDecodeWideObject(b *testing.B) {
	for _, shape := range []string{"plain", "reverse", "mixed"} {
		for _, n := range []int{1 << 10, 1 << 13, 1 << 16} {
			data := wideObject(shape, n)
			b.Run(fmt.Sprintf("%s/keys=%d", shape, n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for i := 0; i < b.N; i++ {
					if _, err := DecodeJSON(data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
			})
		}
	}
}
