package cli

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpListsEveryFlag checks that `nexusctl help CMD` and the usage
// line show every flag the command accepts, and that the parser accepts
// every flag the help shows.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, c := range commands {
		var out bytes.Buffer
		commandHelp(&out, c)
		help := out.String()
		var shown []string
		for _, m := range regexp.MustCompile(`(?m)^  (--[a-z-]+)`).FindAllStringSubmatch(help, -1) {
			shown = append(shown, m[1])
		}
		if len(shown) != len(c.flags) {
			t.Errorf("%s: help shows flags %v, the command has %d", c.name, shown, len(c.flags))
		}
		for _, f := range c.flags {
			if !strings.Contains(help, "  "+f.form()+" ") {
				t.Errorf("%s: help does not describe %s", c.name, f.form())
			}
			if !strings.Contains(c.usage(), f.form()) {
				t.Errorf("%s: usage line %q omits %s", c.name, c.usage(), f.form())
			}
		}
		for _, name := range shown {
			args := []string{name}
			if spec := flagByName(c, strings.TrimPrefix(name, "--")); spec != nil && spec.value != "" {
				args = append(args, "x")
			}
			if err := parseFlags(c, args, &env{flags: map[string]string{}, bools: map[string]bool{}}); err != nil {
				t.Errorf("%s: help shows %s but the parser says %v", c.name, name, err)
			}
		}
	}
}

func flagByName(c *command, name string) *flagSpec {
	for i := range c.flags {
		if c.flags[i].name == name {
			return &c.flags[i]
		}
	}
	return nil
}

// TestDocsUsageTable checks that docs/nexusctl.md lists every command's
// flags as the code does.
func TestDocsUsageTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/nexusctl.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- usage-table:begin -->\n", "<!-- usage-table:end -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("docs/nexusctl.md has no %q ... %q block", begin, end)
	}
	if got, want := s[i+len(begin):j], usageTable(); got != want {
		t.Errorf("docs/nexusctl.md usage table is stale; want:\n%s\ngot:\n%s", want, got)
	}
}

// TestDocumentedCommandLines parses every nexusctl command line shown in
// the README and docs/nexusctl.md and checks that the command exists and
// takes every flag written there.
func TestDocumentedCommandLines(t *testing.T) {
	for _, file := range []string{"../../README.md", "../../docs/nexusctl.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			for _, line := range commandLines(sc.Text()) {
				n++
				fields := strings.Fields(line)
				c := findCommand(fields[1])
				if c == nil {
					t.Errorf("%s: %q: no command %q", file, line, fields[1])
					continue
				}
				e := &env{flags: map[string]string{}, bools: map[string]bool{}}
				if err := parseFlags(c, fields[2:], e); err != nil && err != errHelp {
					t.Errorf("%s: %q: %v", file, line, err)
				}
			}
		}
		if n < 5 {
			t.Errorf("%s: found only %d nexusctl command lines; is the extraction broken?", file, n)
		}
	}
}

var (
	// A command line: "nexusctl CMD ..." at the start of a code line (after
	// an optional "$ "), or in `backticks` in prose.
	codeLine  = regexp.MustCompile("^(?:\\$ )?(nexusctl [a-z]+(?:[ \t][^#&|;]*)?)(?:$|[#&|;])")
	inlineCmd = regexp.MustCompile("`(nexusctl [a-z][^`]*)`")
	// Placeholders and shell syntax that are not arguments.
	optional = regexp.MustCompile(`\[[^\]]*\]`)
)

func commandLines(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(optional.ReplaceAllString(s, ""))
		// "nexusctl COMMAND" and "nexusctl help COMMAND" name no real command.
		if f := strings.Fields(s); len(f) >= 2 && f[1] != "COMMAND" {
			out = append(out, s)
		}
	}
	if m := codeLine.FindStringSubmatch(text); m != nil {
		add(m[1])
	}
	for _, m := range inlineCmd.FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(text, m[1]) && !strings.HasPrefix(text, "$ "+m[1]) {
			add(m[1])
		}
	}
	return out
}
