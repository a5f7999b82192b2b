// Package cli implements nexusctl: Run takes the arguments and streams and
// returns the exit status, so that tests can run it in-process.
//
// Exit status: 0 success; 1 the remote side returned an error; 2 a
// connection, address, authentication or handshake error; 64 bad usage;
// 124 the command ran out of time (--timeout), as timeout(1) reports it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitRemote  = 1
	ExitConn    = 2
	ExitUsage   = 64
	ExitTimeout = 124 // as timeout(1): the command ran out of --timeout
)

// defaultTimeout is --timeout when it is not given, for the commands that
// connect (serve's drain time has its own default).
const defaultTimeout = 10 * time.Second

// exitSummary is the one-line list of exit statuses that usage prints.
const exitSummary = "Exit status: 0 ok, 1 remote error, 2 connection or address error, 64 bad usage, 124 timed out."

// env is what a command runs with.
type env struct {
	cmd            *command
	stdin          io.Reader
	stdout, stderr io.Writer
	color          bool
	flags          map[string]string
	bools          map[string]bool
	args           []string
}

type command struct {
	name    string
	args    string // the positional part of the usage line
	summary string
	help    string
	flags   []flagSpec
	run     func(e *env) int
}

// usage is the command's usage line: its positional arguments, then every
// flag it takes.
func (c *command) usage() string {
	s := "nexusctl " + c.name
	if c.args != "" {
		s += " " + c.args
	}
	for _, f := range c.flags {
		if f.required {
			s += " " + f.form()
		} else {
			s += " [" + f.form() + "]"
		}
	}
	return s
}

type flagSpec struct {
	name     string
	value    string // "" for a boolean flag
	help     string
	required bool
}

// form is the flag as the usage line writes it: "--name VALUE".
func (f flagSpec) form() string {
	if f.value == "" {
		return "--" + f.name
	}
	return "--" + f.name + " " + f.value
}

// The flags. Several commands share a name with a meaning of their own
// (--socket is where a client connects and where serve listens), so each
// meaning is its own spec.
var (
	socketFlag      = flagSpec{name: "socket", value: "PATH", help: "connect to this socket path instead of resolving TARGET"}
	tokenFlag       = flagSpec{name: "token-env", value: "VAR", help: "read the pre-auth token from environment variable VAR"}
	appIDFlag       = flagSpec{name: "app-id", value: "ID", help: "this client's appId in its identity (default nexusctl)"}
	timeoutFlag     = flagSpec{name: "timeout", value: "DURATION", help: "timeout of the whole command, such as 5s (default 10s; exit 124 when it ends)"}
	jsonFlag        = flagSpec{name: "json", help: "print machine-readable JSON"}
	probeFlag       = flagSpec{name: "probe", help: "connect to live daemons and show identity and providers"}
	probeTimeout    = flagSpec{name: "timeout", value: "DURATION", help: "timeout of each probe (default 10s)"}
	serveApp        = flagSpec{name: "app", value: "APP", help: "the daemon's appId (default nexusctl-demo)"}
	serveInstance   = flagSpec{name: "instance", value: "NAME", help: "the daemon's instance (default default)"}
	serveSocket     = flagSpec{name: "socket", value: "PATH", help: "listen on this socket path instead of the default path of --app and --instance"}
	serveToken      = flagSpec{name: "token-env", value: "VAR", help: "require the pre-auth token in environment variable VAR from every client"}
	serveLogLevel   = flagSpec{name: "log-level", value: "LEVEL", help: "debug (every call), info (connections, refusals, errors; the default), warn or error"}
	serveNoLegacy   = flagSpec{name: "refuse-legacy", help: "refuse core 0.x (node-ipc 0.3.x) clients with E_PROTOCOL_INCOMPATIBLE, as a JS 1.2.0 daemon does (by default both generations are served)"}
	serveTimeout    = flagSpec{name: "timeout", value: "DURATION", help: "on SIGINT/SIGTERM, how long calls in flight may finish before the daemon closes (default 5s)"}
	demoAppID       = flagSpec{name: "app-id", value: "ID", help: "the demo client's appId in its identity (default nexusctl)"}
	demoToken       = flagSpec{name: "token-env", value: "VAR", help: "run the demo with pre-auth: daemon and client use the token in VAR (the monitor masks it)"}
	demoTimeout     = flagSpec{name: "timeout", value: "DURATION", help: "timeout of the whole demo (default 10s; exit 124 when it ends)"}
	monitorListen   = flagSpec{name: "listen", value: "PATH", help: "socket path to listen on", required: true}
	monitorUpstream = flagSpec{name: "upstream", value: "PATH", help: "daemon socket to forward to", required: true}
	watchJSON       = flagSpec{name: "json", help: "print one JSON object per delivery: {\"type\",\"version\",\"state\"} (terminal: \"reason\" instead of \"state\")"}
	watchCount      = flagSpec{name: "count", value: "N", help: "exit 0 once N deliveries are printed (the initial state is the first)"}
	watchReady      = flagSpec{name: "ready-file", value: "FILE", help: "create FILE once subscribed and the initial state is printed (for scripts that act next)"}
	watchTimeout    = flagSpec{name: "timeout", value: "DURATION", help: "timeout of connecting and subscribing (default 10s; exit 124 when it ends); the watch itself runs until stopped"}
)

