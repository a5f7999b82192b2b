// Command matrix runs the interop suites for every JS runtime and
// direction and reports the results as a table (Markdown and JSON under a
// results directory), keeping the logs of failing cells. It is what
// scripts/interop-matrix.sh runs.
//
// The runtimes and their exact versions come from scripts/runtimes.txt;
// scripts/install-runtimes.sh installs them, and a runtime whose --version
// is not the pinned one fails the run before any suite starts.
// -update-readme rewrites the table between the interop-matrix markers of
// README.md; -check-readme instead compares it with this run's table and
// fails (exit status 1, with a line diff) when they differ.
//
//	go run ./internal/tools/matrix [-results DIR] [-runtimes "node20 node22 node24 bun"] [-update-readme | -check-readme]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type cell struct {
	Runtime   string   `json:"runtime"`
	Version   string   `json:"version"`
	Direction string   `json:"direction"`
	Passed    int      `json:"passed"`
	Failed    int      `json:"failed"`
	Skipped   int      `json:"skipped"`
	Failing   []string `json:"failing,omitempty"`
	Log       string   `json:"log,omitempty"`
	Seconds   float64  `json:"seconds"`
}

// run is one `go test -run PATTERN PACKAGES...` invocation.
type run struct {
	pattern  string
	packages []string
}

type direction struct {
	name string
	runs []run
}

var directions = []direction{
	{"Go client → JS daemon", []run{{"TestClientInterop|TestCLI", []string{"./testscripts"}}}},
	{"JS client → Go daemon", []run{{"TestDaemonInterop", []string{"./testscripts"}}}},
	{"Go client → JS daemon behind a 0.x handshake", []run{{"TestLegacyClientInterop", []string{"./testscripts"}}}},
	{"JS client behind a 0.x handshake → Go daemon", []run{{"TestLegacyDaemonInterop", []string{"./testscripts"}}}},
	{"JS client → JS daemon (control)", []run{{"TestJSJS", []string{"./testscripts"}}}},
}

var goGo = direction{"Go client ↔ Go daemon", []run{
	{"TestGoGo", []string{"./testscripts"}},
	{".", []string{"./client", "./daemon", "./session"}},
}}

func main() {
	results := flag.String("results", "results", "directory for matrix.md, matrix.json and logs")
	runtimes := flag.String("runtimes", os.Getenv("NEXUS_RUNTIMES"), "runtimes to test (default: every runtime in "+runtimesFile+")")
	update := flag.Bool("update-readme", false, "rewrite the compatibility table in README.md")
	check := flag.Bool("check-readme", false, "fail when the compatibility table in README.md differs from this run's")
	flag.Parse()
	if *update && *check {
		usage("-update-readme and -check-readme exclude each other")
	}
	specs, err := loadRuntimes(runtimesFile)
	if err != nil {
		fatal(err)
	}
	pinned := map[string]runtimeSpec{}
	var all []string
	for _, s := range specs {
		pinned[s.Name] = s
		all = append(all, s.Name)
	}
	selected := strings.Fields(*runtimes)
	if len(selected) == 0 {
		selected = all
	}
	for _, name := range selected {
		if _, ok := pinned[name]; !ok {
			usage(fmt.Sprintf("unknown runtime %q (%s lists %s)", name, runtimesFile, strings.Join(all, " ")))
		}
	}
	if *check && !slices.Equal(selected, all) {
		usage(fmt.Sprintf("-check-readme needs the full matrix (%s), not %q: unset NEXUS_RUNTIMES / -runtimes", strings.Join(all, " "), strings.Join(selected, " ")))
	}
	if err := os.MkdirAll(*results, 0o755); err != nil {
		fatal(err)
	}
	cmd := exec.Command("./scripts/install-runtimes.sh")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "NEXUS_RUNTIMES="+strings.Join(selected, " "))
	out, err := cmd.Output()
	if err != nil {
		fatal(fmt.Errorf("installing runtimes: %w", err))
	}
	type installed struct{ name, path, version string }
	var rts []installed
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, path, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		spec, ok := pinned[name]
		if !ok || !slices.Contains(selected, name) {
			bad = append(bad, fmt.Sprintf("install-runtimes.sh printed runtime %q, which was not asked for", name))
			continue
		}
		ver, err := exec.Command(path, "--version").Output()
		version := strings.TrimSpace(string(ver))
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %s --version: %v", name, path, err))
		case !sameVersion(version, spec.Version):
			bad = append(bad, fmt.Sprintf("%s: %s --version says %q, but %s pins %s@%s", name, path, version, runtimesFile, spec.Package, spec.Version))
		}
		rts = append(rts, installed{name, path, version})
	}
	for _, name := range selected {
		if !slices.ContainsFunc(rts, func(r installed) bool { return r.name == name }) {
			bad = append(bad, fmt.Sprintf("%s: install-runtimes.sh printed no path for it", name))
		}
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(os.Stderr, "matrix: runtime version check failed:", b)
		}
		os.Exit(1)
	}
	var cells []cell
	for _, r := range rts {
		for _, d := range directions {
			cells = append(cells, runCell(*results, r.name, r.path, r.version, d))
		}
	}
	node, _ := exec.LookPath("node")
	cells = append(cells, runCell(*results, "go", node, "Go "+goMajorMinor(goVersion()), goGo))

	md := markdown(cells)
	fmt.Print(md)
	os.WriteFile(filepath.Join(*results, "matrix.md"), []byte(md), 0o644)
	js, _ := json.MarshalIndent(cells, "", "  ")
	os.WriteFile(filepath.Join(*results, "matrix.json"), append(js, '\n'), 0o644)
	if *update {
		if err := updateReadme(md); err != nil {
			fatal(err)
		}
	}
	stale := false
	if *check {
		b, err := os.ReadFile("README.md")
		if err != nil {
			fatal(err)
		}
		diff, err := compareReadme(string(b), md)
		if err != nil {
			fatal(err)
		}
		if diff != "" {
			stale = true
			fmt.Print("\n" + diff)
			fmt.Println("README.md compatibility table is stale: run ./scripts/interop-matrix.sh --update-readme and commit it")
		} else {
			fmt.Println("\nREADME.md compatibility table matches this run")
		}
	}
	failed := 0
	for _, c := range cells {
		failed += c.Failed
	}
	total := 0
	for _, c := range cells {
		total += c.Passed
	}
	fmt.Printf("\nmatrix: %d passed, %d failed\n", total, failed)
	if failed > 0 || stale {
		os.Exit(1)
	}
}

