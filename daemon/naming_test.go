package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/jsonform"
)

// Inner is embedded without a tag: its fields are promoted.
type Inner struct {
	Depth int
}

// shaped has one field of each naming case.
type shaped struct {
	Count      int
	HTTPStatus int
	Label      string `json:"title"`
	Secret     string `json:"-"`
	Note       string `json:",omitempty"`
	Inner
	hidden int
}

type shapes struct {
	shaped
}

// Snapshot returns the struct by value, through the encoder.
func (s *shapes) Snapshot() shaped { return s.shaped }

// TestOneShapePerStruct: a Go struct has the same JS shape whether a
// client GETs the whole service, a method returns it, or a path names one
// of its fields (one naming rule for the encoder, the decoder and property
// access).
func TestOneShapePerStruct(t *testing.T) {
	d := start(t, daemon.Options{})
	if err := d.Provide("shapes", &shapes{shaped{Count: 1, HTTPStatus: 200, Label: "t", Secret: "s", Inner: Inner{Depth: 3}, hidden: 9}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Address{AppID: "test"}, &client.Options{SocketPath: d.Path()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	svc := c.Service("shapes")
	const want = `{"count":1,"httpStatus":200,"title":"t","depth":3}`
	form := func(r client.Result, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := jsonform.Format(r.Value())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := form(svc.Call(ctx, "snapshot")); got != want {
		t.Errorf("returned by a method: %s, want %s", got, want)
	}
	whole, err := svc.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	o := whole.Value().(interface {
		Get(string) (any, bool)
		Keys() []string
	})
	for _, k := range []string{"count", "httpStatus", "title", "depth"} {
		if _, ok := o.Get(k); !ok {
			t.Errorf("GET of the whole service has no %q: %v", k, o.Keys())
		}
	}
	for _, k := range []string{"Count", "HTTPStatus", "Label", "secret", "Secret", "note", "hidden", "Inner", "inner"} {
		if _, ok := o.Get(k); ok {
			t.Errorf("GET of the whole service has %q: %v", k, o.Keys())
		}
	}
	for path, want := range map[string]string{"count": "1", "httpStatus": "200", "title": `"t"`, "depth": "3"} {
		if got := form(svc.Get(ctx, path)); got != want {
			t.Errorf("GET %s = %s, want %s", path, got, want)
		}
	}
	if got := form(svc.Get(ctx, "Count")); got != `{"$undefined":true}` {
		t.Errorf("GET Count (the Go name) = %s, want undefined", got)
	}
	if err := svc.Set(ctx, "count", 5); err != nil {
		t.Fatal(err)
	}
	if got := form(svc.Call(ctx, "snapshot")); got != `{"count":5,"httpStatus":200,"title":"t","depth":3}` {
		t.Errorf("after SET count: %s", got)
	}
}
