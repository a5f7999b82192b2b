package protocol

import (
	"cmp"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
)

// Raw is JSON text that is already encoded. In a packet it is a field kept
// as bytes for routing; a nil Raw is an absent field, written as null.
// Encoding a Raw value copies it verbatim, so it must be valid JSON.
type Raw []byte

// Resource is implemented by values that must travel as a resource
// placeholder ("\u0003R:res-N") instead of by value; the session layer's
// local references implement it. Functions are always resources.
type Resource interface {
	// NexusResource is a marker; it is never called.
	NexusResource()
}

// ResourceFunc registers v (a func, or a value implementing Resource) as a
// local resource and returns its id. It is how the session layer hooks into
// encoding.
type ResourceFunc func(v any) (id string, err error)

// EncodeOptions controls payload encoding. The zero value is ready to use
// and refuses functions and Resource values.
type EncodeOptions struct {
	// Resource registers functions and Resource values; nil refuses them
	// with an E_PROTOCOL_ERROR.
	Resource ResourceFunc
	// MaxDepth bounds nesting (0 means DefaultMaxDepth); deeper values, and
	// cycles, fail with E_PROTOCOL_ERROR.
	MaxDepth int
}

type encoder struct {
	opts    *EncodeOptions
	payload bool // payload mode: placeholders; else JSON.stringify mode
	depth   int
	max     int
}

// AppendValue appends v encoded as a Nexus payload value, the way
// @nexus-js/core sanitizes a value and JSON.stringify writes it:
// Undefined as "\u0003U", *Map as "\u0003M:"+JSON of its entries, *Set as
// "\u0003S:"+JSON of its values, *big.Int as "\u0003N:"+decimal, functions
// and Resource values as "\u0003R:"+id, strings that start with U+0003 or
// U+0004 prefixed with U+0004. The contents of Maps and Sets are written
// with JSON.stringify rules and no placeholders, as JS does. See the package
// documentation for the conversion of Go types.
func AppendValue(dst []byte, v any, opts *EncodeOptions) ([]byte, error) {
	if opts == nil {
		opts = &EncodeOptions{}
	}
	e := encoder{opts: opts, payload: true, max: opts.MaxDepth}
	if e.max <= 0 {
		e.max = DefaultMaxDepth
	}
	return e.value(dst, v)
}

// AppendValues appends vs as one payload array, exactly as
// AppendValue(dst, vs, opts) does, without converting the slice to an
// interface (an APPLY's argument list, call after call).
func AppendValues(dst []byte, vs []any, opts *EncodeOptions) ([]byte, error) {
	if opts == nil {
		opts = &EncodeOptions{}
	}
	e := encoder{opts: opts, payload: true, max: opts.MaxDepth}
	if e.max <= 0 {
		e.max = DefaultMaxDepth
	}
	return e.anys(dst, vs)
}

// AppendJSON appends v as JavaScript's JSON.stringify writes it, with no
// placeholders: Undefined and functions are left out of objects and become
// null in arrays, *Map and *Set become {}, and *big.Int is an error (JS
// throws a TypeError). Handshake metadata and errors use this form.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	e := encoder{opts: &EncodeOptions{}, max: DefaultMaxDepth}
	if isUndefinedLike(reflect.ValueOf(v)) {
		return dst, errcode.New(errcode.ProtocolError, "undefined has no JSON text")
	}
	return e.value(dst, v)
}

// MarshalValue is AppendValue into a new slice.
func MarshalValue(v any, opts *EncodeOptions) ([]byte, error) { return AppendValue(nil, v, opts) }

func (e *encoder) fail(msg string) error {
	return errcode.New(errcode.ProtocolError, "Nexus serialization error: "+msg)
}

func (e *encoder) anys(dst []byte, x []any) ([]byte, error) {
	if err := e.enter(); err != nil {
		return dst, err
	}
	dst = append(dst, '[')
	var err error
	for i, v := range x {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = e.elem(dst, v); err != nil {
			return dst, err
		}
	}
	e.depth--
	return append(dst, ']'), nil
}