// goVersion is the version of the go command that runs the suites, e.g.
// "go1.26.8".
func goVersion() string {
	b, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// goMajorMinor turns "go1.26.8" (or "go1.26rc1", "go1.26") into "1.26",
// so the table does not change with every patch release; anything else is
// returned as it is.
func goMajorMinor(v string) string {
	rest, ok := strings.CutPrefix(v, "go")
	if !ok {
		return v
	}
	major, rest, ok := strings.Cut(rest, ".")
	minor := strings.TrimLeft(rest, "0123456789")
	minor = rest[:len(rest)-len(minor)]
	if !ok || major == "" || strings.Trim(major, "0123456789") != "" || minor == "" {
		return v
	}
	return major + "." + minor
}

func usage(msg string) {
	fmt.Fprintln(os.Stderr, "matrix:", msg)
	os.Exit(64)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "matrix:", err)
	os.Exit(2)
}

type event struct {
	Action  string
	Test    string
	Package string
	Output  string
}

func runCell(results, rt, path, version string, d direction) cell {
	c := cell{Runtime: rt, Version: version, Direction: d.name}
	start := time.Now()
	var out []byte
	for _, r := range d.runs {
		args := append([]string{"test", "-json", "-count=1", "-run", r.pattern}, r.packages...)
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "NEXUS_JS_RUNTIME="+path)
		o, _ := cmd.CombinedOutput()
		out = append(out, o...)
	}
	c.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
	log := tally(&c, out)
	if c.Failed > 0 {
		name := strings.NewReplacer(" ", "-", "→", "to", "↔", "and", "(", "", ")", "").Replace(rt + "-" + d.name)
		c.Log = filepath.Join(results, name+".log")
		os.WriteFile(c.Log, log, 0o644)
	}
	fmt.Fprintf(os.Stderr, "%-7s %-34s %3d passed %3d failed %3d skipped (%.1fs)\n", rt, d.name, c.Passed, c.Failed, c.Skipped, c.Seconds)
	return c
}

// tally counts the `go test -json` events of out into c and returns the
// tests' output as text, for the log of a failing cell.
func tally(c *cell, out []byte) []byte {
	var log bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	// A package whose tests failed fails too; it counts only when none of
	// its tests did (a build failure, a crash, a failing TestMain).
	testFailed := map[string]bool{}
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			log.Write(sc.Bytes())
			log.WriteByte('\n')
			continue
		}
		log.WriteString(e.Output)
		// Scripts are subtests ("TestCLI/monitor"); unit tests count as
		// themselves in the Go cell.
		if e.Test == "" || (!strings.Contains(e.Test, "/") && strings.HasPrefix(e.Package, "github.com/nexus-interop/nexus-go/testscripts")) {
			if e.Test == "" && e.Action == "fail" && !testFailed[e.Package] {
				c.Failed++ // a package that failed to build or crashed
				c.Failing = append(c.Failing, e.Package)
			}
			continue
		}
		switch e.Action {
		case "pass":
			c.Passed++
		case "fail":
			c.Failed++
			c.Failing = append(c.Failing, e.Test)
			testFailed[e.Package] = true
		case "skip":
			c.Skipped++
		}
	}
	// Parallel tests end in any order; the table must not.
	slices.Sort(c.Failing)
	return log.Bytes()
}

