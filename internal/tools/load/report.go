package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// status is the outcome of one check.
type status int

const (
	passed status = iota
	failedCheck
	unchecked // the condition was not met, but this run does not enforce it
)

// check is one condition a scenario asserts.
type check struct {
	name   string
	st     status
	detail string
}

// result is one scenario's outcome: its figures (what was measured) and its
// checks (what had to hold).
type result struct {
	id, title string
	figures   []string
	checks    []check
	elapsed   time.Duration
}

// figure records a measured figure.
func (r *result) figure(format string, args ...any) {
	r.figures = append(r.figures, fmt.Sprintf(format, args...))
}

// check records a condition that must hold and returns ok.
func (r *result) check(name string, ok bool, format string, args ...any) bool {
	st := passed
	if !ok {
		st = failedCheck
	}
	r.checks = append(r.checks, check{name: name, st: st, detail: fmt.Sprintf(format, args...)})
	return ok
}

// soft records a condition that fails the run only when enforce is set
// (the 10% memory rule, which --short and --no-check-memory report
// without enforcing).
func (r *result) soft(name string, ok, enforce bool, format string, args ...any) {
	st := passed
	switch {
	case !ok && enforce:
		st = failedCheck
	case !ok:
		st = unchecked
	}
	r.checks = append(r.checks, check{name: name, st: st, detail: fmt.Sprintf(format, args...)})
}

// stoppedEarly is the name of the check fatal records.
const stoppedEarly = "stopped early"

// fatal records an error that stopped the scenario.
func (r *result) fatal(err error) {
	r.checks = append(r.checks, check{name: stoppedEarly, st: failedCheck, detail: err.Error()})
}

// failed reports whether a check failed.
func (r *result) failed() bool {
	return slices.ContainsFunc(r.checks, func(c check) bool { return c.st == failedCheck })
}

// verdict is the result column: PASS, FAIL, or PASS with a note when a
// condition was not met but not enforced.
func (r *result) verdict() string {
	if r.failed() {
		var names []string
		for _, c := range r.checks {
			switch {
			case c.st == failedCheck && c.name == stoppedEarly:
				names = append(names, c.name+": "+c.detail)
			case c.st == failedCheck:
				names = append(names, c.name)
			}
		}
		return "FAIL (" + strings.Join(names, "; ") + ")"
	}
	for _, c := range r.checks {
		if c.st == unchecked {
			return "PASS, but not met (not checked): " + c.name
		}
	}
	return "PASS"
}

// mark is how the report shows s.
func (s status) mark() string {
	switch s {
	case passed:
		return "PASS"
	case unchecked:
		return "NOT MET (not checked)"
	}
	return "FAIL"
}

// renderReport writes the Markdown report: a table of scenario | result |
// figures, then every check with its detail.
func renderReport(cfg *config, results []*result, total time.Duration) string {
	var b strings.Builder
	mode := "full"
	if cfg.short {
		mode = "short (CI)"
	}
	fmt.Fprintf(&b, "# Load and fault programs: Go daemon\n\n")
	fmt.Fprintf(&b, "Version: %s. %s; Node: %s. Started %s, total %.1f s. Memory measured %v after the clients left; 10%% rule %s.\n\n",
		mode, hostLine(), nodeVersion(cfg.node), time.Now().Add(-total).Format(time.RFC3339), total.Seconds(), cfg.after,
		map[bool]string{true: "checked", false: "reported, not checked"}[cfg.checkMemory])
	b.WriteString("| scenario | result | figures |\n|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s %s (%.1f s) | %s | %s |\n", r.id, r.title, r.elapsed.Seconds(), cell(r.verdict()), cell(strings.Join(r.figures, "; ")))
	}
	b.WriteString("\n## Checks\n")
	for _, r := range results {
		fmt.Fprintf(&b, "\n%s %s:\n\n", r.id, r.title)
		for _, c := range r.checks {
			fmt.Fprintf(&b, "- %s: %s — %s\n", c.st.mark(), c.name, c.detail)
		}
	}
	return b.String()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// nodeVersion is `node --version`, or why it is unknown.
func nodeVersion(node string) string {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "not available (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}

// mib formats bytes as MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// kib formats bytes as KiB.
func kib(n float64) string { return fmt.Sprintf("%.1f KiB", n/1024) }

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// percentile returns the p-th percentile (0..100) of ds, sorted in place.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}
