package bind

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

type inner struct {
	N int `json:"n"`
}

type target struct {
	Name    string           `json:"name"`
	Count   uint8            `json:"count"`
	Ratio   float32          `json:"ratio"`
	Tags    []string         `json:"tags"`
	Inner   *inner           `json:"inner"`
	ByKey   map[string]inner `json:"byKey"`
	Numbers map[int]string   `json:"numbers"`
	Big     *big.Int         `json:"big"`
	Any     any              `json:"any"`
	When    time.Time        `json:"when"`
	Bytes   []byte           `json:"bytes"`
	Skipped string           `json:"-"`
	Lower   string           // matched case-insensitively as "lower"
	Extra   map[string]any   `json:"extra"`
	Set     []int            `json:"set"`
	Arr     [2]bool          `json:"arr"`
}

func TestAssign(t *testing.T) {
	raw := `{"name":"n","count":200,"ratio":0.5,"tags":["a","b"],"inner":{"n":3},"byKey":{"x":{"n":1}},` +
		`"numbers":{"1":"one"},"big":"\u0003N:123456789012345678901234567890","any":"\u0003U",` +
		`"when":"2020-01-02T03:04:05Z","bytes":"aGk=","lower":"yes","extra":{"k":[1]},` +
		`"set":"\u0003S:[3,4]","arr":[true],"unknown":1}`
	v, err := protocol.DecodeValue([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got target
	if err := Assign(&got, v); err != nil {
		t.Fatal(err)
	}
	if got.Name != "n" || got.Count != 200 || got.Ratio != 0.5 || len(got.Tags) != 2 || got.Inner.N != 3 ||
		got.ByKey["x"].N != 1 || got.Numbers[1] != "one" || got.Big.String() != "123456789012345678901234567890" ||
		got.Any != (protocol.Undefined{}) || got.When.Year() != 2020 || string(got.Bytes) != "hi" || got.Lower != "yes" ||
		len(got.Set) != 2 || !got.Arr[0] {
		t.Fatalf("%+v", got)
	}
	bad := map[string]any{
		`{"count":256}`:  &target{},
		`{"count":-1}`:   &target{},
		`{"count":1.5}`:  &target{},
		`{"name":1}`:     &target{},
		`{"tags":"x"}`:   &target{},
		`{"bytes":"!!"}`: &target{},
		`[1]`:            &target{},
	}
	for in, dst := range bad {
		v, err := protocol.DecodeValue([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if err := Assign(dst, v); !errors.Is(err, errcode.ProtocolError) {
			t.Errorf("%s: got %v", in, err)
		}
	}
	if err := Assign(target{}, nil); !errors.Is(err, errcode.UsageInvalid) {
		t.Errorf("non-pointer: %v", err)
	}
	var n int
	if err := Assign(&n, big.NewInt(7)); err != nil || n != 7 {
		t.Errorf("bigint to int: %d %v", n, err)
	}
	var m map[any]any
	if err := Assign(&m, protocol.NewMap(1.0, "a")); err != nil || m[1.0] != "a" {
		t.Errorf("Map: %v %v", m, err)
	}
}
