package main

import (
	"fmt"
	"sync"

	"github.com/nexus-interop/nexus-go/errcode"
)

// errTally counts errors by code and keeps the first one.
type errTally struct {
	mu     sync.Mutex
	n      int
	byCode map[string]int
	first  error
}

// add counts err.
func (t *errTally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byCode == nil {
		t.byCode = map[string]int{}
	}
	t.n++
	code := string(errcode.CodeOf(err))
	if code == "" {
		code = "no code"
	}
	t.byCode[code]++
	if t.first == nil {
		t.first = err
	}
}

// count returns the number of errors.
func (t *errTally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// String is the count, the count by code and the first error.
func (t *errTally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d %v, first: %v", t.n, t.byCode, t.first)
}

// brief is err's code, its text when it has none, or "nil".
func brief(err error) string {
	if err == nil {
		return "nil"
	}
	if code := errcode.CodeOf(err); code != "" {
		return string(code)
	}
	return err.Error()
}

// errOr returns err's text, or ok when err is nil.
func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}
