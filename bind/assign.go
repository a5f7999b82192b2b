package bind

import (
	"encoding"
	"encoding/base64"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Assign stores a decoded payload value (as protocol.DecodeValue returns it) into
// dst, which must be a non-nil pointer. Conversions:
//   - *any receives the value as is;
//   - numbers go to any integer type if they are integral and in range, and
//     to float types; *big.Int accepts a protocol.BigInt or an integral number;
//   - strings go to strings, to encoding.TextUnmarshaler, and to []byte as
//     base64 (the inverse of the encoder);
//   - arrays go to slices and arrays; a *protocol.Set also fills a slice;
//   - objects go to structs (each key to the field of that JS name, see
//     protocol.StructFields, else case-insensitively, as encoding/json matches)
//     and to maps with string keys; a *protocol.Map fills any Go map whose key
//     type it converts to;
//   - null and undefined leave dst's zero value (nil for pointers).
//
// A value that does not fit is an E_PROTOCOL_ERROR naming the Go type.
func Assign(dst any, v any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errcode.New(errcode.UsageInvalid, "Assign needs a non-nil pointer")
	}
	return assign(rv.Elem(), v, 0)
}

var (
	bigIntType          = reflect.TypeFor[*big.Int]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	anyType             = reflect.TypeFor[any]()
)

func assignErr(t reflect.Type, v any) error {
	return errcode.New(errcode.ProtocolError, "cannot assign "+describe(v)+" to Go type "+t.String())
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *protocol.Object:
		return "an object"
	case protocol.Undefined:
		return "undefined"
	case *protocol.Map:
		return "a protocol.Map"
	case *protocol.Set:
		return "a protocol.Set"
	case *big.Int:
		return "a protocol.BigInt"
	case protocol.Ref:
		return "a resource reference"
	}
	return reflect.TypeOf(v).String()
}

func assign(dst reflect.Value, v any, depth int) error {
	if depth > protocol.DefaultMaxDepth {
		return errcode.New(errcode.ProtocolError, "value nested too deeply")
	}
	t := dst.Type()
	if t == anyType || (t.Kind() == reflect.Interface && reflect.TypeOf(v) != nil && reflect.TypeOf(v).Implements(t)) {
		if v == nil {
			dst.SetZero()
		} else {
			dst.Set(reflect.ValueOf(v))
		}
		return nil
	}
	if v == nil {
		dst.SetZero()
		return nil
	}
	if _, ok := v.(protocol.Undefined); ok {
		dst.SetZero()
		return nil
	}
	if t == bigIntType {
		switch x := v.(type) {
		case *big.Int:
			dst.Set(reflect.ValueOf(new(big.Int).Set(x)))
			return nil
		case float64:
			if x == math.Trunc(x) && !math.IsInf(x, 0) {
				b, _ := new(big.Float).SetFloat64(x).Int(nil)
				dst.Set(reflect.ValueOf(b))
				return nil
			}
		}
		return assignErr(t, v)
	}
	if rt := reflect.TypeOf(v); rt == t {
		dst.Set(reflect.ValueOf(v))
		return nil
	}
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), v, depth+1); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	}
	if s, ok := v.(string); ok && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return errcode.Wrap(errcode.ProtocolError, "cannot assign a string to Go type "+t.String(), err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return assignErr(t, v)
		}
		dst.SetBool(b)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return assignErr(t, v)
		}
		dst.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || dst.OverflowInt(int64(f)) || math.Abs(f) > 1<<63 {
			if b, isBig := v.(*big.Int); isBig && b.IsInt64() && !dst.OverflowInt(b.Int64()) {
				dst.SetInt(b.Int64())
				return nil
			}
			return assignErr(t, v)
		}
		dst.SetInt(int64(f))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || f < 0 || f >= 1<<64 || dst.OverflowUint(uint64(f)) {
			if b, isBig := v.(*big.Int); isBig && b.IsUint64() && !dst.OverflowUint(b.Uint64()) {
				dst.SetUint(b.Uint64())
				return nil
			}
			return assignErr(t, v)
		}
		dst.SetUint(uint64(f))
	case reflect.Float32, reflect.Float64:
		f, ok := v.(float64)
		if !ok {
			return assignErr(t, v)
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if s, ok := v.(string); ok {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return errcode.Wrap(errcode.ProtocolError, "cannot assign a non-base64 string to []byte", err)
				}
				dst.SetBytes(b)
				return nil
			}
		}
		items, ok := listOf(v)
		if !ok {
			return assignErr(t, v)
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			if err := assign(s.Index(i), it, depth+1); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Array:
		items, ok := listOf(v)
		if !ok || len(items) > t.Len() {
			return assignErr(t, v)
		}
		for i, it := range items {
			if err := assign(dst.Index(i), it, depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		m := reflect.MakeMap(t)
		put := func(k, val any) error {
			kv := reflect.New(t.Key()).Elem()
			if ks, isStr := k.(string); isStr && t.Key().Kind() != reflect.String && t.Key().Kind() != reflect.Interface {
				// object keys are strings; convert for numeric key types
				if f, err := strconv.ParseFloat(ks, 64); err == nil {
					k = f
				}
			}
			if err := assign(kv, k, depth+1); err != nil {
				return err
			}
			vv := reflect.New(t.Elem()).Elem()
			if err := assign(vv, val, depth+1); err != nil {
				return err
			}
			m.SetMapIndex(kv, vv)
			return nil
		}
		switch x := v.(type) {
		case *protocol.Object:
			for i := 0; i < x.Len(); i++ {
				k, val := x.At(i)
				if err := put(k, val); err != nil {
					return err
				}
			}
		case *protocol.Map:
			for i := 0; i < x.Len(); i++ {
				k, val := x.At(i)
				if err := put(k, val); err != nil {
					return err
				}
			}
		default:
			return assignErr(t, v)
		}
		dst.Set(m)
	case reflect.Struct:
		o, ok := v.(*protocol.Object)
		if !ok {
			return assignErr(t, v)
		}
		fields := protocol.StructFields(t)
		for i := 0; i < o.Len(); i++ {
			k, val := o.At(i)
			f := matchField(fields, k)
			if f == nil {
				continue
			}
			fv := dst
			for j, x := range f.Index {
				if j > 0 && fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						fv.Set(reflect.New(fv.Type().Elem()))
					}
					fv = fv.Elem()
				}
				fv = fv.Field(x)
			}
			if err := assign(fv, val, depth+1); err != nil {
				return errcode.Wrap(errcode.ProtocolError, "field "+k, err)
			}
		}
	default:
		return assignErr(t, v)
	}
	return nil
}

func listOf(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case *protocol.Set:
		return x.Values(), true
	}
	return nil, false
}

// matchField finds the field a JS key names: by its JS name, else (as
// encoding/json does) case-insensitively, so that {"Count":1} still fills
// the field whose JS name is count.
func matchField(fields []protocol.StructField, key string) *protocol.StructField {
	for i := range fields {
		if fields[i].Name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].Name, key) {
			return &fields[i]
		}
	}
	return nil
}
