package protocol

import (
	"reflect"
	"strings"
	"sync"

	"github.com/nexus-interop/nexus-go/compat"
)

// The binding of Go struct fields to JS properties. One rule serves the
// encoder, Assign and the daemon's property access (docs/PROTOCOL.md,
// "Go names in JS"):
//
//   - a `json:"name"` tag names the property; `json:"-"` hides the field;
//     `json:",omitempty"` leaves it out when empty (encoding/json's test);
//   - otherwise the property is compat.JSName of the field (Count → count,
//     HTTPStatus → httpStatus);
//   - unexported fields are not properties; the fields of an embedded
//     struct without a tag are promoted, the shallower of two equal names
//     winning, as in encoding/json.

// StructField is one JS property of a Go struct type.
type StructField struct {
	// Name is the property's JS name.
	Name string
	// Index is the field's index sequence for reflect.Value.FieldByIndex.
	Index []int
	// OmitEmpty is set by the omitempty tag option.
	OmitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []StructField

// StructFields lists the JS properties of struct type t, in field order.
// The result is cached and must not be modified.
func StructFields(t reflect.Type) []StructField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]StructField)
	}
	var out []StructField
	seen := map[string]int{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if sf.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = compat.JSName(sf.Name)
			}
			f := StructField{Name: name, Index: idx, OmitEmpty: strings.Contains(","+opts+",", ",omitempty,")}
			if j, dup := seen[name]; dup {
				if len(out[j].Index) > len(idx) {
					out[j] = f
				}
				continue
			}
			seen[name] = len(out)
			out = append(out, f)
		}
	}
	walk(t, nil)
	fieldCache.Store(t, out)
	return out
}

// Value returns the field of struct value v, and false when it is not a
// property of v now: reached through a nil embedded pointer, or empty
// with omitempty.
func (f *StructField) Value(v reflect.Value) (reflect.Value, bool) {
	fv, ok := f.Field(v)
	if !ok || (f.OmitEmpty && isEmptyValue(fv)) {
		return reflect.Value{}, false
	}
	return fv, true
}

// Field returns the field of struct value v (settable when v is), and
// false when it is reached through a nil embedded pointer.
func (f *StructField) Field(v reflect.Value) (reflect.Value, bool) {
	for i, x := range f.Index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