func markdown(cells []cell) string {
	var b strings.Builder
	byRT := map[string]map[string]cell{}
	var rts []string
	for _, c := range cells {
		if c.Runtime == "go" {
			continue
		}
		if byRT[c.Runtime] == nil {
			byRT[c.Runtime] = map[string]cell{}
			rts = append(rts, c.Runtime)
		}
		byRT[c.Runtime][c.Direction] = c
	}
	status := func(c cell) string {
		s := fmt.Sprintf("%d passed", c.Passed)
		if c.Failed > 0 {
			s = fmt.Sprintf("**%d failed** (%s), %d passed", c.Failed, strings.Join(c.Failing, ", "), c.Passed)
		} else if c.Passed > 0 {
			s = "✅ " + s
		}
		if c.Skipped > 0 {
			s += fmt.Sprintf(", %d skipped", c.Skipped)
		}
		return s
	}
	b.WriteString("| runtime | version |")
	for _, d := range directions {
		b.WriteString(" " + d.name + " |")
	}
	b.WriteString("\n|---|---|")
	for range directions {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, rt := range rts {
		var version string
		for _, c := range byRT[rt] {
			version = c.Version
		}
		fmt.Fprintf(&b, "| %s | %s |", rt, version)
		for _, d := range directions {
			b.WriteString(" " + status(byRT[rt][d.name]) + " |")
		}
		b.WriteString("\n")
	}
	for _, c := range cells {
		if c.Runtime == "go" {
			fmt.Fprintf(&b, "\n%s (%s): %s (interop scripts and the client, daemon and session packages).\n", c.Direction, c.Version, status(c))
		}
	}
	return b.String()
}

const begin, end = "<!-- interop-matrix:begin -->", "<!-- interop-matrix:end -->"

// readmeBlock returns the offsets of the text between the interop-matrix
// markers of a README.
func readmeBlock(readme string) (from, to int, err error) {
	i := strings.Index(readme, begin)
	if i < 0 {
		return 0, 0, fmt.Errorf("README.md has no %s ... %s block", begin, end)
	}
	from = i + len(begin)
	j := strings.Index(readme[from:], end)
	if j < 0 {
		return 0, 0, fmt.Errorf("README.md has no %s after %s", end, begin)
	}
	if strings.Contains(readme[from+j+len(end):], begin) || strings.Contains(readme[from:from+j], begin) {
		return 0, 0, fmt.Errorf("README.md has more than one %s block", begin)
	}
	return from, from + j, nil
}

// replaceReadmeBlock puts md (the generated table) between the markers.
func replaceReadmeBlock(readme, md string) (string, error) {
	from, to, err := readmeBlock(readme)
	if err != nil {
		return "", err
	}
	return readme[:from] + "\n" + md + readme[to:], nil
}

// compareReadme returns "" when the README's block is what
// replaceReadmeBlock would write for md, and a line diff otherwise.
func compareReadme(readme, md string) (string, error) {
	from, to, err := readmeBlock(readme)
	if err != nil {
		return "", err
	}
	have, want := readme[from:to], "\n"+md
	if have == want {
		return "", nil
	}
	return lineDiff(have, want, "README.md", "this run"), nil
}

// lineDiff is a minimal unified-style diff of two short texts: every line,
// prefixed "-" (only in a), "+" (only in b) or " " (both), after a longest
// common subsequence of lines.
func lineDiff(a, b, nameA, nameB string) string {
	x := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	y := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var d strings.Builder
	fmt.Fprintf(&d, "--- %s\n+++ %s\n", nameA, nameB)
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			d.WriteString(" " + x[i] + "\n")
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			d.WriteString("-" + x[i] + "\n")
			i++
		default:
			d.WriteString("+" + y[j] + "\n")
			j++
		}
	}
	if a != b && slices.Equal(x, y) {
		d.WriteString("\\ the texts differ only in their final newline\n")
	}
	return d.String()
}

func updateReadme(md string) error {
	b, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	s, err := replaceReadmeBlock(string(b), md)
	if err != nil {
		return err
	}
	return os.WriteFile("README.md", []byte(s), 0o644)
}
