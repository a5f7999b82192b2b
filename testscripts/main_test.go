// Package testscripts holds the interop suites: testscript files that
// start real JS peers from node-fixtures and drive the Go client and daemon
// against them.
package testscripts

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nexus-interop/nexus-go/internal/cli"
	"github.com/nexus-interop/nexus-go/internal/leakcheck"
	"github.com/nexus-interop/nexus-go/internal/legacy0x"
)

// TestMain registers the commands the scripts run in subprocesses, and
// fails the run when a goroutine outlives the tests.
func TestMain(m *testing.M) {
	testscript.Main(leakChecked{m}, map[string]func(){
		"nxc":      func() { os.Exit(nxcMain(os.Args[1:], os.Stdout, os.Stderr)) },
		"nxd":      func() { os.Exit(nxdMain(os.Args[1:], os.Stdout, os.Stderr)) },
		"nexusctl": func() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"legacyd":  func() { os.Exit(legacy0x.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// leakChecked runs the tests of m, then the leak check.
type leakChecked struct{ m *testing.M }

func (l leakChecked) Run() int { return leakcheck.Run(l.m.Run) }

func fixturesDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "node-fixtures")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@nexus-js", "node-ipc")); err != nil {
		t.Fatalf("node-fixtures are not installed (run: cd node-fixtures && npm ci): %v", err)
	}
	return dir
}

// jsRuntime is the JS runtime the suites run peers with: $NEXUS_JS_RUNTIME
// or node.
func jsRuntime(t testing.TB) string {
	rt := os.Getenv("NEXUS_JS_RUNTIME")
	if rt == "" {
		rt = "node"
	}
	p, err := exec.LookPath(rt)
	if err != nil {
		t.Fatalf("JS runtime %q not found: %v", rt, err)
	}
	return p
}

func params(t *testing.T, dir string) testscript.Params {
	fixtures := fixturesDir(t)
	js := jsRuntime(t)
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("NEXUS_UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			// A short runtime directory: socket paths must stay under 107 bytes.
			xdg, err := os.MkdirTemp("/tmp", "nx")
			if err != nil {
				return err
			}
			env.Defer(func() { os.RemoveAll(xdg) })
			env.Setenv("XDG_RUNTIME_DIR", xdg)
			// A unique appId suffix for scripts that use the shared
			// /tmp/nexus-<uid> fallback root.
			uniq := fmt.Sprintf("%d%04d", os.Getpid(), rand.IntN(10000))
			env.Setenv("UNIQ", uniq)
			env.Setenv("UID", strconv.Itoa(os.Getuid()))
			env.Defer(func() { os.RemoveAll(fmt.Sprintf("/tmp/nexus-%d/nxt-%s", os.Getuid(), uniq)) })
			env.Setenv("FIXTURES", fixtures)
			env.Setenv("JS", js)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitsock": waitSock,
			"waitfile": waitFile,
			"status":   status,
			"cmpnorm":  cmpNorm,
		},
	}
}

// waitsock PATH: wait (up to 15 s) until a daemon accepts on PATH;
// with !, until nobody does.
func waitSock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitsock PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		if (err == nil) != neg {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	if neg {
		ts.Fatalf("%s still accepts connections", path)
	}
	ts.Fatalf("no daemon on %s after 15s", path)
}

// status N COMMAND [ARGS...]: run COMMAND and check that it exits with
// status N (stdout and stderr are kept for later checks).
func status(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// normalizers are the run-dependent parts of output that cmpnorm masks:
// process ids and the demo's temporary directory.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`pid: [0-9]+`), "pid: PID"},
	{regexp.MustCompile(`/tmp/nexusctl-demo-[0-9]+`), "/tmp/nexusctl-demo-DIR"},
}

// cmpnorm FILE GOLDEN: compare FILE (stdout, stderr or a path) with
// GOLDEN after masking process ids and temporary directory names.
func cmpNorm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpnorm stdout|stderr|FILE GOLDEN")
	}
	got := ts.ReadFile(args[0])
	for _, n := range normalizers {
		got = n.re.ReplaceAllString(got, n.with)
	}
	want := ts.ReadFile(args[1])
	if got != want {
		ts.Logf("[normalized %s]\n%s", args[0], got)
		ts.Fatalf("%s and %s differ after normalization", args[0], args[1])
	}
}

// waitfile PATH: wait (up to 15 s) until PATH exists.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear within 15s", path)
}

// TestClientInterop runs the Go client against real Node daemons.
func TestClientInterop(t *testing.T) {
	testscript.Run(t, params(t, "testdata/client"))
}

// TestGoGo runs the Go client against the Go daemon.
func TestGoGo(t *testing.T) {
	testscript.Run(t, params(t, "testdata/gogo"))
}

// TestDaemonInterop runs real Node clients against the Go daemon.
func TestDaemonInterop(t *testing.T) {
	testscript.Run(t, params(t, "testdata/daemon"))
}

// TestLegacyClientInterop runs the Go client and nexusctl against real
// Node daemons behind a core 0.x handshake (node-fixtures/peers/
// legacy-proxy.mjs --as daemon).
func TestLegacyClientInterop(t *testing.T) {
	testscript.Run(t, params(t, "testdata/legacy_client"))
}

// TestLegacyDaemonInterop runs real Node clients behind a core 0.x
// handshake (legacy-proxy.mjs --as client) against the Go daemon, alone
// and beside 1.x clients.
func TestLegacyDaemonInterop(t *testing.T) {
	testscript.Run(t, params(t, "testdata/legacy_daemon"))
}

// TestCLI runs nexusctl against the Go daemon and real Node daemons.
func TestCLI(t *testing.T) {
	testscript.Run(t, params(t, "testdata/cli"))
}

// TestJSJS is the control cell of the interop matrix: JS client against JS
// daemon, with no Go peer involved.
func TestJSJS(t *testing.T) {
	testscript.Run(t, params(t, "testdata/jsjs"))
}