func (e *encoder) value(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return e.appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float64:
		return compat.AppendNumber(dst, x), nil
	case int:
		return compat.AppendNumber(dst, float64(x)), nil
	case int64:
		return compat.AppendNumber(dst, float64(x)), nil
	case []any:
		return e.anys(dst, x)
	case *Object:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return e.object(dst, x.keys, func(i int) any { return x.vals[i] }, len(x.keys))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, jsKeyOrder)
		return e.object(dst, keys, func(i int) any { return x[keys[i]] }, len(keys))
	case Undefined:
		if !e.payload {
			return append(dst, "null"...), nil // only reached inside arrays
		}
		return append(dst, `"\u0003U"`...), nil
	case Ref:
		if !e.payload {
			return append(dst, "null"...), nil // only reached inside arrays
		}
		return e.placeholder(dst, "R:", x.ID), nil
	case *big.Int:
		if x == nil {
			return append(dst, "null"...), nil
		}
		if !e.payload {
			return dst, e.fail("Do not know how to serialize a BigInt")
		}
		return e.placeholder(dst, "N:", x.String()), nil
	case *Map:
		if x == nil {
			return append(dst, "null"...), nil
		}
		if !e.payload {
			return append(dst, "{}"...), nil
		}
		inner, err := e.plain(func(p *encoder, b []byte) ([]byte, error) {
			return p.array(b, x.Len(), func(b []byte, i int) ([]byte, error) {
				k, val := x.At(i)
				return p.array(b, 2, func(b []byte, j int) ([]byte, error) {
					if j == 0 {
						return p.elem(b, k)
					}
					return p.elem(b, val)
				})
			})
		})
		if err != nil {
			return dst, err
		}
		return e.placeholder(dst, "M:", string(inner)), nil
	case *Set:
		if x == nil {
			return append(dst, "null"...), nil
		}
		if !e.payload {
			return append(dst, "{}"...), nil
		}
		inner, err := e.plain(func(p *encoder, b []byte) ([]byte, error) {
			return p.array(b, x.Len(), func(b []byte, i int) ([]byte, error) { return p.elem(b, x.At(i)) })
		})
		if err != nil {
			return dst, err
		}
		return e.placeholder(dst, "S:", string(inner)), nil
	case Raw:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return append(dst, x...), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return dst, e.fail("invalid json.Number " + strconv.Quote(string(x)))
		}
		return compat.AppendNumber(dst, f), nil
	}
	return e.reflectValue(dst, reflect.ValueOf(v))
}

func (e *encoder) appendString(dst []byte, s string) []byte {
	if len(s) > 1024 {
		dst = slices.Grow(dst, len(s)+8) // one allocation for a big string
	}
	if e.payload && len(s) > 0 && (s[0] == PlaceholderPrefix || s[0] == EscapePrefix) {
		// "\u0004" + s: AppendString writes the U+0004 prefix as \u0004.
		return compat.AppendString(dst, "\x04"+s)
	}
	return compat.AppendString(dst, s)
}

func (e *encoder) placeholder(dst []byte, kind, payload string) []byte {
	return compat.AppendString(dst, "\x03"+kind+payload)
}

// plain runs f with a JSON.stringify-mode encoder and returns its output.
func (e *encoder) plain(f func(p *encoder, b []byte) ([]byte, error)) ([]byte, error) {
	p := encoder{opts: e.opts, max: e.max, depth: e.depth}
	return f(&p, nil)
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > e.max {
		return e.fail("value nested deeper than " + strconv.Itoa(e.max) + " levels (or cyclic)")
	}
	return nil
}

func (e *encoder) array(dst []byte, n int, item func([]byte, int) ([]byte, error)) ([]byte, error) {
	if err := e.enter(); err != nil {
		return dst, err
	}
	dst = append(dst, '[')
	var err error
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = item(dst, i); err != nil {
			return dst, err
		}
	}
	e.depth--
	return append(dst, ']'), nil
}

// elem writes an array element: in JSON.stringify mode undefined and
// functions become null.
func (e *encoder) elem(dst []byte, v any) ([]byte, error) {
	if !e.payload && isUndefinedLike(reflect.ValueOf(v)) {
		return append(dst, "null"...), nil
	}
	return e.value(dst, v)
}

func (e *encoder) object(dst []byte, keys []string, val func(int) any, n int) ([]byte, error) {
	if err := e.enter(); err != nil {
		return dst, err
	}
	dst = append(dst, '{')
	first := true
	var err error
	for i := 0; i < n; i++ {
		v := val(i)
		if !e.payload && isUndefinedLike(reflect.ValueOf(v)) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = compat.AppendString(dst, keys[i])
		dst = append(dst, ':')
		if dst, err = e.value(dst, v); err != nil {
			return dst, err
		}
	}
	e.depth--
	return append(dst, '}'), nil
}

var (
	resourceType      = reflect.TypeFor[Resource]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	undefinedType     = reflect.TypeFor[Undefined]()
	refType           = reflect.TypeFor[Ref]()
)

// isUndefinedLike reports whether JSON.stringify would skip v in an object
// (and write null in an array): undefined, functions, and resources (JS
// proxies are functions).
func isUndefinedLike(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	t := v.Type()
	return t == undefinedType || t == refType || t.Kind() == reflect.Func || t.Implements(resourceType)
}

