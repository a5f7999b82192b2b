// Package cli implements nexusctl: Run takes the arguments and streams and
// returns the exit status, so that tests can run it in-process.
//
// Exit status: 0 success; 1 the remote side returned an error; 2 a
// connection, address, authentication or handshake error; 64 bad usage.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Exit statuses.
const (
	ExitOK     = 0
	ExitRemote = 1
	ExitConn   = 2
	ExitUsage  = 64
)

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	color          bool
	flags          map[string]string
	bools          map[string]bool
	args           []string
}

type command struct {
	name    string
	usage   string
	summary string
	help    string
	flags   []flagSpec
	run     func(e *env) int
}

type flagSpec struct {
	name    string
	value   string // "" for a boolean flag
	help    string
	connect bool // one of the shared connection flags
}

var connFlags = []flagSpec{
	{name: "socket", value: "PATH", help: "connect to this socket path instead of resolving TARGET", connect: true},
	{name: "token-env", value: "VAR", help: "read the pre-auth token from environment variable VAR", connect: true},
	{name: "app-id", value: "ID", help: "this client's appId in its identity (default nexusctl)", connect: true},
	{name: "timeout", value: "DURATION", help: "timeout of the whole command, such as 5s (default 10s)", connect: true},
}

var jsonFlag = flagSpec{name: "json", help: "print machine-readable JSON"}

var commands []*command

func init() {
	commands = []*command{
		{name: "ls", usage: "nexusctl ls [--probe] [--json]", summary: "list daemon sockets under the default runtime roots",
			help:  "Looks for <root>/<appId>/<instance>.sock under $XDG_RUNTIME_DIR/nexus and /tmp/nexus-<uid>,\nand says whether a daemon accepts on each (live) or not (stale). --probe also connects\nto each live daemon and shows its identity and providers.",
			flags: append([]flagSpec{{name: "probe", help: "connect to live daemons and show identity and providers"}, jsonFlag}, connFlags[1:]...), run: runLs},
		{name: "info", usage: "nexusctl info TARGET [--json]", summary: "show a daemon's identity, providers and connection facts",
			flags: append([]flagSpec{jsonFlag}, connFlags...), run: runInfo},
		{name: "call", usage: "nexusctl call TARGET SERVICE PATH [ARG...]", summary: "call a method and print its result as JSON",
			help:  "PATH is dotted (echo, store.items.add). Each ARG is JSON, @FILE (JSON read from FILE), or -\n(JSON read from stdin). JS values JSON cannot hold are written and read as\n  {\"$map\":[[k,v],...]}  {\"$set\":[v,...]}  {\"$bigint\":\"123\"}  {\"$undefined\":true}\nand references print as {\"$ref\":\"res-N\"}.",
			flags: connFlags, run: runCall},
		{name: "get", usage: "nexusctl get TARGET SERVICE PATH", summary: "read a property and print it as JSON", flags: connFlags, run: runGet},
		{name: "set", usage: "nexusctl set TARGET SERVICE PATH VALUE", summary: "write a property (VALUE as for call's ARG)", flags: connFlags, run: runSet},
		{name: "serve", usage: "nexusctl serve [--app APP] [--instance NAME] [--socket PATH]", summary: "run a Go daemon with the built-in demo service",
			help:  "The service \"demo\" has echo(x), add(a, b), callback(fn, n), fail(code, message), the\nproperty counter, makeCounter(start) (a reference with increment() and value),\nsleep(ms) and whoami(). Connections and calls are logged on stderr. SIGINT or\nSIGTERM stops the daemon and removes its socket. --app defaults to nexusctl-demo.",
			flags: []flagSpec{{name: "app", value: "APP", help: "appId (default nexusctl-demo)"}, {name: "instance", value: "NAME", help: "instance (default default)"}, connFlags[0], connFlags[1]}, run: runServe},
		{name: "monitor", usage: "nexusctl monitor --listen PATH --upstream PATH [--json]", summary: "proxy a socket and print the decoded traffic",
			help:  "Listens on --listen and forwards every connection to --upstream unchanged, printing\nboth directions decoded: pre-auth lines (tokens masked), handshakes, calls, replies\nand payload placeholders. --json prints one JSON object per message.",
			flags: []flagSpec{{name: "listen", value: "PATH", help: "socket path to listen on"}, {name: "upstream", value: "PATH", help: "daemon socket to forward to"}, jsonFlag}, run: runMonitor},
		{name: "demo", usage: "nexusctl demo [--json]", summary: "run a demo daemon and client in one process and show their conversation",
			flags: []flagSpec{jsonFlag}, run: runDemo},
		{name: "completion", usage: "nexusctl completion bash|zsh|fish", summary: "print a shell completion script", run: runCompletion},
		{name: "help", usage: "nexusctl help [COMMAND]", summary: "show help", run: runHelp},
	}
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Run runs nexusctl with args (without the program name).
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	if args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return ExitOK
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(stderr, "nexusctl: unknown command %q\n", args[0])
		usage(stderr)
		return ExitUsage
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, flags: map[string]string{}, bools: map[string]bool{}}
	e.color = isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	if err := parseFlags(cmd, args[1:], e); err != nil {
		if errors.Is(err, errHelp) {
			commandHelp(stdout, cmd)
			return ExitOK
		}
		fmt.Fprintf(stderr, "nexusctl %s: %v\n", cmd.name, err)
		fmt.Fprintf(stderr, "usage: %s\n", cmd.usage)
		return ExitUsage
	}
	return cmd.run(e)
}

var errHelp = errors.New("help requested")

