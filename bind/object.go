package bind

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Naming lets a type choose the JS names of its members when the default
// rule does not fit. NexusNames returns JS name → Go method or field name;
// listed names replace the default ones for those members.
type Naming interface {
	NexusNames() map[string]string
}

// object adapts a Go value into something the peer can call: a
// service, or a value returned by reference. The value may be a pointer to
// a struct (methods, exported fields as properties, nested values), a
// map[string]any (the explicit form: funcs are methods, other entries
// properties), or any value reachable from those.
type object struct {
	root reflect.Value
	mu   *sync.Mutex // guards property reads and writes of this tree
	// bound caches the root's methods as plain func values (guarded by
	// mu): calling one needs no method-value allocation per call.
	bound map[string]reflect.Value
}

// method returns the root's method called name as a plain func value, if
// the root has one; o.mu must be held.
func (o *object) method(name string) (reflect.Value, bool) {
	if f, ok := o.bound[name]; ok {
		return f, true
	}
	if !o.root.IsValid() || (o.root.Kind() == reflect.Interface && o.root.IsNil()) {
		return reflect.Value{}, false
	}
	i, ok := methodIndex(o.root.Type())[name]
	if !ok {
		return reflect.Value{}, false
	}
	m := o.root.Method(i)
	if !m.CanInterface() {
		return reflect.Value{}, false
	}
	f := reflect.ValueOf(m.Interface())
	if o.bound == nil {
		o.bound = map[string]reflect.Value{}
	}
	o.bound[name] = f
	return f, true
}

// NexusResource marks a by-reference object as a resource.
func (o *object) NexusResource() {}

// Ref returns v wrapped so that it travels by reference, like nexus.ref in
// JS: the peer gets "\u0003R:res-N" and calls, reads and writes v's
// members remotely, with the rules of Object. Functions need no wrapping:
// they are always passed by reference.
func Ref(v any) session.Invoker {
	return &object{root: reflect.ValueOf(v), mu: new(sync.Mutex)}
}

// Object adapts v into the Invoker of a service. v is usually a pointer to a struct: its methods are callable (Go Echo
// is JS echo, see compat.JSName and Naming) with the conventions of Func;
// its exported fields, named as protocol.StructFields names them, are
// properties the peer can get and set; nested structs, maps and slices are
// reached by longer paths. A map[string]any is the explicit form: func
// entries are methods, other entries properties. An Invoker is returned
// as is. A nil v is an E_USAGE_INVALID error.
func Object(v any) (session.Invoker, error) {
	switch x := v.(type) {
	case nil:
		return nil, errcode.New(errcode.UsageInvalid, "nil service")
	case session.Invoker:
		return x, nil
	}
	return &object{root: reflect.ValueOf(v), mu: new(sync.Mutex)}, nil
}

