package errcode

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// jsCodeFile is compat/testdata/errcodes.json, written by
// node-fixtures/vectors/errcodes.mjs from the installed JS dist files.
type jsCodeFile struct {
	Core    string `json:"core"`
	NodeIpc string `json:"nodeIpc"`
	Cases   []struct {
		Name     string   `json:"name"`
		Code     string   `json:"code"`
		Packages []string `json:"packages"`
		Produced bool     `json:"produced"`
		Uses     []string `json:"uses"`
	} `json:"cases"`
}

func loadJSCodes(t *testing.T) jsCodeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "compat", "testdata", "errcodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f jsCodeFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Core != "1.2.0" || f.NodeIpc != "0.6.0" {
		t.Fatalf("errcodes.json is for core %s / node-ipc %s, want 1.2.0 / 0.6.0", f.Core, f.NodeIpc)
	}
	if len(f.Cases) == 0 {
		t.Fatal("errcodes.json has no cases")
	}
	return f
}

type declaredCode struct {
	name, value, doc, pos string
}

// declaredCodes parses the package's non-test files and returns every
// constant of type Code, in source order. A string constant that looks like
// a code but is not typed Code fails the test, so none escapes the check.
func declaredCodes(t *testing.T) []declaredCode {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []declaredCode
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typed := false
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
					typed = true
				}
				for i, n := range vs.Names {
					pos := fset.Position(n.Pos()).String()
					if i >= len(vs.Values) {
						t.Errorf("%s: constant %s has no value of its own", pos, n.Name)
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						if typed {
							t.Errorf("%s: Code constant %s is not a string literal", pos, n.Name)
						}
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					if !typed {
						if strings.HasPrefix(v, "E_") {
							t.Errorf("%s: constant %s = %q is not of type Code", pos, n.Name, v)
						}
						continue
					}
					out = append(out, declaredCode{name: n.Name, value: v, doc: vs.Doc.Text(), pos: pos})
				}
			}
		}
	}
	return out
}

// goName is the naming rule: the code without "E_" in CamelCase, IPC upper case.
func goName(code string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.TrimPrefix(code, "E_"), "_") {
		if w == "IPC" || w == "" {
			b.WriteString(w)
			continue
		}
		b.WriteString(w[:1] + strings.ToLower(w[1:]))
	}
	return b.String()
}

// TestCodesMatchJS fails when the Go constants and JSCodes drift from the
// codes that the installed JS packages use (compat/testdata/errcodes.json).
func TestCodesMatchJS(t *testing.T) {
	f := loadJSCodes(t)
	decl := declaredCodes(t)

	byValue := map[string]declaredCode{}
	for _, d := range decl {
		if prev, dup := byValue[d.value]; dup {
			t.Errorf("%s: %s = %q is already defined as %s (%s)", d.pos, d.name, d.value, prev.name, prev.pos)
			continue
		}
		byValue[d.value] = d
		if want := goName(d.value); d.name != want {
			t.Errorf("%s: constant for %s is named %s, want %s", d.pos, d.value, d.name, want)
		}
		if strings.TrimSpace(d.doc) == "" {
			t.Errorf("%s: constant %s has no doc comment", d.pos, d.name)
		}
	}

	js := map[string]bool{}
	var produced []Code
	for _, c := range f.Cases {
		if c.Name != c.Code || !strings.HasPrefix(c.Code, "E_") {
			t.Errorf("errcodes.json: bad case name %q / code %q", c.Name, c.Code)
		}
		js[c.Code] = true
		if _, ok := byValue[c.Code]; !ok {
			t.Errorf("JS code %s (%s, uses %v) has no Go constant: add %s to codes.go", c.Code, strings.Join(c.Packages, "+"), c.Uses, goName(c.Code))
		}
		if c.Produced {
			produced = append(produced, Code(c.Code))
		}
	}
	for _, d := range decl {
		if !js[d.value] && !strings.Contains(d.doc, "Go-only") {
			t.Errorf("%s: %s = %q is not a code of JS core 1.2.0 / node-ipc 0.6.0: remove it or document it as Go-only", d.pos, d.name, d.value)
		}
	}

	got := JSCodes()
	if !slices.IsSorted(got) {
		t.Errorf("JSCodes() is not sorted: %v", got)
	}
	for _, c := range got {
		if !slices.Contains(produced, c) {
			t.Errorf("JSCodes() has %s, which JS 1.2.0 does not produce", c)
		}
		if _, ok := byValue[string(c)]; !ok {
			t.Errorf("JSCodes() has %s, which is no declared constant", c)
		}
	}
	for _, c := range produced {
		if !slices.Contains(got, c) {
			t.Errorf("JSCodes() lacks %s, which JS 1.2.0 produces", c)
		}
	}
	if len(got) != len(produced) {
		t.Errorf("JSCodes() has %d codes, errcodes.json %d produced ones", len(got), len(produced))
	}

	got[0] = "E_MUTATED"
	if JSCodes()[0] == "E_MUTATED" {
		t.Error("JSCodes() returns its backing array, not a copy")
	}
}

// TestCodesErrorsIs checks that every declared code is matched by errors.Is
// through New and Wrap, also wrapped further, and only by itself.
func TestCodesErrorsIs(t *testing.T) {
	decl := declaredCodes(t)
	if len(decl) < len(JSCodes()) {
		t.Fatalf("%d declared codes, fewer than JSCodes()", len(decl))
	}
	cause := errors.New("cause")
	for i, d := range decl {
		c := Code(d.value)
		other := Code(decl[(i+1)%len(decl)].value)
		if c.Error() != d.value || c.NexusCode() != d.value {
			t.Errorf("%s: Error()/NexusCode() = %q/%q", d.name, c.Error(), c.NexusCode())
		}
		errs := map[string]error{
			"New":          New(c, "message"),
			"Wrap":         Wrap(c, "message", cause),
			"wrapped New":  fmt.Errorf("context: %w", New(c, "message")),
			"wrapped Wrap": fmt.Errorf("context: %w", Wrap(c, "", cause)),
		}
		for how, err := range errs {
			if !errors.Is(err, c) {
				t.Errorf("%s: errors.Is(%s, %s) = false", d.name, how, c)
			}
			if !errors.Is(err, New(c, "another message")) {
				t.Errorf("%s: errors.Is(%s, New(%s, ...)) = false", d.name, how, c)
			}
			if errors.Is(err, other) || errors.Is(err, New(other, "message")) {
				t.Errorf("%s: errors.Is(%s, %s) = true", d.name, how, other)
			}
			if got := CodeOf(err); got != c {
				t.Errorf("%s: CodeOf(%s) = %q", d.name, how, got)
			}
		}
		if !errors.Is(errs["Wrap"], cause) {
			t.Errorf("%s: Wrap loses its cause for errors.Is", d.name)
		}
	}
}
