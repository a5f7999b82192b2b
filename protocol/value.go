package protocol

import (
	"math"
	"math/big"
	"slices"

	"github.com/nexus-interop/nexus-go/compat"
)

// Undefined is JavaScript's undefined. It travels as the placeholder
// "\u0003U". Use the value Undefined{}.
type Undefined struct{}

// Ref is a resource reference: a remote function or nexus.ref object that
// travels as "\u0003R:<ID>". The session layer turns it into something
// callable; at this layer it is only the id.
type Ref struct {
	// ID is the owner's resource id, such as "res-3".
	ID string
}

// Object is a plain JS object: string keys with values, always in JS
// enumeration order: array-index keys ("0", "1", ...) first in ascending
// numeric order, then the other keys in insertion order. The zero value is
// an empty object ready to use.
type Object struct {
	keys []string
	vals []any
}

// NewObject returns an object with the given key/value pairs, in order.
// It panics if kv has an odd length or a key that is not a string.
func NewObject(kv ...any) *Object {
	if len(kv)%2 != 0 {
		panic("protocol.NewObject: odd number of arguments")
	}
	o := &Object{}
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// Keys returns the keys in order. The slice must not be modified.
func (o *Object) Keys() []string { return o.keys }

// At returns the i-th key and value.
func (o *Object) At(i int) (string, any) { return o.keys[i], o.vals[i] }

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i], true
		}
	}
	return nil, false
}

// Set sets key to v, keeping the position of an existing key. A new key
// goes where JS would enumerate it: an array index ("0", "7", ...) among
// the other array indexes in ascending order, before all other keys; any
// other key at the end.
func (o *Object) Set(key string, v any) {
	for i, k := range o.keys {
		if k == key {
			o.vals[i] = v
			return
		}
	}
	if n, ok := compat.IsArrayIndex(key); ok {
		at := 0
		for at < len(o.keys) {
			m, isIdx := compat.IsArrayIndex(o.keys[at])
			if !isIdx || m > n {
				break
			}
			at++
		}
		o.keys = slices.Insert(o.keys, at, key)
		o.vals = slices.Insert(o.vals, at, v)
		return
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			o.vals = append(o.vals[:i], o.vals[i+1:]...)
			return
		}
	}
}

// Map is a JS Map: entries in insertion order with keys of any type. Keys
// that are primitives (nil, bool, numbers, strings, Undefined, *big.Int)
// compare with JS SameValueZero (so 1 and 1.0 are one key, NaN equals NaN,
// -0 equals 0); other keys compare by identity, as objects do in JS. The
// zero value is an empty map ready to use.
type Map struct {
	keys  []any
	vals  []any
	index map[any]int
}

// NewMap returns a map with the given key/value pairs, in order.
func NewMap(kv ...any) *Map {
	if len(kv)%2 != 0 {
		panic("protocol.NewMap: odd number of arguments")
	}
	m := &Map{}
	for i := 0; i < len(kv); i += 2 {
		m.Set(kv[i], kv[i+1])
	}
	return m
}

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// At returns the i-th entry.
func (m *Map) At(i int) (key, value any) { return m.keys[i], m.vals[i] }

// Get returns the value for key and whether it is present.
func (m *Map) Get(key any) (any, bool) {
	if i := m.find(key); i >= 0 {
		return m.vals[i], true
	}
	return nil, false
}

// Set sets the value for key, appending a new entry if key is absent.
func (m *Map) Set(key, v any) {
	if i := m.find(key); i >= 0 {
		m.vals[i] = v
		return
	}
	if k, ok := sameValueKey(key); ok {
		if m.index == nil {
			m.index = make(map[any]int)
		}
		m.index[k] = len(m.keys)
	}
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, v)
}

func (m *Map) find(key any) int {
	if k, ok := sameValueKey(key); ok {
		if i, ok := m.index[k]; ok {
			return i
		}
		return -1
	}
	for i, k := range m.keys {
		if sameIdentity(k, key) {
			return i
		}
	}
	return -1
}

// Set is a JS Set: values in insertion order, unique under the same rules as
// Map keys. The zero value is an empty set ready to use.
type Set struct{ m Map }

// NewSet returns a set of the given values, in order.
func NewSet(vs ...any) *Set {
	s := &Set{}
	for _, v := range vs {
		s.Add(v)
	}
	return s
}

// Len returns the number of values.
func (s *Set) Len() int { return len(s.m.keys) }

// At returns the i-th value.
func (s *Set) At(i int) any { return s.m.keys[i] }

// Has reports whether v is in the set.
func (s *Set) Has(v any) bool { return s.m.find(v) >= 0 }

// Add adds v if it is not in the set yet.
func (s *Set) Add(v any) {
	if s.m.find(v) < 0 {
		s.m.Set(v, nil)
	}
}

// Values returns the values in order. The slice must not be modified.
func (s *Set) Values() []any { return s.m.keys }

type (
	nullKey      struct{}
	undefinedKey struct{}
	nanKey       struct{}
	bigKey       string
)

// sameValueKey maps a primitive to a comparable key under SameValueZero.
func sameValueKey(v any) (any, bool) {
	if f, ok := toFloat(v); ok {
		if math.IsNaN(f) {
			return nanKey{}, true
		}
		if f == 0 {
			f = 0 // -0 and +0 are one key
		}
		return f, true
	}
	switch x := v.(type) {
	case nil:
		return nullKey{}, true
	case Undefined:
		return undefinedKey{}, true
	case string, bool:
		return x, true
	case *big.Int:
		if x == nil {
			return nullKey{}, true
		}
		return bigKey(x.String()), true
	}
	return nil, false
}

func sameIdentity(a, b any) bool {
	defer func() { _ = recover() }() // uncomparable dynamic types are never identical
	return a == b
}

// toFloat converts Go numeric types to the float64 a JS number would hold.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}
