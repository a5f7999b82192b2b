package main

import (
	"strings"
	"testing"
)

const freshTable = `| runtime | version | Go client → JS daemon |
|---|---|---|
| node22 | v22.23.5 | ✅ 18 passed |

Go client ↔ Go daemon (Go 1.26): ✅ 30 passed (interop scripts and the client, daemon and session packages).
`

const readmeHead = "# title\n\n## Compatibility\n\nGenerated.\n\n"
const readmeTail = "\n\n## Layout\n\ntext <!-- not a marker -->\n"

func readmeWith(block string) string {
	return readmeHead + begin + block + end + readmeTail
}

func TestReplaceReadmeBlock(t *testing.T) {
	stale := readmeWith("\n| node22 | v22.23.3 | ✅ 18 passed |\n")
	got, err := replaceReadmeBlock(stale, freshTable)
	if err != nil {
		t.Fatal(err)
	}
	if want := readmeWith("\n" + freshTable); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// Idempotent, and an empty block is filled the same way.
	again, _ := replaceReadmeBlock(got, freshTable)
	empty, _ := replaceReadmeBlock(readmeWith(""), freshTable)
	if again != got || empty != got {
		t.Fatalf("second replace or replace of an empty block differs:\n%s\n---\n%s", again, empty)
	}
}

func TestReadmeWithoutBlock(t *testing.T) {
	for _, readme := range []string{
		readmeHead + readmeTail,
		readmeHead + begin + "\n| x |\n" + readmeTail, // no end marker
		readmeHead + end + "\n| x |\n" + begin + readmeTail,
		readmeWith("\n") + begin + "\n" + end, // two blocks
	} {
		if _, err := replaceReadmeBlock(readme, freshTable); err == nil {
			t.Errorf("replaceReadmeBlock accepted %q", readme)
		}
		if _, err := compareReadme(readme, freshTable); err == nil {
			t.Errorf("compareReadme accepted %q", readme)
		}
	}
}

func TestCompareReadmeFresh(t *testing.T) {
	readme, err := replaceReadmeBlock(readmeWith("old"), freshTable)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := compareReadme(readme, freshTable)
	if err != nil || diff != "" {
		t.Fatalf("fresh README: diff %q, err %v", diff, err)
	}
	// Text outside the block does not matter.
	diff, _ = compareReadme("other intro\n"+readme+"more\n", freshTable)
	if diff != "" {
		t.Fatalf("text outside the block made a diff:\n%s", diff)
	}
}

func TestCompareReadmeStale(t *testing.T) {
	staleTable := strings.Replace(freshTable, "v22.23.5", "v22.23.3", 1)
	staleTable = strings.Replace(staleTable, "30 passed", "23 passed", 1)
	diff, err := compareReadme(readmeWith("\n"+staleTable), freshTable)
	if err != nil {
		t.Fatal(err)
	}
	want := `--- README.md
+++ this run
 
 | runtime | version | Go client → JS daemon |
 |---|---|---|
-| node22 | v22.23.3 | ✅ 18 passed |
+| node22 | v22.23.5 | ✅ 18 passed |
 
-Go client ↔ Go daemon (Go 1.26): ✅ 23 passed (interop scripts and the client, daemon and session packages).
+Go client ↔ Go daemon (Go 1.26): ✅ 30 passed (interop scripts and the client, daemon and session packages).
`
	if diff != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", diff, want)
	}
}

func TestCompareReadmeWhitespace(t *testing.T) {
	// A missing trailing newline or a missing leading one is a difference
	// too: --update-readme would change the file.
	for _, block := range []string{
		strings.TrimSuffix("\n"+freshTable, "\n"),
		freshTable,
		"\n" + freshTable + "\n",
	} {
		diff, err := compareReadme(readmeWith(block), freshTable)
		if err != nil || diff == "" {
			t.Errorf("block %q: diff %q, err %v; want a diff", block, diff, err)
		}
	}
}

func TestLineDiff(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"a\nb\nc\n", "a\nb\nc\n", " a\n b\n c\n"},
		{"a\nb\nc\n", "a\nc\n", " a\n-b\n c\n"},
		{"a\nc\n", "a\nb\nc\n", " a\n+b\n c\n"},
		{"a\nb\n", "x\ny\n", "-a\n-b\n+x\n+y\n"},
		{"a\nb\nc\nd\n", "a\nB\nc\nD\ne\n", " a\n-b\n+B\n c\n-d\n+D\n+e\n"},
		{"a\nb", "a\nb\n", " a\n b\n\\ the texts differ only in their final newline\n"},
	} {
		got := lineDiff(tc.a, tc.b, "old", "new")
		if want := "--- old\n+++ new\n" + tc.want; got != want {
			t.Errorf("lineDiff(%q, %q) =\n%s\nwant\n%s", tc.a, tc.b, got, want)
		}
	}
}
