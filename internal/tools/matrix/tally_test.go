package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestTally(t *testing.T) {
	const ts = "github.com/nexus-interop/nexus-go/testscripts"
	const cl = "github.com/nexus-interop/nexus-go/client"
	const bad = "github.com/nexus-interop/nexus-go/daemon"
	out := strings.Join([]string{
		`{"Action":"output","Package":"` + ts + `","Test":"TestCLI/usage","Output":"FAIL: usage.txtar:3\n"}`,
		// Scripts are subtests; the top-level test of a suite does not count.
		`{"Action":"fail","Package":"` + ts + `","Test":"TestCLI/usage"}`,
		`{"Action":"pass","Package":"` + ts + `","Test":"TestCLI/monitor"}`,
		`{"Action":"fail","Package":"` + ts + `","Test":"TestCLI/go_daemon"}`,
		`{"Action":"skip","Package":"` + ts + `","Test":"TestCLI/slow"}`,
		`{"Action":"fail","Package":"` + ts + `","Test":"TestCLI"}`,
		// A package that fails because its tests did is not one more failure.
		`{"Action":"fail","Package":"` + ts + `"}`,
		// Unit tests count as themselves.
		`{"Action":"pass","Package":"` + cl + `","Test":"TestDial"}`,
		`{"Action":"pass","Package":"` + cl + `"}`,
		// A package that fails on its own (build failure, crash) is one.
		"# " + bad + " [build failed]",
		`{"Action":"fail","Package":"` + bad + `"}`,
	}, "\n")
	var c cell
	log := tally(&c, []byte(out))
	if c.Passed != 2 || c.Failed != 3 || c.Skipped != 1 {
		t.Errorf("passed %d, failed %d, skipped %d; want 2, 3, 1", c.Passed, c.Failed, c.Skipped)
	}
	// Sorted, so parallel tests ending in another order give the same table.
	if want := []string{"TestCLI/go_daemon", "TestCLI/usage", bad}; !reflect.DeepEqual(c.Failing, want) {
		t.Errorf("failing %q, want %q", c.Failing, want)
	}
	if want := "FAIL: usage.txtar:3\n# " + bad + " [build failed]\n"; string(log) != want {
		t.Errorf("log %q, want %q", log, want)
	}
}
