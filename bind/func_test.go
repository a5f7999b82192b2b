package bind

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

type point struct {
	X, Y int
}

// TestCallFuncArguments: arguments that already have the parameter's type
// are passed as they are, the others are converted by Assign, missing ones
// are zero values, extra ones are ignored, and a variadic parameter takes
// the rest; results follow the (T, error) conventions.
func TestCallFuncArguments(t *testing.T) {
	boom := errors.New("boom")
	ctx := context.Background()
	cases := []struct {
		name string
		fn   any
		args []any
		want any
		err  error
	}{
		{"any as is", func(x any) any { return x }, []any{protocol.NewObject("a", 1.0)}, protocol.NewObject("a", 1.0), nil},
		{"string as is", func(s string) string { return s + "!" }, []any{"hi", "extra"}, "hi!", nil},
		{"float64 as is", func(a, b float64) float64 { return a + b }, []any{2.5, 4.0}, 6.5, nil},
		{"missing is zero", func(s string, n int) (string, error) { return s, nil }, nil, "", nil},
		{"number to int", func(n int) int { return n * 2 }, []any{21.0}, 42, nil},
		{"object to struct", func(_ context.Context, p point) (int, error) { return p.X + p.Y, nil }, []any{protocol.NewObject("x", 1.0, "y", 2.0)}, 3, nil},
		{"variadic", func(xs ...int) int { return len(xs) }, []any{1.0, 2.0, 3.0}, 3, nil},
		{"no results", func() {}, nil, protocol.Undefined{}, nil},
		{"error result", func(any) (any, error) { return nil, boom }, []any{"x"}, nil, boom},
		{"only an error", func() error { return boom }, nil, nil, boom},
		{"wrong type", func(s string) string { return s }, []any{1.0}, nil, errcode.ProtocolError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CallFunc(ctx, reflect.ValueOf(c.fn), &session.Call{Op: session.OpApply}, c.args)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got (%#v, %v), want %#v", got, err, c.want)
			}
		})
	}
}

// TestFuncRefusesBadShapes: Func and Resource refuse what cannot be called
// with a usage error, before anything reaches the wire.
func TestFuncRefusesBadShapes(t *testing.T) {
	for _, fn := range []any{nil, 42, (func())(nil), func() (int, int) { return 0, 0 }, func() (int, error, bool) { return 0, nil, false }} {
		if _, err := Func(fn); !errors.Is(err, errcode.UsageInvalid) {
			t.Errorf("Func(%T): %v, want E_USAGE_INVALID", fn, err)
		}
	}
	if _, err := Resource(nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Errorf("Resource(nil): %v", err)
	}
}

// BenchmarkCallFunc: the cost of calling a Go function for a call, on the
// shapes users write (not only the demo's func(any) any).
func BenchmarkCallFunc(b *testing.B) {
	ctx := context.Background()
	call := &session.Call{Op: session.OpApply}
	for _, c := range []struct {
		name string
		fn   any
		args []any
	}{
		{"any", func(x any) any { return x }, []any{"hello"}},
		{"ctx-string-error", func(_ context.Context, s string) (string, error) { return s, nil }, []any{"hello"}},
		{"ints", func(a, b int) int { return a + b }, []any{1.0, 2.0}},
		{"struct", func(_ context.Context, p point) (int, error) { return p.X + p.Y, nil }, []any{protocol.NewObject("x", 1.0, "y", 2.0)}},
	} {
		fn := reflect.ValueOf(c.fn)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CallFunc(ctx, fn, call, c.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
