// Package vectors loads the golden vectors that node-fixtures/vectors
// generates from the real JS packages into compat/testdata, and converts
// their value descriptions into nexus-go values. It is used by tests only.
package vectors

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"runtime"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Dir returns the absolute path of compat/testdata.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "compat", "testdata")
}

// File is one vector file.
type File struct {
	Generator string            `json:"generator"`
	Cases     []json.RawMessage `json:"cases"`
}

// Load reads the cases of a vector file into out (a pointer to a slice).
func Load(name string, out any) error {
	b, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		return err
	}
	var f struct {
		Cases json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return json.Unmarshal(f.Cases, out)
}

// Desc is a tagged description of a JS value (see compat/testdata/FORMAT.md).
type Desc struct {
	T   string          `json:"t"`
	V   json.RawMessage `json:"v"`
	U16 []uint16        `json:"u16"`
}

// Float decodes the 16 hex digits of a number's IEEE-754 bits.
func Float(bits string) (float64, error) {
	b, err := hex.DecodeString(bits)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("bad number bits %q", bits)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// ErrNotGo is returned by Build for values with no Go equivalent.
var ErrNotGo = fmt.Errorf("value has no Go equivalent")

// Build converts a description into the Go value nexus-go uses for it.
func Build(d Desc) (any, error) {
	switch d.T {
	case "undefined":
		return protocol.Undefined{}, nil
	case "null":
		return nil, nil
	case "bool":
		var b bool
		err := json.Unmarshal(d.V, &b)
		return b, err
	case "number":
		var s string
		if err := json.Unmarshal(d.V, &s); err != nil {
			return nil, err
		}
		return Float(s)
	case "string":
		if d.U16 != nil {
			return compat.FromUTF16(d.U16), nil
		}
		var s string
		err := json.Unmarshal(d.V, &s)
		return s, err
	case "bigint":
		var s string
		if err := json.Unmarshal(d.V, &s); err != nil {
			return nil, err
		}
		v, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("bad bigint %q", s)
		}
		return v, nil
	case "ref":
		var s string
		err := json.Unmarshal(d.V, &s)
		return protocol.Ref{ID: s}, err
	case "array", "set":
		var items []Desc
		if err := json.Unmarshal(d.V, &items); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			v, err := Build(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if d.T == "set" {
			return protocol.NewSet(out...), nil
		}
		return out, nil
	case "object":
		var members [][2]json.RawMessage
		if err := json.Unmarshal(d.V, &members); err != nil {
			return nil, err
		}
		o := &protocol.Object{}
		for _, m := range members {
			var k string
			if err := json.Unmarshal(m[0], &k); err != nil {
				return nil, err
			}
			var vd Desc
			if err := json.Unmarshal(m[1], &vd); err != nil {
				return nil, err
			}
			v, err := Build(vd)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		return o, nil
	case "map":
		var entries [][2]Desc
		if err := json.Unmarshal(d.V, &entries); err != nil {
			return nil, err
		}
		m := &protocol.Map{}
		for _, e := range entries {
			k, err := Build(e[0])
			if err != nil {
				return nil, err
			}
			v, err := Build(e[1])
			if err != nil {
				return nil, err
			}
			m.Set(k, v)
		}
		return m, nil
	case "function", "date":
		return nil, ErrNotGo
	}
	return nil, fmt.Errorf("unknown value description %q", d.T)
}

// Equal reports whether two nexus-go values are the same JS value: numbers
// by bits, objects with keys in the same order, Maps and Sets in the same
// order.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case string, bool, protocol.Undefined, protocol.Ref:
		return a == b
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *protocol.Object:
		y, ok := b.(*protocol.Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := 0; i < x.Len(); i++ {
			k1, v1 := x.At(i)
			k2, v2 := y.At(i)
			if k1 != k2 || !Equal(v1, v2) {
				return false
			}
		}
		return true
	case *protocol.Map:
		y, ok := b.(*protocol.Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := 0; i < x.Len(); i++ {
			k1, v1 := x.At(i)
			k2, v2 := y.At(i)
			if !Equal(k1, k2) || !Equal(v1, v2) {
				return false
			}
		}
		return true
	case *protocol.Set:
		y, ok := b.(*protocol.Set)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := 0; i < x.Len(); i++ {
			if !Equal(x.At(i), y.At(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// Show formats a value for test failure messages.
func Show(v any) string {
	b, err := protocol.MarshalValue(v, nil)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
