package bind_test

import (
	"testing"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/protocol"
)

type embeddedPart struct{ Depth int }

type bound struct {
	Count      int
	HTTPStatus int
	Label      string `json:"title"`
	Secret     string `json:"-"`
	Note       string `json:",omitempty"`
	embeddedPart
	hidden int
}

// TestStructBinding: the encoder and Assign name struct fields by one rule
// (json tags as encoding/json reads them, otherwise compat.JSName).
func TestStructBinding(t *testing.T) {
	in := bound{Count: 1, HTTPStatus: 200, Label: "t", Secret: "s", embeddedPart: embeddedPart{Depth: 3}, hidden: 4}
	b, err := protocol.MarshalValue(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"count":1,"httpStatus":200,"title":"t","depth":3}`; string(b) != want {
		t.Fatalf("encoded %s, want %s", b, want)
	}
	in.Note = "n"
	if b, _ = protocol.MarshalValue(in, nil); string(b) != `{"count":1,"httpStatus":200,"title":"t","note":"n","depth":3}` {
		t.Fatalf("with a note: %s", b)
	}
	v, err := protocol.DecodeJSON([]byte(`{"count":7,"httpStatus":404,"title":"x","secret":"no","note":"m","depth":9,"hidden":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bound
	if err := bind.Assign(&out, v); err != nil {
		t.Fatal(err)
	}
	if want := (bound{Count: 7, HTTPStatus: 404, Label: "x", Note: "m", embeddedPart: embeddedPart{Depth: 9}}); out != want {
		t.Fatalf("assigned %+v, want %+v", out, want)
	}
	// As encoding/json does, a key in another case still fills the field.
	v, _ = protocol.DecodeJSON([]byte(`{"Count":2,"HTTPSTATUS":500}`))
	out = bound{}
	if err := bind.Assign(&out, v); err != nil || out.Count != 2 || out.HTTPStatus != 500 {
		t.Fatalf("case-insensitive keys: %+v, %v", out, err)
	}
}
