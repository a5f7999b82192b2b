package compat_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"

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

func TestVectorAddresses(t *testing.T) {
	type target struct {
		Context  string  `json:"context"`
		AppID    *string `json:"appId"`
		Instance *string `json:"instance"`
	}
	var cases []struct {
		Name     string            `json:"name"`
		Kind     string            `json:"kind"`
		Target   target            `json:"target"`
		Env      map[string]string `json:"env"`
		UID      int               `json:"uid"`
		Address  map[string]any    `json:"address"`
		Resolver struct {
			T string `json:"t"`
			V any    `json:"v"`
		} `json:"resolver"`
		OK      string `json:"ok"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := vectors.Load("addresses.json", &cases); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range cases {
		var got string
		var err error
		resolveDefault := func() (string, error) {
			app := ""
			if c.Target.AppID != nil {
				app = *c.Target.AppID
			}
			if err := compat.CheckTarget(c.Target.Context, app); err != nil {
				return "", err
			}
			inst := compat.DefaultInstance
			if c.Target.Instance != nil {
				inst = *c.Target.Instance
			}
			uid := c.UID
			return compat.DefaultSocketPath(app, inst, compat.Env{XDGRuntimeDir: c.Env["XDG_RUNTIME_DIR"], UID: uid})
		}
		switch c.Kind {
		case "default":
			got, err = resolveDefault()
		case "explicit":
			if c.Address["kind"] != "path" {
				continue // abstract addresses are reserved: the client/daemon layers refuse them
			}
			p, isStr := c.Address["path"].(string)
			if !isStr {
				continue // a non-string path is a JS TypeError, not a Go case
			}
			got, err = compat.ValidateSocketPath(p)
		case "target":
			// Custom resolvers are the client's; here only the built-in
			// resolution and explicit paths returned by a resolver.
			switch {
			case c.Resolver.T == "none":
				got, err = resolveDefault()
			case c.Code == "E_IPC_ADDRESS_INVALID" && c.Message == "Target does not identify a node-ipc daemon":
				app := ""
				if c.Target.AppID != nil {
					app = *c.Target.AppID
				}
				err = compat.CheckTarget(c.Target.Context, app)
			case c.Resolver.T == "return" && isPathAddress(c.Resolver.V):
				p := c.Resolver.V.(map[string]any)["path"].(string)
				got, err = compat.ValidateSocketPath(p)
			default:
				continue
			}
		default:
			t.Fatalf("%s: unknown kind %q", c.Name, c.Kind)
		}
		checked++
		if c.Code != "" {
			if !errors.Is(err, errcode.Code(c.Code)) {
				t.Errorf("%s: JS %s (%s), we got %q, %v", c.Name, c.Code, c.Message, got, err)
			} else if err.(*errcode.Error).Message != c.Message {
				t.Errorf("%s: message %q, JS %q", c.Name, err.(*errcode.Error).Message, c.Message)
			}
			continue
		}
		if len(c.OK) > compat.MaxSocketPath || strings.IndexByte(c.OK, 0) >= 0 {
			// nexus-go refuses paths the kernel cannot bind (documented).
			if err == nil {
				t.Errorf("%s: accepted a path of %d bytes", c.Name, len(got))
			}
			continue
		}
		if err != nil || got != c.OK {
			t.Errorf("%s: got %q, %v; JS %q", c.Name, got, err, c.OK)
		}
	}
	if checked < 90 {
		t.Fatalf("only %d address vectors checked", checked)
	}
}

func isPathAddress(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || m["kind"] != "path" {
		return false
	}
	_, ok = m["path"].(string)
	return ok
}
