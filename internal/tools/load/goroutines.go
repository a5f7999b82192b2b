package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// modulePrefix is stripped from function names in goroutine summaries.
const modulePrefix = "github.com/nexus-interop/nexus-go/"

// goroutineGroups summarizes a goroutine profile in pprof's debug=1 text
// (what loadstats.goroutines returns): how many goroutines wait in each
// place, the place being the innermost frame in this module's code (or
// the innermost frame, when none is), such as "session.(*Conn).serveTasks".
func goroutineGroups(profile string) map[string]int {
	out := map[string]int{}
	count, key := 0, ""
	flush := func() {
		if count > 0 {
			out[key] += count
		}
		count, key = 0, ""
	}
	for _, l := range strings.Split(profile, "\n") {
		if n, rest, ok := strings.Cut(l, " @ "); ok && rest != "" {
			flush()
			count, _ = strconv.Atoi(n)
			continue
		}
		// "#\t0x4a1f07\tinternal/poll.(*pollDesc).wait+0x27\t/path/file.go:84"
		f := strings.Split(l, "\t")
		if count == 0 || len(f) < 3 || f[0] != "#" {
			continue
		}
		fn, _, _ := strings.Cut(f[2], "+0x")
		switch {
		case key == "":
			key = fn
		case strings.HasPrefix(fn, modulePrefix) && !strings.HasPrefix(key, modulePrefix):
			key = fn
		}
	}
	flush()
	return out
}

// goroutineDiff lists the places with more goroutines in now than in base,
// such as "+1 session.(*Conn).serveTasks"; "none" when there are none.
func goroutineDiff(base, now string) string {
	b, n := goroutineGroups(base), goroutineGroups(now)
	var out []string
	for k, c := range n {
		if c > b[k] {
			out = append(out, fmt.Sprintf("+%d %s", c-b[k], strings.TrimPrefix(k, modulePrefix)))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
