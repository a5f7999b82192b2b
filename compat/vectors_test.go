package compat_test

import (
	"math"
	"testing"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/internal/vectors"
)

func TestVectorNumbers(t *testing.T) {
	var cases []struct {
		Bits string `json:"bits"`
		JSON string `json:"json"`
	}
	if err := vectors.Load("numbers.json", &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d number vectors", len(cases))
	}
	for _, c := range cases {
		f, err := vectors.Float(c.Bits)
		if err != nil {
			t.Fatal(err)
		}
		if got := compat.FormatNumber(f); got != c.JSON {
			t.Errorf("%s (%v): got %s, JS wrote %s", c.Bits, f, got, c.JSON)
		}
		if c.JSON == "null" {
			continue
		}
		back := compat.ParseNumber([]byte(c.JSON))
		if f == 0 {
			f = 0 // JSON.stringify writes -0 as 0
		}
		if math.Float64bits(back) != math.Float64bits(f) {
			t.Errorf("%s: parsing %s gave %v", c.Bits, c.JSON, back)
		}
	}
}

func TestVectorStrings(t *testing.T) {
	var cases []struct {
		S    vectors.Desc `json:"s"`
		JSON string       `json:"json"`
	}
	if err := vectors.Load("strings.json", &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 300 {
		t.Fatalf("only %d string vectors", len(cases))
	}
	for i, c := range cases {
		v, err := vectors.Build(c.S)
		if err != nil {
			t.Fatal(err)
		}
		s := v.(string)
		if got := string(compat.AppendString(nil, s)); got != c.JSON {
			t.Errorf("case %d %q: got %s, JS wrote %s", i, s, got, c.JSON)
		}
		body := []byte(c.JSON[1 : len(c.JSON)-1])
		back, err := compat.AppendUnquoted(nil, body)
		if err != nil || string(back) != s {
			t.Errorf("case %d: unquoting %s gave %q, %v", i, c.JSON, back, err)
		}
	}
}
