// Package leakcheck fails a test whose goroutines outlive it.
package leakcheck

import (
	"runtime"
	"testing"
	"time"
)

// Check records the number of goroutines now and, when the test ends
// (after the cleanups registered later, which run first), waits up to
// three seconds for it to come back down; otherwise it fails the test with
// every goroutine's stack. Call it first in a test.
func Check(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}
