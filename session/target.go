package session

import (
	"context"
	"reflect"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Func is the plainest callable: it receives the decoded arguments (Refs
// revived into *RemoteRef) and returns a result to encode.
type Func func(ctx context.Context, args []any) (any, error)

// Invoke calls f for an APPLY on the resource itself (an empty path).
func (f Func) Invoke(ctx context.Context, call *Call) (any, error) {
	if call.Op != OpApply || len(call.Path) != 0 {
		return nil, coreError(errcode.TargetNotCallable, "MessageResourceError", "a function resource only supports being called")
	}
	return f(ctx, call.Args)
}

// NexusResource marks Func as a resource.
func (Func) NexusResource() {}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
	callType  = reflect.TypeFor[*Call]()
)

// TargetOf returns the Target of a value that travels as a resource: a
// Target itself, or a Go function, adapted with FuncTarget.
func TargetOf(v any) (Invoker, error) {
	if t, ok := v.(Invoker); ok {
		return t, nil
	}
	if reflect.TypeOf(v).Kind() == reflect.Func {
		return FuncTarget(v)
	}
	return nil, errcode.New(errcode.ProtocolError, "cannot pass "+reflect.TypeOf(v).String()+" as a resource: it is neither a function nor a session.Target")
}

// FuncTarget adapts a Go function into a callable resource. The function
// may take a context.Context first, then parameters that the call's
// arguments are assigned to with protocol.Assign (missing arguments leave
// zero values; a variadic last parameter takes the rest), and may return
// nothing, a result, an error, or a result and an error.
func FuncTarget(fn any) (Invoker, error) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, errcode.New(errcode.UsageInvalid, "FuncTarget needs a function")
	}
	switch t.NumOut() {
	case 0:
	case 1:
	case 2:
		if t.Out(1) != errorType {
			return nil, errcode.New(errcode.UsageInvalid, "a function with two results must return (T, error): "+t.String())
		}
	default:
		return nil, errcode.New(errcode.UsageInvalid, "a function may return at most (T, error): "+t.String())
	}
	return &funcTarget{v: v, t: t}, nil
}

type funcTarget struct {
	v reflect.Value
	t reflect.Type
}

func (f *funcTarget) NexusResource() {}

func (f *funcTarget) Invoke(ctx context.Context, call *Call) (any, error) {
	if call.Op != OpApply || len(call.Path) != 0 {
		return nil, coreError(errcode.TargetNotCallable, "MessageResourceError", "a function resource only supports being called")
	}
	return callFunc(ctx, f.v, f.t, call, call.Args)
}

// CallFunc calls the Go function fn with decoded arguments, with the
// conventions of FuncTarget: an optional leading context.Context (and
// *Call), parameters assigned from args with protocol.Assign (references
// become Go functions for parameters of function type), and results of
// nothing, a value, an error, or both.
func CallFunc(ctx context.Context, fn reflect.Value, call *Call, args []any) (any, error) {
	if fn.Kind() != reflect.Func {
		return nil, coreError(errcode.TargetNotCallable, "MessageResourceError", "target is not callable")
	}
	t := fn.Type()
	if t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType) {
		return nil, errcode.New(errcode.UsageInvalid, "a function may return at most (T, error): "+t.String())
	}
	return callFunc(ctx, fn, t, call, args)
}

// callFunc calls a reflected function with decoded arguments.
func callFunc(ctx context.Context, v reflect.Value, t reflect.Type, call *Call, args []any) (any, error) {
	if !t.IsVariadic() && t.NumIn() <= 3 && v.CanInterface() {
		if res, err, ok := callDirect(ctx, v.Interface(), args); ok {
			return res, err
		}
	}
	return callReflect(ctx, v, t, call, args)
}

// callReflect is callFunc for any function shape, through reflection.
func callReflect(ctx context.Context, v reflect.Value, t reflect.Type, call *Call, args []any) (any, error) {
	in := make([]reflect.Value, 0, t.NumIn())
	i := 0
	if i < t.NumIn() && t.In(i) == ctxType {
		in = append(in, reflect.ValueOf(ctx))
		i++
	}
	if i < t.NumIn() && t.In(i) == callType {
		in = append(in, reflect.ValueOf(call))
		i++
	}
	a := 0
	for ; i < t.NumIn(); i++ {
		pt := t.In(i)
		if t.IsVariadic() && i == t.NumIn()-1 {
			et := pt.Elem()
			for ; a < len(args); a++ {
				ev := reflect.New(et)
				if err := assignArg(ctx, ev, args[a]); err != nil {
					return nil, errcode.Wrap(errcode.ProtocolError, "argument "+strconv.Itoa(a), err)
				}
				in = append(in, ev.Elem())
			}
			break
		}
		pv := reflect.New(pt)
		if a < len(args) {
			if err := assignArg(ctx, pv, args[a]); err != nil {
				return nil, errcode.Wrap(errcode.ProtocolError, "argument "+strconv.Itoa(a), err)
			}
		}
		a++
		in = append(in, pv.Elem())
	}
	var out []reflect.Value
	if t.IsVariadic() {
		fixed := t.NumIn() - 1
		out = v.CallSlice(append(in[:fixed:fixed], variadicSlice(t, in)...))
	} else {
		out = v.Call(in)
	}
	switch len(out) {
	case 0:
		return protocol.Undefined{}, nil
	case 1:
		if t.Out(0) == errorType {
			if err, _ := out[0].Interface().(error); err != nil {
				return nil, err
			}
			return protocol.Undefined{}, nil
		}
		return out[0].Interface(), nil
	}
	if err, _ := out[1].Interface().(error); err != nil {
		return nil, err
	}
	return out[0].Interface(), nil
}

