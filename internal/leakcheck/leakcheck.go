// Package leakcheck fails a test binary when a goroutine outlives its
// tests. Every package with tests calls it from TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// The check runs once, after the last test, and has no grace period: the
// package's Close and Wait methods must have joined every goroutine they
// started by the time they return. The only allowance is for goroutines
// that have been joined and are returning (a deferred WaitGroup.Done is
// their last act, but they still exist until the scheduler runs them
// once more): the check yields the processor a bounded number of times,
// never sleeps, and fails with the stack of every goroutine still there.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Main runs the tests of m and exits with their status, or with status 1
// and the stacks of the leaked goroutines when the tests passed but left
// goroutines behind.
func Main(m interface{ Run() int }) { os.Exit(Run(m.Run)) }

// Run is Main for a TestMain that runs its tests through another function
// (testscript.RunMain): it calls run, checks for leaks if run reported
// success, and returns the exit status.
func Run(run func() int) int {
	code := run()
	if code != 0 {
		return code
	}
	if leaked := Leaked(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: %d goroutines outlived the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
		return 1
	}
	return 0
}

// yields bounds how often Leaked lets returning goroutines finish.
const yields = 1000

// Leaked returns the stacks of the goroutines other than the caller's,
// leaving out those the standard library keeps for the life of a process.
func Leaked() []string {
	var leaked []string
	for range yields {
		leaked = others()
		if len(leaked) == 0 {
			return nil
		}
		runtime.Gosched()
	}
	return leaked
}

// processLifetime are functions of goroutines that the standard library
// starts once and never stops (os/signal's delivery loop, started by the
// first signal.Notify).
var processLifetime = []string{"os/signal.signal_recv", "os/signal.loop"}

func others() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := strings.Split(strings.TrimSpace(string(buf)), "\n\n")
	var out []string
	for _, s := range stacks[1:] { // stacks[0] is the caller's goroutine
		if !lifetime(s) {
			out = append(out, s)
		}
	}
	return out
}

func lifetime(stack string) bool {
	for _, f := range processLifetime {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}
