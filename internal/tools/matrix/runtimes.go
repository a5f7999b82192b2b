package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// runtimesFile pins the JS runtimes of the matrix; scripts/install-runtimes.sh
// reads the same file.
const runtimesFile = "scripts/runtimes.txt"

// A runtimeSpec is one line of scripts/runtimes.txt: NAME NPM-PACKAGE VERSION.
type runtimeSpec struct {
	Name    string // node20, bun, ...: what NEXUS_RUNTIMES selects
	Package string // the npm package that holds the binary
	Version string // exact version, without a "v"
}

// parseRuntimes reads the runtimes file format: one runtime per line as
// three whitespace-separated fields, "#" starts a comment, blank lines are
// ignored. Names must be unique and versions exact (X.Y.Z, digits only).
func parseRuntimes(r io.Reader) ([]runtimeSpec, error) {
	var specs []runtimeSpec
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want NAME NPM-PACKAGE VERSION, got %q", n, strings.TrimSpace(line))
		}
		s := runtimeSpec{Name: f[0], Package: f[1], Version: f[2]}
		if !exactVersion(s.Version) {
			return nil, fmt.Errorf("line %d: version %q of %s is not an exact X.Y.Z version", n, s.Version, s.Name)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("line %d: runtime %s listed twice", n, s.Name)
		}
		seen[s.Name] = true
		specs = append(specs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no runtimes listed")
	}
	return specs, nil
}

func loadRuntimes(path string) ([]runtimeSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	specs, err := parseRuntimes(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return specs, nil
}

// exactVersion reports whether v is X.Y.Z with decimal numbers.
func exactVersion(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// sameVersion reports whether a runtime's `--version` output is the pinned
// version: Node prints "v22.23.5", Bun "1.4.5"; one leading "v" on either
// side is ignored, nothing else is.
func sameVersion(reported, pinned string) bool {
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "v") }
	r := norm(reported)
	return r != "" && r == norm(pinned)
}
