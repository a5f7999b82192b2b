// Package memcheck measures the memory a test makes the process hold, for
// tests that bound it.
package memcheck

import "runtime"

// Live returns the memory in use after collections: heap objects and
// goroutine stacks, in bytes. Two collections, because sync.Pools (the
// frame reader's chunks, pooled encode buffers) keep their contents
// through one: they would count before and be reused after.
func Live() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}
