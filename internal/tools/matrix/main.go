// Command matrix runs the interop suites for every JS runtime and
// direction and reports the results as a table (Markdown and JSON under a
// results directory), keeping the logs of failing cells. It is what
// scripts/interop-matrix.sh runs.
//
//	go run ./internal/tools/matrix [-results DIR] [-runtimes "node20 node22 node24 bun"] [-update-readme]
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
	"sort"
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
	{"JS client → JS daemon (control)", []run{{"TestJSJS", []string{"./testscripts"}}}},
}

var goGo = direction{"Go client ↔ Go daemon", []run{
	{"TestGoGo", []string{"./testscripts"}},
	{".", []string{"./client", "./daemon", "./session"}},
}}

func main() {
	results := flag.String("results", "results", "directory for matrix.md, matrix.json and logs")
	runtimes := flag.String("runtimes", os.Getenv("NEXUS_RUNTIMES"), "runtimes to test (default: node20 node22 node24 bun)")
	update := flag.Bool("update-readme", false, "rewrite the compatibility table in README.md")
	flag.Parse()
	if err := os.MkdirAll(*results, 0o755); err != nil {
		fatal(err)
	}
	cmd := exec.Command("./scripts/install-runtimes.sh")
	cmd.Stderr = os.Stderr
	if *runtimes != "" {
		cmd.Env = append(os.Environ(), "NEXUS_RUNTIMES="+*runtimes)
	}
	out, err := cmd.Output()
	if err != nil {
		fatal(fmt.Errorf("installing runtimes: %w", err))
	}
	var cells []cell
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, path, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		ver, _ := exec.Command(path, "--version").Output()
		version := strings.TrimSpace(string(ver))
		for _, d := range directions {
			cells = append(cells, runCell(*results, name, path, version, d))
		}
	}
	node, _ := exec.LookPath("node")
	cells = append(cells, runCell(*results, "go", node, "go "+strings.TrimPrefix(goVersion(), "go version "), goGo))

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
	failed := 0
	for _, c := range cells {
		failed += c.Failed
	}
	total := 0
	for _, c := range cells {
		total += c.Passed
	}
	fmt.Printf("\nmatrix: %d passed, %d failed\n", total, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func goVersion() string {
	b, _ := exec.Command("go", "version").Output()
	return strings.TrimSpace(string(b))
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
	var log bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
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
			if e.Test == "" && e.Action == "fail" {
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
		case "skip":
			c.Skipped++
		}
	}
	if c.Failed > 0 {
		name := strings.NewReplacer(" ", "-", "→", "to", "↔", "and", "(", "", ")", "").Replace(rt + "-" + d.name)
		c.Log = filepath.Join(results, name+".log")
		os.WriteFile(c.Log, log.Bytes(), 0o644)
	}
	fmt.Fprintf(os.Stderr, "%-7s %-34s %3d passed %3d failed %3d skipped (%.1fs)\n", rt, d.name, c.Passed, c.Failed, c.Skipped, c.Seconds)
	return c
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
	sort.SliceStable(rts, func(i, j int) bool { return false })
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

func updateReadme(md string) error {
	b, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("README.md has no %s ... %s block", begin, end)
	}
	s = s[:i+len(begin)] + "\n" + md + s[j:]
	return os.WriteFile("README.md", []byte(s), 0o644)
}
