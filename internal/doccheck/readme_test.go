package doccheck

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const readme = "../../README.md"

func readmeBlocks(t *testing.T) []Block {
	t.Helper()
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	return Blocks(doc)
}

// build writes a snippet into its own directory inside the module (so its
// imports of nexus-go resolve; the "_" keeps it out of ./...), vets it and
// builds it, and returns the binary.
func build(t *testing.T, b Block) string {
	t.Helper()
	dir, err := os.MkdirTemp(".", "_snippet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(b.Text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"vet", "./" + dir}, {"build", "-o", filepath.Join(dir, "prog"), "./" + dir}} {
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			t.Fatalf("README.md:%d: go %s: %v\n%s\n--- snippet ---\n%s", b.Line, args[0], err, out, b.Text)
		}
	}
	abs, _ := filepath.Abs(filepath.Join(dir, "prog"))
	return abs
}

func TestBlocks(t *testing.T) {
	doc := "x\n```go\npackage main\n```\n\n```text\nout\n```\nprose\n```go\nb\n```\ntext\n```text\nnot output\n```\n"
	bs := Blocks([]byte(doc))
	if len(bs) != 4 || bs[0].Lang != "go" || bs[0].Text != "package main\n" || bs[0].Line != 2 {
		t.Fatalf("blocks: %+v", bs)
	}
	if bs[0].Output == nil || *bs[0].Output != "out\n" {
		t.Fatalf("output of the first go block: %v", bs[0].Output)
	}
	if bs[2].Output != nil {
		t.Fatalf("a text block after prose is not output: %q", *bs[2].Output)
	}
}

// TestGoSnippetsAreProgramsThatBuild: every ```go block of the README is a
// complete program as written; one followed by a ```text block prints
// exactly that text.
func TestGoSnippetsAreProgramsThatBuild(t *testing.T) {
	n := 0
	for _, b := range readmeBlocks(t) {
		if b.Lang != "go" {
			continue
		}
		n++
		if !strings.HasPrefix(b.Text, "package main\n") {
			t.Errorf("README.md:%d: a Go snippet must be a whole program (package main ...)", b.Line)
			continue
		}
		prog := build(t, b)
		if b.Output == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, prog).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("README.md:%d: the program failed: %v\n%s", b.Line, err, out)
		} else if string(out) != *b.Output {
			t.Errorf("README.md:%d: the program prints\n%s\nthe README says\n%s", b.Line, out, *b.Output)
		}
	}
	if n < 3 {
		t.Fatalf("README.md has %d Go snippets; expected the client, daemon and protocol programs", n)
	}
}

// snippet returns the only block of lang that contains all of marks.
func snippet(t *testing.T, lang string, marks ...string) Block {
	t.Helper()
	var found []Block
	for _, b := range readmeBlocks(t) {
		ok := b.Lang == lang
		for _, m := range marks {
			ok = ok && strings.Contains(b.Text, m)
		}
		if ok {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README.md: %d %s blocks contain %q, want 1", len(found), lang, marks)
	}
	return found[0]
}

// TestDaemonAndClientPrograms runs the README's daemon program, then its Go
// client program and its Node client snippet against it (an unchanged
// @nexus-js/node-ipc client), then stops the daemon with SIGTERM as a
// service manager would.
func TestDaemonAndClientPrograms(t *testing.T) {
	daemonProg := build(t, snippet(t, "go", "daemon.New", "Serve("))
	clientProg := build(t, snippet(t, "go", "client.Dial"))
	nodeSnippet := snippet(t, "js", "usingNodeIpcClient")

	xdg, err := os.MkdirTemp("/tmp", "nxdoc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(xdg) })
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	sock := filepath.Join(xdg, "nexus", "example-app", "default.sock")

	var dlog bytes.Buffer
	d := exec.Command(daemonProg)
	d.Env, d.Stdout, d.Stderr = env, &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.Wait() }()
	t.Cleanup(func() {
		d.Process.Kill()
		<-exited
	})
	waitAccepting(t, sock, exited, &dlog)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, clientProg)
	c.Env = env
	if out, err := c.CombinedOutput(); err != nil || string(out) != "hi\n" {
		t.Fatalf("the README's Go client printed %q (%v), want \"hi\"", out, err)
	}

	fixtures, err := filepath.Abs("../../node-fixtures")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(fixtures, "node_modules", "@nexus-js", "node-ipc")); err != nil {
		t.Fatalf("node-fixtures are not installed (run: cd node-fixtures && npm ci): %v", err)
	}
	// Inside node-fixtures, so that the imports resolve to the pinned packages.
	f, err := os.CreateTemp(fixtures, "_readme-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	f.WriteString(nodeSnippet.Text)
	f.Close()
	js := os.Getenv("NEXUS_JS_RUNTIME")
	if js == "" {
		js = "node"
	}
	var nout, nerr bytes.Buffer
	n := exec.CommandContext(ctx, js, f.Name())
	n.Env, n.Stdout, n.Stderr = env, &nout, &nerr
	if err := n.Run(); err != nil || nout.String() != "hi\n" {
		t.Fatalf("README.md:%d: the Node client printed %q (%v), stderr:\n%s", nodeSnippet.Line, nout.String(), err, nerr.String())
	}

	if err := d.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("the daemon program exited with %v after SIGTERM:\n%s", err, dlog.String())
	}
	exited <- nil // for the cleanup
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind after SIGTERM: %v", err)
	}
}

// waitAccepting waits until something accepts on sock, failing if the
// process exits first.
func waitAccepting(t *testing.T, sock string, exited chan error, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the daemon program exited (%v) before listening:\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing accepts on %s after 30s:\n%s", sock, log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