// Invoke serves a GET, SET or APPLY on the object, with core's error codes:
// E_INVALID_SERVICE_PATH for __proto__, prototype and constructor segments,
// E_TARGET_NOT_CALLABLE for an APPLY on something that is not a function,
// E_SET_ON_ROOT for a SET with an empty path. A GET of a missing member is
// undefined, as in JS.
func (o *object) Invoke(ctx context.Context, call *session.Call) (any, error) {
	for _, seg := range call.Path {
		if compat.IsUnsafeSegment(seg) {
			return nil, call.ResourceError(errcode.InvalidServicePath, "unsafe path segment "+strconv.Quote(seg))
		}
	}
	switch call.Op {
	case session.OpGet:
		o.mu.Lock()
		v, ok := walk(o.root, call.Path)
		var out any = protocol.Undefined{}
		if ok {
			out = export(v)
		}
		o.mu.Unlock()
		return out, nil
	case session.OpSet:
		if len(call.Path) == 0 {
			return nil, call.ResourceError(errcode.SetOnRoot, "cannot set the root of a service or resource")
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		parent, ok := walk(o.root, call.Path[:len(call.Path)-1])
		if !ok {
			return nil, call.ResourceError(errcode.InvalidServicePath, "no object at "+strings.Join(call.Path[:len(call.Path)-1], "."))
		}
		if err := setMember(parent, call.Path[len(call.Path)-1], call.Value); err != nil {
			// The message without a code of its own: the error's code is
			// E_INVALID_SERVICE_PATH.
			return nil, call.ResourceError(errcode.InvalidServicePath, errcode.MessageOf(err))
		}
		return true, nil // what a JS daemon answers
	default:
		o.mu.Lock()
		var fn reflect.Value
		ok := false
		if len(call.Path) == 1 {
			fn, ok = o.method(call.Path[0])
		}
		if !ok {
			fn, ok = walk(o.root, call.Path)
		}
		o.mu.Unlock()
		for ok && fn.Kind() == reflect.Interface && !fn.IsNil() {
			fn = fn.Elem()
		}
		if !ok || fn.Kind() != reflect.Func || fn.IsNil() {
			if ok {
				if t, isTarget := fn.Interface().(session.Invoker); isTarget {
					sub := *call
					sub.Path = nil
					return t.Invoke(ctx, &sub)
				}
			}
			return nil, call.ResourceError(errcode.TargetNotCallable, "not a function: "+strings.Join(call.Path, "."))
		}
		res, err := CallFunc(ctx, fn, call, call.Args)
		return res, err
	}
}

// export turns a member into the value to encode: methods stay funcs
// (they become resources), everything else as is.
func export(v reflect.Value) any {
	if !v.IsValid() {
		return protocol.Undefined{}
	}
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct && !v.Type().Implements(reflect.TypeFor[protocol.Resource]()) {
		// A whole struct: its fields by value and its methods as resources,
		// as JS sends a GET of a whole service.
		return structView(v)
	}
	return v.Interface()
}

// structView lists a struct's properties and methods as a plain object.
func structView(p reflect.Value) *protocol.Object {
	o := &protocol.Object{}
	s := p.Elem()
	fields := protocol.StructFields(s.Type())
	for i := range fields {
		if fv, ok := fields[i].Value(s); ok {
			o.Set(fields[i].Name, fv.Interface())
		}
	}
	names := methodNames(p.Type())
	// In name order: the same object (and resource ids) on every run.
	for _, js := range slices.Sorted(maps.Keys(names)) {
		o.Set(js, p.MethodByName(names[js]).Interface())
	}
	return o
}

var methodCache sync.Map // reflect.Type -> map[string]string (JS -> Go)

// methodNames maps JS names to the Go methods of t: compat.JSName of each
// method, replaced by the names of Naming when t implements it (Naming must
// not depend on the receiver's state: it is asked on a zero value).
func methodNames(t reflect.Type) map[string]string {
	if m, ok := methodCache.Load(t); ok {
		return m.(map[string]string)
	}
	out := map[string]string{}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if m.Name == "NexusNames" || m.Name == "NexusResource" {
			continue
		}
		out[compat.JSName(m.Name)] = m.Name
	}
	if t.Implements(reflect.TypeFor[Naming]()) {
		var n Naming
		if t.Kind() == reflect.Pointer {
			n = reflect.New(t.Elem()).Interface().(Naming)
		} else {
			n = reflect.Zero(t).Interface().(Naming)
		}
		for js, goName := range n.NexusNames() {
			if _, ok := t.MethodByName(goName); ok {
				delete(out, compat.JSName(goName))
				out[js] = goName
			}
		}
	}
	methodCache.Store(t, out)
	return out
}

var indexCache sync.Map // reflect.Type -> map[string]int (JS name -> method index)