func (e *encoder) resource(dst []byte, v reflect.Value) ([]byte, error) {
	if !e.payload {
		return append(dst, "null"...), nil
	}
	if e.opts.Resource == nil {
		return dst, e.fail("cannot encode " + v.Type().String() + " without a session to register it as a resource")
	}
	id, err := e.opts.Resource(v.Interface())
	if err != nil {
		return dst, err
	}
	return e.placeholder(dst, "R:", id), nil
}

func (e *encoder) reflectValue(dst []byte, v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return append(dst, "null"...), nil
	}
	t := v.Type()
	if t.Kind() == reflect.Func {
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.resource(dst, v)
	}
	if t.Implements(resourceType) {
		if (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && v.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.resource(dst, v)
	}
	if t.Implements(marshalerType) {
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return append(dst, "null"...), nil
		}
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return dst, errcode.Wrap(errcode.ProtocolError, "MarshalJSON of "+t.String()+" failed", err)
		}
		// Re-read and re-write so the text is JSON.stringify-exact.
		sc := scanner{data: b, maxDepth: e.max}
		val, err := sc.value(false)
		if err == nil {
			sc.ws()
			if sc.pos != len(b) {
				err = sc.errorf("unexpected data after the value")
			}
		}
		if err != nil {
			return dst, errcode.Wrap(errcode.ProtocolError, "MarshalJSON of "+t.String()+" returned invalid JSON", err)
		}
		p := encoder{opts: e.opts, max: e.max, depth: e.depth}
		return p.value(dst, val)
	}
	if t.Implements(textMarshalerType) {
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return append(dst, "null"...), nil
		}
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return dst, errcode.Wrap(errcode.ProtocolError, "MarshalText of "+t.String()+" failed", err)
		}
		return e.appendString(dst, string(b)), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return compat.AppendNumber(dst, float64(v.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return compat.AppendNumber(dst, float64(v.Uint())), nil
	case reflect.Float32:
		// The JS number a user means by a float32 is its shortest decimal.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		return compat.AppendNumber(dst, f), nil
	case reflect.Float64:
		return compat.AppendNumber(dst, v.Float()), nil
	case reflect.String:
		return e.appendString(dst, v.String()), nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if err := e.enter(); err != nil {
			return dst, err
		}
		dst, err := e.value(dst, v.Elem().Interface())
		e.depth--
		return dst, err
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) {
			// Like encoding/json: bytes travel as a base64 string.
			return compat.AppendString(dst, base64.StdEncoding.EncodeToString(v.Bytes())), nil
		}
		fallthrough
	case reflect.Array:
		return e.array(dst, v.Len(), func(b []byte, i int) ([]byte, error) { return e.elem(b, v.Index(i).Interface()) })
	case reflect.Map:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		keys := make([]string, 0, v.Len())
		vals := make([]any, 0, v.Len())
		type pair struct {
			k string
			v any
		}
		pairs := make([]pair, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := mapKeyString(it.Key())
			if err != nil {
				return dst, err
			}
			pairs = append(pairs, pair{k, it.Value().Interface()})
		}
		slices.SortFunc(pairs, func(a, b pair) int { return jsKeyOrder(a.k, b.k) })
		for _, p := range pairs {
			keys = append(keys, p.k)
			vals = append(vals, p.v)
		}
		return e.object(dst, keys, func(i int) any { return vals[i] }, len(keys))
	case reflect.Struct:
		fields := StructFields(t)
		keys := make([]string, 0, len(fields))
		vals := make([]any, 0, len(fields))
		for _, f := range fields {
			fv, ok := f.Value(v)
			if !ok {
				continue
			}
			keys = append(keys, f.Name)
			vals = append(vals, fv.Interface())
		}
		return e.object(dst, keys, func(i int) any { return vals[i] }, len(keys))
	}
	return dst, e.fail("Unsupported type \"" + t.String() + "\"")
}

// jsKeyOrder orders Go map keys as a JS object built from them enumerates:
// array indexes first by value, then the other keys (sorted, since a Go map
// has no insertion order).
func jsKeyOrder(a, b string) int {
	na, ia := compat.IsArrayIndex(a)
	nb, ib := compat.IsArrayIndex(b)
	switch {
	case ia && ib:
		return cmp.Compare(na, nb)
	case ia:
		return -1
	case ib:
		return 1
	}
	return strings.Compare(a, b)
}

func mapKeyString(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.Type().Implements(textMarshalerType) {
		b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", errcode.New(errcode.ProtocolError, "Nexus serialization error: unsupported map key type "+k.Type().String())
}
