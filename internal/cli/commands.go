package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/jsonform"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// readArg reads the i-th ARG (from 1): JSON text, @FILE, or - for stdin.
func (e *env) readArg(i int, a string) (any, error) {
	var text []byte
	from := ""
	switch {
	case a == "-":
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, err
		}
		text, from = b, " (from stdin)"
	case strings.HasPrefix(a, "@"):
		b, err := os.ReadFile(a[1:])
		if err != nil {
			return nil, fmt.Errorf("argument %d: %v", i, err)
		}
		text, from = b, " (from "+a[1:]+")"
	default:
		text = []byte(a)
	}
	v, err := jsonform.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("argument %d %s%s %s%s", i, strconv.Quote(clip(string(text))), from, errcode.MessageOf(err), argHint(text))
	}
	return v, nil
}

// argHint suggests how to write an argument that is not JSON.
func argHint(text []byte) string {
	s := strings.TrimSpace(string(text))
	if s == "" {
		return ""
	}
	switch s[0] {
	case '{', '[', '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "; see 'nexusctl help call' for the forms of values"
	}
	if strings.ContainsAny(s, "'\\") {
		return "; a string is JSON text in double quotes, such as '\"hello\"'"
	}
	return fmt.Sprintf("; a string is JSON too, in double quotes: write '%s'", strconv.Quote(s))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (e *env) printValue(v any) int {
	b, err := jsonform.Format(v)
	if err != nil {
		return e.fail(err)
	}
	fmt.Fprintln(e.stdout, string(b))
	return ExitOK
}

func runCall(e *env) int { return callLike(e, "call") }
func runGet(e *env) int  { return callLike(e, "get") }
func runSet(e *env) int  { return callLike(e, "set") }

func callLike(e *env, op string) int {
	// Check the arguments before connecting.
	after := e.afterTarget()
	n := len(after)
	if e.flags["socket"] == "" && len(e.args) == 0 {
		n = -1 // no TARGET either
	}
	switch {
	case op == "call" && n < 2, op == "get" && n != 2, op == "set" && n != 3:
		fmt.Fprintf(e.stderr, "nexusctl %s: wrong number of arguments\nusage: %s\n", op, e.cmd.usage())
		return ExitUsage
	}
	values := after[2:]
	args := make([]any, 0, len(values))
	for i, a := range values {
		v, err := e.readArg(i+1, a)
		if err != nil {
			fmt.Fprintf(e.stderr, "nexusctl %s: %v\n", op, err)
			return ExitUsage
		}
		args = append(args, v)
	}
	c, rest, code := e.dial()
	if c == nil {
		return code
	}
	defer c.close()
	svc := c.Service(rest[0])
	var res client.Result
	var err error
	switch op {
	case "call":
		res, err = svc.Call(c.ctx, rest[1], args...)
	case "get":
		res, err = svc.Get(c.ctx, rest[1])
	case "set":
		if err = svc.Set(c.ctx, rest[1], args[0]); err == nil {
			return ExitOK
		}
	}
	if err != nil {
		return e.fail(err)
	}
	return e.printValue(res.Value())
}

func runInfo(e *env) int {
	if after := e.afterTarget(); len(after) > 0 {
		fmt.Fprintf(e.stderr, "nexusctl info: unexpected arguments %q\nusage: %s\n", after, e.cmd.usage())
		return ExitUsage
	}
	c, _, code := e.dial()
	if c == nil {
		return code
	}
	defer c.close()
	f := c.Observed()
	if e.bools["json"] {
		v := protocol.NewObject("daemon", c.Daemon(), "providers", toAny(c.Providers()),
			"facts", protocol.NewObject("socket", f.Socket, "authenticated", f.Authenticated, "authMethod", f.AuthMethod),
			"protocol", c.Generation().String())
		return e.printValue(v)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	id := c.Daemon()
	for i := 0; id != nil && i < id.Len(); i++ {
		k, v := id.At(i)
		b, _ := jsonform.Format(v)
		val := string(b)
		if s, ok := v.(string); ok {
			val = s
		}
		fmt.Fprintf(tw, "%s\t%s\n", e.paint("1", k), val)
	}
	fmt.Fprintf(tw, "%s\t%s\n", e.paint("1", "providers"), providersText(c.Generation(), c.Providers(), ", "))
	fmt.Fprintf(tw, "%s\t%s\n", e.paint("1", "protocol"), generationText(c.Generation()))
	fmt.Fprintf(tw, "%s\t%s\n", e.paint("1", "socket"), f.Socket)
	fmt.Fprintf(tw, "%s\t%s (%s)\n", e.paint("1", "authenticated"), strconv.FormatBool(f.Authenticated), f.AuthMethod)
	tw.Flush()
	return ExitOK
}

// generationText describes a daemon's protocol generation for info.
func generationText(g session.Generation) string {
	if g.Legacy() {
		return "core 0.x (legacy)"
	}
	return "core 1.x (" + session.CapProviderCatalog + ")"
}

// providersText lists a daemon's catalog, or says that a 0.x daemon has
// none.
func providersText(g session.Generation, providers []string, sep string) string {
	if g.Legacy() {
		return "(none: a core 0.x daemon has no catalog)"
	}
	return strings.Join(providers, sep)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// socketEntry is one socket found by ls.
type socketEntry struct {
	root, app, instance, path, state string
	identity                         *protocol.Object
	providers                        []string
	generation                       session.Generation
	probeErr                         string
}

// runtimeRoots returns the roots ls scans: what JS would use with the
// current environment first, then the other one if it exists.
func runtimeRoots() []string {
	var roots []string
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		roots = append(roots, compat.RuntimeRoot(compat.Env{XDGRuntimeDir: x}))
	}
	roots = append(roots, compat.RuntimeRoot(compat.Env{UID: os.Getuid()}))
	return roots
}

func scan() []socketEntry {
	var out []socketEntry
	for _, root := range runtimeRoots() {
		apps, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, app := range apps {
			if !app.IsDir() {
				continue
			}
			files, err := os.ReadDir(filepath.Join(root, app.Name()))
			if err != nil {
				continue
			}
			for _, f := range files {
				if !strings.HasSuffix(f.Name(), ".sock") || f.Type()&os.ModeSocket == 0 {
					continue
				}
				p := filepath.Join(root, app.Name(), f.Name())
				ent := socketEntry{root: root, app: app.Name(), instance: strings.TrimSuffix(f.Name(), ".sock"), path: p, state: "stale"}
				if nc, err := net.DialTimeout("unix", p, time.Second); err == nil {
					nc.Close()
					ent.state = "live"
				}
				out = append(out, ent)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

func runLs(e *env) int {
	if len(e.args) != 0 {
		fmt.Fprintf(e.stderr, "nexusctl ls: unexpected arguments %q\n", e.args)
		return ExitUsage
	}
	entries := scan()
	if e.bools["probe"] {
		d, err := e.timeout(defaultTimeout)
		if err != nil {
			fmt.Fprintf(e.stderr, "nexusctl ls: %v\n", err)
			return ExitUsage
		}
		opts, err := e.clientOptions()
		if err != nil {
			fmt.Fprintf(e.stderr, "nexusctl ls: %v\n", err)
			return ExitUsage
		}
		for i := range entries {
			if entries[i].state != "live" {
				continue
			}
			o := *opts
			o.SocketPath = entries[i].path
			ctx, cancel := context.WithTimeout(context.Background(), d)
			c, err := client.Dial(ctx, client.Address{AppID: entries[i].app}, &o)
			cancel()
			if err != nil {
				entries[i].probeErr = err.Error()
				continue
			}
			entries[i].identity, entries[i].providers, entries[i].generation = c.Daemon(), c.Providers(), c.Generation()
			c.Close()
		}
	}
	if e.bools["json"] {
		list := make([]any, 0, len(entries))
		for _, en := range entries {
			o := protocol.NewObject("appId", en.app, "instance", en.instance, "path", en.path, "state", en.state)
			if e.bools["probe"] {
				if en.identity != nil {
					o.Set("daemon", en.identity)
					o.Set("providers", toAny(en.providers))
					o.Set("protocol", en.generation.String())
				}
				if en.probeErr != "" {
					o.Set("error", en.probeErr)
				}
			}
			list = append(list, o)
		}
		return e.printValue(list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	head := "APP\tINSTANCE\tSTATE\tPATH"
	if e.bools["probe"] {
		head += "\tPID\tPROVIDERS"
	}
	fmt.Fprintln(tw, e.paint("1", head))
	for _, en := range entries {
		state := en.state
		if state == "live" {
			state = e.paint("32", state)
		} else {
			state = e.paint("33", state)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s", en.app, en.instance, state, en.path)
		if e.bools["probe"] {
			switch {
			case en.identity != nil:
				pid, _ := jsonform.Format(protocol.Get(en.identity, "pid"))
				line += fmt.Sprintf("\t%s\t%s", pid, providersText(en.generation, en.providers, ","))
			case en.probeErr != "":
				line += "\t-\t" + e.paint("31", en.probeErr)
			default:
				line += "\t-\t-"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	return ExitOK
}