// connFlags are the flags of every command that connects to a daemon.
var connFlags = []flagSpec{socketFlag, tokenFlag, appIDFlag, timeoutFlag}

var commands []*command

func init() {
	commands = []*command{
		{name: "ls", summary: "list daemon sockets under the default runtime roots",
			help:  "Looks for <root>/<appId>/<instance>.sock under $XDG_RUNTIME_DIR/nexus and /tmp/nexus-<uid>,\nand says whether a daemon accepts on each (live) or not (stale). --probe also connects\nto each live daemon and shows its identity and providers.",
			flags: []flagSpec{probeFlag, jsonFlag, tokenFlag, appIDFlag, probeTimeout}, run: runLs},
		{name: "info", args: "TARGET", summary: "show a daemon's identity, providers and connection facts",
			flags: append([]flagSpec{jsonFlag}, connFlags...), run: runInfo},
		{name: "call", args: "TARGET SERVICE PATH [ARG...]", summary: "call a method and print its result as JSON",
			help:  "PATH is dotted (echo, store.items.add). Each ARG is JSON, @FILE (JSON read from FILE), or -\n(JSON read from stdin); a string is JSON too, so write '\"hello\"'. JS values JSON cannot hold\nare written and read as\n  {\"$map\":[[k,v],...]}  {\"$set\":[v,...]}  {\"$bigint\":\"123\"}  {\"$undefined\":true}\nand references print as {\"$ref\":\"res-N\"}.",
			flags: connFlags, run: runCall},
		{name: "get", args: "TARGET SERVICE PATH", summary: "read a property and print it as JSON", flags: connFlags, run: runGet},
		{name: "set", args: "TARGET SERVICE PATH VALUE", summary: "write a property (VALUE as for call's ARG)", flags: connFlags, run: runSet},
		{name: "watch", args: "TARGET STORE", summary: "print a Nexus State store's state as it changes",
			help:  "Mirrors the store served under the token id STORE (as connectNexusStore does) and prints\nthe initial state, then what each change moved (v3  count: 2 → 5), and a last line when\nthe host ends the subscription (v3  terminal: provider-shutdown). --json prints every\ndelivery as one line, {\"type\":\"init\"|\"snapshot\"|\"terminal\",\"version\":N,\"state\":{...}},\na terminal with \"reason\" instead of \"state\". Exit status: 1 when the store ends the\nsubscription (after printing it), 2 when the connection is lost, 0 on SIGINT or SIGTERM\n(after unsubscribing) or once --count deliveries are printed. --timeout bounds connecting\nand subscribing only.",
			flags: append([]flagSpec{watchJSON, watchCount, watchReady}, socketFlag, tokenFlag, appIDFlag, watchTimeout), run: runWatch},
		{name: "store", args: "TARGET STORE [ACTION [ARG...]]", summary: "print a Nexus State store's state, or run one of its actions",
			help:  "Subscribes to the store served under the token id STORE, prints its state as JSON (as call\nprints results) or, given ACTION, runs that action with the ARGs (written as for call) and\nprints its result, then unsubscribes. An action that throws is status 1, E_STORE_ACTION with the\nerror it threw as the cause. --timeout bounds the whole command.",
			flags: connFlags, run: runStore},
		{name: "serve", summary: "run a Go daemon with the built-in demo service and demo store",
			help:  "The service \"demo\" has echo(x), add(a, b), callback(fn, n), fail(code, message), the\nproperty counter, makeCounter(start) (a reference with increment() and value),\nsleep(ms) and whoami(). The Nexus State store \"demo-store\" holds {\"count\":0,\"label\":\"demo\"}\nwith the actions increment(n) (returns the new count), rename(label) and fail() (throws\nE_DEMO): try it with nexusctl watch and nexusctl store, or any Node connectNexusStore.\nConnections, refusals and errors are logged on stderr, and every call too with\n--log-level debug. Clients of core 1.x and 0.x (node-ipc 0.3.x) are both served unless\n--refuse-legacy is given. SIGINT or SIGTERM stops the daemon: demo-store ends its\nsubscriptions (terminal provider-shutdown, each acknowledged or 5s), then the socket\nis removed and calls in flight get --timeout to finish.",
			flags: []flagSpec{serveApp, serveInstance, serveSocket, serveToken, serveLogLevel, serveNoLegacy, serveTimeout}, run: runServe},
		{name: "monitor", summary: "proxy a socket and print the decoded traffic",
			help:  "Listens on --listen and forwards every connection to --upstream unchanged, printing\nboth directions decoded: pre-auth lines (tokens masked), handshakes, calls, replies\nand payload placeholders. --json prints one JSON object per message. It runs until\nSIGINT or SIGTERM; the clients bring their own tokens, timeouts and identities.",
			flags: []flagSpec{monitorListen, monitorUpstream, jsonFlag}, run: runMonitor},
		{name: "demo", summary: "run a demo daemon and client in one process and show their conversation",
			flags: []flagSpec{jsonFlag, demoAppID, demoToken, demoTimeout}, run: runDemo},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script", run: runCompletion},
		{name: "help", args: "[COMMAND]", summary: "show help", run: runHelp},
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
	e := &env{cmd: cmd, stdin: stdin, stdout: stdout, stderr: stderr, flags: map[string]string{}, bools: map[string]bool{}}
	e.color = isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	if err := parseFlags(cmd, args[1:], e); err != nil {
		if errors.Is(err, errHelp) {
			commandHelp(stdout, cmd)
			return ExitOK
		}
		fmt.Fprintf(stderr, "nexusctl %s: %v\n", cmd.name, err)
		fmt.Fprintf(stderr, "usage: %s\n", cmd.usage())
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
	fmt.Fprintln(w, exitSummary)
}

func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", c.usage(), c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", c.help)
	}
	if len(c.flags) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, f := range c.flags {
			fmt.Fprintf(w, "  %-22s %s\n", f.form(), f.help)
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

// timeout returns --timeout, or def when it is not given.
func (e *env) timeout(def time.Duration) (time.Duration, error) {
	t := e.flags["timeout"]
	if t == "" {
		return def, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--timeout %q: want a positive duration such as 500ms or 5s", t)
	}
	return d, nil
}

// afterTarget returns the arguments that follow TARGET (all of them with
// --socket, which replaces TARGET).
func (e *env) afterTarget() []string {
	if e.flags["socket"] != "" || len(e.args) == 0 {
		return e.args
	}
	return e.args[1:]
}

// target parses TARGET (APP[/INSTANCE]) unless --socket is given, in which
// case TARGET is not expected. It returns the remaining arguments.
func (e *env) target() (client.Address, *client.Options, []string, error) {
	opts, err := e.clientOptions()
	if err != nil {
		return client.Address{}, nil, nil, err
	}
	args := e.args
	if opts.SocketPath != "" {
		return client.Address{AppID: "socket"}, opts, args, nil
	}
	if len(args) == 0 {
		return client.Address{}, nil, nil, errors.New("missing TARGET (APP[/INSTANCE]) or --socket PATH")
	}
	app, inst, _ := strings.Cut(args[0], "/")
	return client.Address{AppID: app, Instance: inst}, opts, args[1:], nil
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

// conn is a command's connection to a daemon and the context that bounds
// the command (--timeout).
type conn struct {
	*client.Client
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *conn) close() {
	c.Client.Close()
	c.cancel()
}

// dial connects to the target of a command with the shared connection
// flags. It returns the connection and the arguments after TARGET, or nil
// and the exit status after printing what went wrong.
func (e *env) dial() (*conn, []string, int) {
	target, opts, rest, err := e.target()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl %s: %v\n", e.cmd.name, err)
		return nil, nil, ExitUsage
	}
	d, err := e.timeout(defaultTimeout)
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl %s: %v\n", e.cmd.name, err)
		return nil, nil, ExitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	c, err := client.Dial(ctx, target, opts)
	if err != nil {
		cancel()
		if errors.Is(err, errcode.IPCConnectFailed) && opts.SocketPath == "" {
			return nil, nil, e.connectFailed(target, opts, err)
		}
		if isTimeout(err) && opts.Token == "" {
			fmt.Fprintf(e.stderr, "%s %s: the daemon did not complete the handshake within %s\n", e.paint("31", "error"), errcode.CallTimeout, e.timeoutDesc())
			fmt.Fprintln(e.stderr, "  a daemon that requires pre-auth answers nothing until it gets its token: try --token-env VAR")
			return nil, nil, ExitTimeout
		}
		return nil, nil, e.fail(err)
	}
	return &conn{Client: c, ctx: ctx, cancel: cancel}, rest, ExitOK
}

// connectFailed explains a failed connection to a resolved TARGET: which
// daemon was looked for where, whether one of that name listens under the
// other runtime root, and what to run next.
func (e *env) connectFailed(target client.Address, opts *client.Options, err error) int {
	inst := target.Instance
	if inst == "" {
		inst = compat.DefaultInstance
	}
	env := compat.OSEnv()
	root := compat.RuntimeRoot(env)
	path, _ := client.ResolvePath(target, opts)
	why := "nobody accepts on it"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		why = errno.Error()
	}
	fmt.Fprintf(e.stderr, "%s %s: no daemon for app %q instance %q: %s (%s)\n", e.paint("31", "error"), errcode.IPCConnectFailed, target.AppID, inst, path, why)
	where := "from XDG_RUNTIME_DIR"
	if env.XDGRuntimeDir == "" {
		where = "XDG_RUNTIME_DIR is unset"
	}
	fmt.Fprintf(e.stderr, "  searched %s (%s)\n", root, where)
	for _, other := range runtimeRoots() {
		if other == root {
			continue
		}
		alt := filepath.Join(other, target.AppID, inst+".sock")
		if fi, err := os.Stat(alt); err == nil && fi.Mode()&os.ModeSocket != 0 {
			fmt.Fprintf(e.stderr, "  a socket of that name exists under %s: run with the daemon's XDG_RUNTIME_DIR, or --socket %s\n", other, alt)
		}
	}
	fmt.Fprintln(e.stderr, "  run 'nexusctl ls' to list the daemons that are running")
	return ExitConn
}

