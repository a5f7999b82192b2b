package jsonform

import (
	"math/big"
	"testing"

	"github.com/nexus-interop/nexus-go/protocol"
)

func TestRoundTrip(t *testing.T) {
	in := `{"m":{"$map":[[1,{"$set":["a",{"$undefined":true}]}],["k",{"$bigint":"-12345678901234567890"}]]},"s":"\u0003x","n":[1e+21,0.1,null,true]}`
	v, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*protocol.Object)
	m := protocol.Get(o, "m").(*protocol.Map)
	if k, val := m.At(1); k != "k" || val.(*big.Int).String() != "-12345678901234567890" {
		t.Fatalf("map entry %v %v", k, val)
	}
	if _, val := m.At(0); val.(*protocol.Set).At(1) != (protocol.Undefined{}) {
		t.Fatalf("set %v", val)
	}
	out, err := Format(v)
	if err != nil || string(out) != in {
		t.Fatalf("got %s, %v", out, err)
	}
}

func TestErrors(t *testing.T) {
	for _, bad := range []string{`{"$bigint":"1.5"}`, `{"$map":[1]}`, `{"$map":"x"}`, `{"$set":{}}`, `{"$ref":"res-1"}`, `{`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// An object with a tag and other keys is a plain object.
	v, err := Parse([]byte(`{"$map":1,"other":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(*protocol.Object); !ok {
		t.Fatalf("got %T", v)
	}
}