// callDirect calls functions of the most common shapes without reflection,
// with the same results as the reflective path; ok is false when f has
// another shape or an argument would need converting.
func callDirect(ctx context.Context, f any, args []any) (res any, err error, ok bool) {
	switch f := f.(type) {
	case func(any) any:
		return f(argAt(args, 0)), nil, true
	case func(any) (any, error):
		return result(f(argAt(args, 0)))
	case func(context.Context, any) (any, error):
		return result(f(ctx, argAt(args, 0)))
	case func() any:
		return f(), nil, true
	case func() string:
		return f(), nil, true
	case func(context.Context) (any, error):
		return result(f(ctx))
	case func(string) string:
		if s, ok := stringAt(args, 0); ok {
			return f(s), nil, true
		}
	case func(string) (string, error):
		if s, ok := stringAt(args, 0); ok {
			return result(f(s))
		}
	case func(context.Context, string) (string, error):
		if s, ok := stringAt(args, 0); ok {
			return result(f(ctx, s))
		}
	case func(float64, float64) float64:
		x, okX := floatAt(args, 0)
		y, okY := floatAt(args, 1)
		if okX && okY {
			return f(x, y), nil, true
		}
	}
	return nil, nil, false
}

// result is a (T, error) result as callFunc returns it.
func result[T any](v T, err error) (any, error, bool) {
	if err != nil {
		return nil, err, true
	}
	return v, nil, true
}

// argAt is args[i], or nil (a zero any) when the argument is missing.
func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// stringAt is args[i] when it is a string, or "" when it is missing.
func stringAt(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", true
	}
	s, ok := args[i].(string)
	return s, ok
}

// floatAt is args[i] when it is a number, or 0 when it is missing.
func floatAt(args []any, i int) (float64, bool) {
	if i >= len(args) {
		return 0, true
	}
	f, ok := args[i].(float64)
	return f, ok
}

// variadicSlice packs the variadic tail of in into one slice value.
func variadicSlice(t reflect.Type, in []reflect.Value) []reflect.Value {
	fixed := t.NumIn() - 1
	tail := in[fixed:]
	s := reflect.MakeSlice(t.In(fixed), len(tail), len(tail))
	for i, e := range tail {
		s.Index(i).Set(e)
	}
	return []reflect.Value{s}
}

// Methods returns a service table that dispatches an APPLY on
// SERVICE.NAME (any service) to methods[NAME]; everything else is
// E_TARGET_NOT_CALLABLE. It is a small helper for tests and examples; the
// daemon package has the full service adapter.
func Methods(methods map[string]Func) Handler { return methodTable(methods) }

type methodTable map[string]Func

func (m methodTable) Invoke(ctx context.Context, call *Call) (any, error) {
	if len(call.Path) == 1 && call.Op == OpApply {
		if fn, ok := m[call.Path[0]]; ok {
			return fn(ctx, call.Args)
		}
	}
	return nil, coreError(errcode.TargetNotCallable, "MessageResourceError", "not callable: "+strings.Join(call.Path, "."))
}

// assignArg assigns a decoded argument to *pv. A remote reference given for
// a parameter of function type becomes a Go function that calls it (see
// RemoteFunc); everything else goes through protocol.Assign.
func assignArg(ctx context.Context, pv reflect.Value, arg any) error {
	et := pv.Elem().Type()
	if arg != nil {
		if at := reflect.TypeOf(arg); at == et || (et.Kind() == reflect.Interface && at.Implements(et)) {
			pv.Elem().Set(reflect.ValueOf(arg))
			return nil
		}
	}
	if ref, ok := arg.(*RemoteRef); ok && pv.Elem().Kind() == reflect.Func {
		f, err := RemoteFunc(ctx, ref, pv.Elem().Type())
		if err != nil {
			return err
		}
		pv.Elem().Set(f)
		return nil
	}
	return protocol.Assign(pv.Interface(), arg)
}

// RemoteFunc makes a Go function of type ft that calls the remote function
// ref. If ft's first parameter is a context.Context, each call uses it;
// otherwise calls use ctx. ft may return nothing, a value, an error, or a
// value and an error; the remote result is assigned to the value with
// protocol.Assign, and a remote failure is returned as the error (or
// dropped when ft returns no error).
func RemoteFunc(ctx context.Context, ref *RemoteRef, ft reflect.Type) (reflect.Value, error) {
	nout := ft.NumOut()
	if nout > 2 || (nout == 2 && ft.Out(1) != errorType) {
		return reflect.Value{}, errcode.New(errcode.UsageInvalid, "a callback type may return at most (T, error): "+ft.String())
	}
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		callCtx := ctx
		args := make([]any, 0, len(in))
		for i, v := range in {
			if i == 0 && ft.In(0) == ctxType {
				if c, ok := v.Interface().(context.Context); ok && c != nil {
					callCtx = c
				}
				continue
			}
			if ft.IsVariadic() && i == len(in)-1 {
				for j := 0; j < v.Len(); j++ {
					args = append(args, v.Index(j).Interface())
				}
				continue
			}
			args = append(args, v.Interface())
		}
		res, err := ref.Call(callCtx, nil, args...)
		out := make([]reflect.Value, nout)
		for i := 0; i < nout; i++ {
			out[i] = reflect.Zero(ft.Out(i))
		}
		errAt := -1
		if nout > 0 && ft.Out(nout-1) == errorType {
			errAt = nout - 1
		}
		if err == nil && nout > 0 && errAt != 0 {
			pv := reflect.New(ft.Out(0))
			if aerr := protocol.Assign(pv.Interface(), res); aerr != nil {
				err = aerr
			} else {
				out[0] = pv.Elem()
			}
		}
		if err != nil && errAt >= 0 {
			out[errAt] = reflect.ValueOf(&err).Elem()
		}
		return out
	}), nil
}