// fail prints err and returns its exit status: 1 for a remote error, 124
// for a timeout, 64 for bad usage, 2 for connection-level errors.
func (e *env) fail(err error) int {
	var re *protocol.RemoteError
	var he *session.HandshakeError
	var ce *errcode.Error
	switch {
	case errors.As(err, &he):
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "error"), he.Err.Code, firstNonEmpty(he.Err.Message, "handshake rejected by the daemon"))
		return ExitConn
	case errors.As(err, &ce) && ce.Code == errcode.ServiceUnavailable && errors.As(err, &re):
		// A 0.x daemon's answer for a service it does not provide.
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "remote error"), ce.Code, ce.Message)
		fmt.Fprintf(e.stderr, "  caused by %s: %s\n", firstNonEmpty(re.Code, string(errcode.Unknown)), firstNonEmpty(re.Message, "(no message)"))
		return ExitRemote
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "remote error"), firstNonEmpty(re.Code, string(errcode.Unknown)), firstNonEmpty(re.Message, "(no message)"))
		for c := re.Cause; c != nil; c = c.Cause {
			fmt.Fprintf(e.stderr, "  caused by %s: %s\n", firstNonEmpty(c.Code, string(errcode.Unknown)), firstNonEmpty(c.Message, "(no message)"))
		}
		return ExitRemote
	case isTimeout(err):
		fmt.Fprintf(e.stderr, "%s %s: no answer within %s\n", e.paint("31", "error"), errcode.CallTimeout, e.timeoutDesc())
		return ExitTimeout
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

// isTimeout reports whether err is a local timeout (a RemoteError with
// code E_CALL_TIMEOUT is the daemon's own and is checked before).
func isTimeout(err error) bool {
	return errors.Is(err, errcode.CallTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// timeoutDesc names the limit that ran out.
func (e *env) timeoutDesc() string {
	if t := e.flags["timeout"]; t != "" {
		return "--timeout " + t
	}
	return "the default --timeout of " + defaultTimeout.String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
