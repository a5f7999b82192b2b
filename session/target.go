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
func TargetOf(v any) (Target, error) {
	if t, ok := v.(Target); ok {
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
func FuncTarget(fn any) (Target, error) {
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

// callFunc calls a reflected function with decoded arguments.
func callFunc(ctx context.Context, v reflect.Value, t reflect.Type, call *Call, args []any) (any, error) {
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
				if err := protocol.Assign(ev.Interface(), args[a]); err != nil {
					return nil, errcode.Wrap(errcode.ProtocolError, "argument "+strconv.Itoa(a), err)
				}
				in = append(in, ev.Elem())
			}
			break
		}
		pv := reflect.New(pt)
		if a < len(args) {
			if err := protocol.Assign(pv.Interface(), args[a]); err != nil {
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