// methodIndex maps JS names to method indexes of t (see methodNames).
func methodIndex(t reflect.Type) map[string]int {
	if m, ok := indexCache.Load(t); ok {
		return m.(map[string]int)
	}
	out := map[string]int{}
	for js, goName := range methodNames(t) {
		if m, ok := t.MethodByName(goName); ok {
			out[js] = m.Index
		}
	}
	indexCache.Store(t, out)
	return out
}

// member returns the member named name of v: a method (bound), a struct
// field, a map entry, an *protocol.Object member, or a slice element.
func member(v reflect.Value, name string) (reflect.Value, bool) {
	if !v.IsValid() {
		return reflect.Value{}, false
	}
	// Methods are looked up on the value as given (pointer receivers too).
	if v.Kind() != reflect.Interface || !v.IsNil() {
		if i, ok := methodIndex(v.Type())[name]; ok {
			return v.Method(i), true
		}
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, false
		}
		v = v.Elem()
		if v.CanAddr() {
			if i, ok := methodIndex(v.Addr().Type())[name]; ok {
				return v.Addr().Method(i), true
			}
		}
		if i, ok := methodIndex(v.Type())[name]; ok {
			return v.Method(i), true
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		if o, ok := v.Addr().Interface().(*protocol.Object); ok {
			val, found := o.Get(name)
			return reflect.ValueOf(&val).Elem(), found
		}
		t := v.Type()
		if n, ok := namingOf(v); ok {
			if goName, found := n[name]; found {
				if f := v.FieldByName(goName); f.IsValid() {
					return f, true
				}
			}
		}
		fields := protocol.StructFields(t)
		for i := range fields {
			if fields[i].Name == name {
				return fields[i].Field(v)
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return reflect.Value{}, false
		}
		e := v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
		return e, e.IsValid()
	case reflect.Slice, reflect.Array:
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 || i >= v.Len() || strconv.Itoa(i) != name {
			return reflect.Value{}, false
		}
		return v.Index(i), true
	}
	return reflect.Value{}, false
}

func namingOf(v reflect.Value) (map[string]string, bool) {
	if v.CanAddr() {
		if n, ok := v.Addr().Interface().(Naming); ok {
			return n.NexusNames(), true
		}
	}
	if n, ok := v.Interface().(Naming); ok {
		return n.NexusNames(), true
	}
	return nil, false
}

func walk(v reflect.Value, path []string) (reflect.Value, bool) {
	for _, seg := range path {
		var ok bool
		if v, ok = member(v, seg); !ok {
			return reflect.Value{}, false
		}
	}
	return v, v.IsValid()
}

// setMember writes a property: an exported struct field or a map entry,
// with the value converted by bind.Assign.
func setMember(parent reflect.Value, name string, value any) error {
	for parent.Kind() == reflect.Pointer || parent.Kind() == reflect.Interface {
		if parent.IsNil() {
			return errcode.New(errcode.InvalidServicePath, "cannot set "+name+" on nil")
		}
		parent = parent.Elem()
	}
	switch parent.Kind() {
	case reflect.Struct:
		if o, ok := parent.Addr().Interface().(*protocol.Object); ok {
			o.Set(name, value)
			return nil
		}
		f, ok := member(parent, name)
		if !ok || !f.CanSet() {
			return errcode.New(errcode.InvalidServicePath, "no settable property "+strconv.Quote(name))
		}
		pv := reflect.New(f.Type())
		if err := Assign(pv.Interface(), value); err != nil {
			return err
		}
		f.Set(pv.Elem())
		return nil
	case reflect.Map:
		if parent.Type().Key().Kind() != reflect.String {
			return errcode.New(errcode.InvalidServicePath, "no settable property "+strconv.Quote(name))
		}
		pv := reflect.New(parent.Type().Elem())
		if err := Assign(pv.Interface(), value); err != nil {
			return err
		}
		parent.SetMapIndex(reflect.ValueOf(name).Convert(parent.Type().Key()), pv.Elem())
		return nil
	}
	return errcode.New(errcode.InvalidServicePath, "no settable property "+strconv.Quote(name))
}
