package bind

import (
	"context"
	"reflect"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Functions: Go functions as callables (Func), calling them with decoded
// arguments (CallFunc), and remote functions as Go functions (RemoteFunc).

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
	callType  = reflect.TypeFor[*session.Call]()
)

// Resource returns the Invoker of a value that travels by reference: an
// Invoker as is, a Go function through Func, and any other
// protocol.Resource as an object, as Ref makes it. It is the session's
// Config.Bind in the client and the daemon.
func Resource(v any) (session.Invoker, error) {
	switch x := v.(type) {
	case nil:
		return nil, errcode.New(errcode.UsageInvalid, "cannot pass nil by reference")
	case session.Invoker:
		return x, nil
	}
	if reflect.TypeOf(v).Kind() == reflect.Func {
		return Func(v)
	}
	return Ref(v), nil
}

// Func adapts a Go function into a callable resource. The function may
// take a context.Context first (cancelled when the session ends) and a
// *session.Call, then parameters that the call's arguments are assigned to
// with Assign (missing arguments leave zero values; a variadic last
// parameter takes the rest; a remote function given for a parameter of
// function type becomes a Go function, see RemoteFunc), and may return
// nothing, a result, an error, or a result and an error.
func Func(fn any) (session.Invoker, error) {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func || v.IsNil() {
		return nil, errcode.New(errcode.UsageInvalid, "bind.Func needs a non-nil function")
	}
	t := v.Type()
	if err := checkResults(t); err != nil {
		return nil, err
	}
	return &funcTarget{v: v, t: t}, nil
}

// checkResults refuses functions that return more than (T, error).
func checkResults(t reflect.Type) error {
	if t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType) {
		return errcode.New(errcode.UsageInvalid, "a function may return at most (T, error): "+t.String())
	}
	return nil
}

type funcTarget struct {
	v reflect.Value
	t reflect.Type
}

func (f *funcTarget) NexusResource() {}

func (f *funcTarget) Invoke(ctx context.Context, call *session.Call) (any, error) {
	if call.Op != session.OpApply || len(call.Path) != 0 {
		return nil, call.ResourceError(errcode.TargetNotCallable, "a function resource only supports being called")
	}
	return callFunc(ctx, f.v, f.t, call, call.Args)
}

// CallFunc calls the Go function fn for call with decoded arguments, with
// the conventions of Func.
func CallFunc(ctx context.Context, fn reflect.Value, call *session.Call, args []any) (any, error) {
	if fn.Kind() != reflect.Func {
		return nil, call.ResourceError(errcode.TargetNotCallable, "not a function: "+strings.Join(call.Path, "."))
	}
	t := fn.Type()
	if err := checkResults(t); err != nil {
		return nil, err
	}
	return callFunc(ctx, fn, t, call, args)
}

// callFunc calls a reflected function with decoded arguments. An argument
// whose decoded value already has the parameter's type (a string for a
// string, a float64 for a float64, anything for an any) is passed as is;
// the others are converted with assignArg.
func callFunc(ctx context.Context, v reflect.Value, t reflect.Type, call *session.Call, args []any) (any, error) {
	var buf [6]reflect.Value
	in := buf[:0]
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
		switch {
		case a >= len(args):
			in = append(in, reflect.Zero(pt))
		case fits(args[a], pt):
			in = append(in, reflect.ValueOf(args[a]))
		default:
			pv := reflect.New(pt)
			if err := assignArg(ctx, pv, args[a]); err != nil {
				return nil, errcode.Wrap(errcode.ProtocolError, "argument "+strconv.Itoa(a), err)
			}
			in = append(in, pv.Elem())
		}
		a++
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

// fits reports whether arg can be passed for a parameter of type pt as it
// is: it has that type, or pt is an interface it implements.
func fits(arg any, pt reflect.Type) bool {
	if arg == nil {
		return false
	}
	at := reflect.TypeOf(arg)
	return at == pt || (pt.Kind() == reflect.Interface && at.Implements(pt))
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

// assignArg assigns a decoded argument to *pv. A remote reference given for
// a parameter of function type becomes a Go function that calls it (see
// RemoteFunc); everything else goes through Assign.
func assignArg(ctx context.Context, pv reflect.Value, arg any) error {
	if fits(arg, pv.Elem().Type()) {
		pv.Elem().Set(reflect.ValueOf(arg))
		return nil
	}
	if ref, ok := arg.(*session.RemoteRef); ok && pv.Elem().Kind() == reflect.Func {
		f, err := RemoteFunc(ctx, ref, pv.Elem().Type())
		if err != nil {
			return err
		}
		pv.Elem().Set(f)
		return nil
	}
	return Assign(pv.Interface(), arg)
}

// RemoteFunc makes a Go function of type ft that calls the remote function
// ref. If ft's first parameter is a context.Context, each call uses it;
// otherwise calls use ctx. ft may return nothing, a value, an error, or a
// value and an error; the remote result is assigned to the value with
// Assign, and a remote failure is returned as the error (or
// dropped when ft returns no error).
func RemoteFunc(ctx context.Context, ref *session.RemoteRef, ft reflect.Type) (reflect.Value, error) {
	nout := ft.NumOut()
	if err := checkResults(ft); err != nil {
		return reflect.Value{}, err
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
			if aerr := Assign(pv.Interface(), res); aerr != nil {
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
