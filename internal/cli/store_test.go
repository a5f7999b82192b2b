package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/demo"
	"github.com/nexus-interop/nexus-go/protocol"
)

func TestDiffState(t *testing.T) {
	obj := func(kv ...any) *protocol.Object { return protocol.NewObject(kv...) }
	for _, c := range []struct {
		prev, next any
		want       string
	}{
		{obj("count", 2.0, "label", "demo"), obj("count", 5.0, "label", "demo"), `count: 2 → 5`},
		{obj("count", 2.0, "label", "demo"), obj("count", 2.0, "label", "x"), `label: "demo" → "x"`},
		{obj("a", 1.0), obj("a", 1.0, "b c", []any{1.0}), `"b c": (absent) → [1]`},
		{obj("a", 1.0, "b", true), obj("a", 1.0), `b: true → (absent)`},
		{obj("m", protocol.NewMap("k", 1.0)), obj("m", protocol.NewMap("k", 2.0)), `m: Map(1) {"k" => 1} → Map(1) {"k" => 2}`},
		{obj("a", 1.0), obj("a", 1.0), ``},
		{1.0, "x", `1 → "x"`},
	} {
		if got := strings.Join(diffState(c.prev, c.next), "; "); got != c.want {
			t.Errorf("diffState(%s, %s) = %q, want %q", pretty(c.prev), pretty(c.next), got, c.want)
		}
	}
}

// TestStateDeliveries decodes frames as a store sends them (taken from a
// monitor of the Go daemon's demo-store) and checks the monitor's label.
func TestStateDeliveries(t *testing.T) {
	for _, c := range []struct{ frame, typ, text, state string }{
		{`[3,1,"res-1",[],[{"type":"init","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","version":0,"state":{"count":0,"label":"demo","s":"\u0003S:[1]"},"actions":{"increment":"\u0003R:res-5","rename":"\u0003R:res-6","fail":"\u0003R:res-7"},"unsubscribe":"\u0003R:res-8"}]]`,
			"STATE", `id=1 init store=ee683e31 v0 state={count: 0, label: "demo", s: Set(1) {1}} actions=increment,rename,fail`,
			`{"type":"init","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","version":0,"state":{"count":0,"label":"demo","s":{"$set":[1]}},"actions":["increment","rename","fail"]}`},
		{`[3,2,"res-1",[],[{"type":"snapshot","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","version":3,"state":{"count":5,"label":"demo"}}]]`,
			"STATE", `id=2 snapshot v3 state={count: 5, label: "demo"}`,
			`{"type":"snapshot","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","version":3,"state":{"count":5,"label":"demo"}}`},
		{`[3,3,"res-1",[],[{"type":"terminal","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","lastKnownVersion":3,"reason":"provider-shutdown","error":{"code":"E_STORE_DISCONNECTED"}}]]`,
			"STATE", `id=3 terminal v3 reason=provider-shutdown`,
			`{"type":"terminal","storeInstanceId":"ee683e31-e1ca-4b43-b1a7-655971cefbd8","version":3,"reason":"provider-shutdown"}`},
		// Not deliveries: a service call, no storeInstanceId, two arguments.
		{`[3,4,null,["demo","echo"],[{"type":"init","storeInstanceId":"x"}]]`, "APPLY", `id=4 demo.echo({type: "init", storeInstanceId: "x"})`, ""},
		{`[3,5,"res-1",[],[{"type":"init"}]]`, "APPLY", `id=5 res-1({type: "init"})`, ""},
		{`[3,6,"res-1",[],[{"type":"snapshot","storeInstanceId":"x"},1]]`, "APPLY", `id=6 res-1({type: "snapshot", storeInstanceId: "x"}, 1)`, ""},
	} {
		var out bytes.Buffer
		for _, json := range []bool{false, true} {
			p := &printer{w: &out, json: json}
			st := &stream{p: p, conn: 1, dir: "S>C", started: true}
			st.frame([]byte(c.frame))
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: printed %q", c.frame, out.String())
		}
		if want := "#1 S>C " + c.typ + strings.Repeat(" ", 18-len(c.typ)) + " " + c.text; lines[0] != want {
			t.Errorf("text:\n got %s\nwant %s", lines[0], want)
		}
		v, err := protocol.DecodeJSON([]byte(lines[1]))
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*protocol.Object)
		if typ, _ := o.Get("type"); typ != c.typ {
			t.Errorf("%s: --json type %v, want %s", c.frame, typ, c.typ)
		}
		got := ""
		if s, ok := o.Get("state"); ok {
			b, _ := protocol.AppendJSON(nil, s)
			got = string(b)
		}
		if got != c.state {
			t.Errorf("--json state:\n got %s\nwant %s", got, c.state)
		}
	}
}

