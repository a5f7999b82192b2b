package protocol

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"sort"

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
// an empty object ready to use. Get and Set take constant time (an index is
// kept past a few keys), except that an array-index key added below a
// larger one moves the keys after it; decoding builds objects of any shape
// in O(n log n). An Object is not safe for concurrent modification.
type Object struct {
	keys  []string
	vals  []any
	nIdx  int            // keys[:nIdx] are the array-index keys
	index map[string]int // key -> position, kept once the object is not small
}

// smallObject is the size up to which lookups scan the keys instead of
// keeping an index.
const smallObject = 8

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

// find returns the position of key, or -1.
func (o *Object) find(key string) int {
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range o.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	if i := o.find(key); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// Set sets key to v, keeping the position of an existing key. A new key
// goes where JS would enumerate it: an array index ("0", "7", ...) among
// the other array indexes in ascending order, before all other keys; any
// other key at the end.
func (o *Object) Set(key string, v any) {
	if i := o.find(key); i >= 0 {
		o.vals[i] = v
		return
	}
	n, isIdx := compat.IsArrayIndex(key)
	if !isIdx {
		o.push(key, v)
		return
	}
	// The position among the array indexes: after every smaller one.
	at := o.nIdx
	if at > 0 {
		if last, _ := compat.IsArrayIndex(o.keys[at-1]); last > n {
			at = sort.Search(at, func(i int) bool {
				m, _ := compat.IsArrayIndex(o.keys[i])
				return m > n
			})
		}
	}
	o.nIdx++
	if at == len(o.keys) {
		o.push(key, v)
		return
	}
	o.keys = slices.Insert(o.keys, at, key)
	o.vals = slices.Insert(o.vals, at, v)
	if o.index != nil {
		for i := at; i < len(o.keys); i++ {
			o.index[o.keys[i]] = i
		}
	}
}

// push appends a key known to be new.
func (o *Object) push(key string, v any) {
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
	switch {
	case o.index != nil:
		o.index[key] = len(o.keys) - 1
	case len(o.keys) > smallObject:
		o.reindex()
	}
}

// reindex rebuilds the index, or drops it for a small object.
func (o *Object) reindex() {
	if len(o.keys) <= smallObject {
		o.index = nil
		return
	}
	o.index = make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		o.index[k] = i
	}
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	if i < o.nIdx {
		o.nIdx--
	}
	o.keys = slices.Delete(o.keys, i, i+1)
	o.vals = slices.Delete(o.vals, i, i+1)
	if o.index != nil {
		o.reindex()
	}
}

// objectBuilder collects the members of a JSON object in text order and
// orders them once at the end, so that decoding takes O(n log n) for any
// order of keys (Set would move keys for each array index that arrives
// below a larger one).
type objectBuilder struct {
	o      Object
	sorted bool // no array index has followed another key it must precede
}

func newObjectBuilder() objectBuilder { return objectBuilder{sorted: true} }

// add records a member; a repeated key keeps its first position and takes
// the last value, as JSON.parse does.
func (b *objectBuilder) add(key string, v any) {
	o := &b.o
	if i := o.find(key); i >= 0 {
		o.vals[i] = v
		return
	}
	if n, isIdx := compat.IsArrayIndex(key); isIdx && b.sorted {
		if o.nIdx != len(o.keys) {
			b.sorted = false // an array index after another key
		} else if o.nIdx > 0 {
			if last, _ := compat.IsArrayIndex(o.keys[o.nIdx-1]); last > n {
				b.sorted = false
			}
		}
		if b.sorted {
			o.nIdx++
		}
	}
	o.push(key, v)
}

// finish returns the object in JS enumeration order.
func (b *objectBuilder) finish() *Object {
	o := &b.o
	if b.sorted {
		return o
	}
	type member struct {
		n   uint32 // the array index, for array-index keys
		idx bool
		k   string
		v   any
	}
	ms := make([]member, len(o.keys))
	for i, k := range o.keys {
		n, isIdx := compat.IsArrayIndex(k)
		ms[i] = member{n, isIdx, k, o.vals[i]}
	}
	slices.SortStableFunc(ms, func(a, b member) int {
		switch {
		case a.idx && b.idx:
			return cmp.Compare(a.n, b.n)
		case a.idx:
			return -1
		case b.idx:
			return 1
		}
		return 0
	})
	o.nIdx = 0
	for i, m := range ms {
		o.keys[i], o.vals[i] = m.k, m.v
		if m.idx {
			o.nIdx++
		}
	}
	if o.index != nil {
		o.reindex()
	}
	return o
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