// parseFlags accepts flags anywhere among the arguments ("--name value",
// "--name=value"); "--" ends them; "-" and negative numbers are arguments.
func parseFlags(cmd *command, args []string, e *env) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			e.args = append(e.args, args[i+1:]...)
			return nil
		}
		if a == "-h" || a == "--help" {
			return errHelp
		}
		if len(a) < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.' {
			e.args = append(e.args, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		val, hasVal := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, hasVal = k, v, true
		}
		var spec *flagSpec
		for j := range cmd.flags {
			if cmd.flags[j].name == name {
				spec = &cmd.flags[j]
			}
		}
		if spec == nil {
			return fmt.Errorf("unknown flag --%s", name)
		}
		if spec.value == "" {
			if hasVal {
				e.bools[name] = val == "true" || val == "1"
			} else {
				e.bools[name] = true
			}
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		e.flags[name] = val
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "nexusctl: talk to Nexus local-IPC daemons (@nexus-js/node-ipc) and debug them")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "TARGET is APP[/INSTANCE], resolved as node-ipc does ($XDG_RUNTIME_DIR/nexus/APP/INSTANCE.sock,")
	fmt.Fprintln(w, "or /tmp/nexus-<uid>/...), or use --socket PATH. Run 'nexusctl help COMMAND' for details.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 remote error, 2 connection or address error, 64 bad usage.")
}

func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", c.usage, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", c.help)
	}
	if len(c.flags) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs := append([]flagSpec(nil), c.flags...)
		sort.SliceStable(fs, func(i, j int) bool { return !fs[i].connect && fs[j].connect })
		for _, f := range fs {
			n := "--" + f.name
			if f.value != "" {
				n += " " + f.value
			}
			fmt.Fprintf(w, "  %-22s %s\n", n, f.help)
		}
	}
}

func runHelp(e *env) int {
	if len(e.args) == 0 {
		usage(e.stdout)
		return ExitOK
	}
	c := findCommand(e.args[0])
	if c == nil {
		fmt.Fprintf(e.stderr, "nexusctl help: unknown command %q\n", e.args[0])
		return ExitUsage
	}
	commandHelp(e.stdout, c)
	return ExitOK
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// paint wraps s in an ANSI color when writing to a terminal.
func (e *env) paint(code, s string) string {
	if !e.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (e *env) timeout() (time.Duration, error) {
	t := e.flags["timeout"]
	if t == "" {
		return 10 * time.Second, nil
	}
	return time.ParseDuration(t)
}

// target parses TARGET (APP[/INSTANCE]) unless --socket is given, in which
// case TARGET is not expected. It returns the remaining arguments.
func (e *env) target() (client.Target, *client.Options, []string, error) {
	opts, err := e.clientOptions()
	if err != nil {
		return client.Target{}, nil, nil, err
	}
	args := e.args
	if opts.SocketPath != "" {
		return client.Target{AppID: "socket"}, opts, args, nil
	}
	if len(args) == 0 {
		return client.Target{}, nil, nil, errors.New("missing TARGET (APP[/INSTANCE]) or --socket PATH")
	}
	app, inst, _ := strings.Cut(args[0], "/")
	return client.Target{AppID: app, Instance: inst}, opts, args[1:], nil
}

// token returns the pre-auth token named by --token-env ("" without it).
func (e *env) token() (string, error) {
	v := e.flags["token-env"]
	if v == "" {
		return "", nil
	}
	tok, ok := os.LookupEnv(v)
	if !ok || tok == "" {
		return "", fmt.Errorf("--token-env: environment variable %s is not set", v)
	}
	return tok, nil
}

// clientOptions builds the client options of --socket, --app-id and
// --token-env.
func (e *env) clientOptions() (*client.Options, error) {
	tok, err := e.token()
	if err != nil {
		return nil, err
	}
	opts := &client.Options{AppID: "nexusctl", SocketPath: e.flags["socket"], Token: tok}
	if id := e.flags["app-id"]; id != "" {
		opts.AppID = id
	}
	return opts, nil
}

// dial parses the target and connects.
func (e *env) dial() (*client.Client, context.Context, context.CancelFunc, []string, int) {
	target, opts, rest, err := e.target()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl: %v\n", err)
		return nil, nil, nil, nil, ExitUsage
	}
	d, err := e.timeout()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl: --timeout: %v\n", err)
		return nil, nil, nil, nil, ExitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	c, err := client.Dial(ctx, target, opts)
	if err != nil {
		cancel()
		return nil, nil, nil, nil, e.fail(err)
	}
	return c, ctx, cancel, rest, ExitOK
}

// fail prints err and returns its exit status: 1 for a remote error, 2
// for connection-level errors.
func (e *env) fail(err error) int {
	var re *protocol.RemoteError
	var he *session.HandshakeError
	switch {
	case errors.As(err, &he):
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "error"), he.Err.Code, firstNonEmpty(he.Err.Message, "handshake rejected by the daemon"))
		return ExitConn
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "remote error"), firstNonEmpty(re.Code, string(errcode.Unknown)), firstNonEmpty(re.Message, "(no message)"))
		for c := re.Cause; c != nil; c = c.Cause {
			fmt.Fprintf(e.stderr, "  caused by %s: %s\n", firstNonEmpty(c.Code, string(errcode.Unknown)), firstNonEmpty(c.Message, "(no message)"))
		}
		return ExitRemote
	}
	code := errcode.CodeOf(err)
	if code == "" {
		code = errcode.Unknown
	}
	msg := strings.TrimPrefix(err.Error(), string(code)+": ")
	fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "error"), code, msg)
	if code == errcode.UsageInvalid {
		return ExitUsage
	}
	return ExitConn
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