// TestStoreAndWatch runs store and watch in-process against serve's demo
// store.
func TestStoreAndWatch(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "d.sock")
	d, err := daemon.New(&daemon.Options{AppID: "st", SocketPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	store := demo.NewStore(nil)
	d.Provide(demo.StoreToken, store.Service())
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Run(append(args, "--socket", sock), strings.NewReader(""), &out, &errb); code != want {
			t.Fatalf("%v: status %d, want %d; stderr:\n%s", args, code, want, errb.String())
		}
		return out.String() + errb.String()
	}
	if got := run(0, "store", "demo-store"); got != `{"count":0,"label":"demo"}`+"\n" {
		t.Errorf("store: %q", got)
	}

	ready := filepath.Join(dir, "ready")
	type result struct {
		code     int
		out, err string
	}
	// waitReady waits for watch's --ready-file.
	waitReady := func() {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("watch never became ready")
			}
		}
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		// watch cancels the --timeout context once subscribed: the
		// deliveries that follow show it is not bound by it.
		code := Run([]string{"watch", "--socket", sock, "demo-store", "--count", "3", "--ready-file", ready, "--timeout", "5s"}, nil, &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	waitReady()
	if got := run(0, "store", "demo-store", "increment", "2"); got != "2\n" {
		t.Errorf("increment: %q", got)
	}
	if got := run(0, "store", "demo-store", "rename", `"x"`); got != "\"x\"\n" {
		t.Errorf("rename: %q", got)
	}
	if got := run(1, "store", "demo-store", "fail"); got != "remote error E_STORE_ACTION: Store action failed: demo failure\n  caused by E_DEMO: demo failure\n" {
		t.Errorf("fail: %q", got)
	}
	r := <-done
	const want = "v0  {count: 0, label: \"demo\"}  (actions: fail, increment, rename)\nv1  count: 0 → 2\nv2  label: \"demo\" → \"x\"\n"
	if r.code != 0 || r.out != want || r.err != "" {
		t.Errorf("watch: status %d\n%s\nstderr: %s\nwant:\n%s", r.code, r.out, r.err, want)
	}

	// Closing the store ends a --json watch with a terminal line, status 1.
	os.Remove(ready)
	go func() {
		var out, errb bytes.Buffer
		code := Run([]string{"watch", "--json", "--socket", sock, "demo-store", "--ready-file", ready}, nil, &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	waitReady()
	store.Close()
	r = <-done
	const wantJSON = `{"type":"init","version":2,"state":{"count":2,"label":"x"}}` + "\n" + `{"type":"terminal","version":2,"reason":"provider-shutdown"}` + "\n"
	if r.code != 1 || r.out != wantJSON || r.err != "" {
		t.Errorf("watch --json: status %d\n%s\nstderr: %s\nwant:\n%s", r.code, r.out, r.err, wantJSON)
	}
	if got := run(1, "store", "demo-store"); !strings.HasPrefix(got, "remote error E_STORE_PROTOCOL: Store subscribe failed.\n  caused by E_STORE_DISCONNECTED: ") {
		t.Errorf("store after Close: %q", got)
	}
	if got := run(64, "store"); !strings.Contains(got, "wrong number of arguments") {
		t.Errorf("store without STORE: %q", got)
	}
	if got := run(64, "watch", "a", "b"); !strings.Contains(got, "wrong number of arguments") {
		t.Errorf("watch with two: %q", got)
	}
	if got := run(64, "store", "demo-store", "increment", "two"); !strings.Contains(got, `argument 1 "two" is not valid JSON`) {
		t.Errorf("store with a bad ARG: %q", got)
	}
}
