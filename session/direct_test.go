package session

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/nexus-interop/nexus-go/protocol"
)

// TestCallDirectMatchesReflection: every shape callDirect handles gives the
// result the reflective path gives, for present, missing, extra and
// mistyped arguments (which must fall back to reflection).
func TestCallDirectMatchesReflection(t *testing.T) {
	boom := errors.New("boom")
	fns := []any{
		func(x any) any { return x },
		func(x any) (any, error) { return x, nil },
		func(x any) (any, error) { return nil, boom },
		func(_ context.Context, x any) (any, error) { return []any{x}, nil },
		func() any { return "v" },
		func() string { return "s" },
		func(context.Context) (any, error) { return nil, boom },
		func(s string) string { return s + "!" },
		func(s string) (string, error) { return s + "?", nil },
		func(s string) (string, error) { return "", boom },
		func(_ context.Context, s string) (string, error) { return s + s, nil },
		func(a, b float64) float64 { return a + b },
	}
	argSets := [][]any{
		nil,
		{"hi"},
		{"hi", "extra"},
		{2.5, 4.0},
		{protocol.Undefined{}},
		{nil},
		{true},
	}
	ctx := context.Background()
	for _, fn := range fns {
		v := reflect.ValueOf(fn)
		for _, args := range argSets {
			wantRes, wantErr := callReflect(ctx, v, v.Type(), &Call{}, args)
			gotRes, gotErr := callFunc(ctx, v, v.Type(), &Call{}, args)
			if !reflect.DeepEqual(gotRes, wantRes) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Errorf("%T with %#v: direct (%#v, %v), reflective (%#v, %v)", fn, args, gotRes, gotErr, wantRes, wantErr)
			}
		}
		if _, _, ok := callDirect(ctx, fn, []any{"x"}); !ok && v.Type().NumIn() > 0 && v.Type().In(v.Type().NumIn()-1).Kind() == reflect.Interface {
			t.Errorf("%T: not served directly", fn)
		}
	}
}
