package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/demo"
	"github.com/nexus-interop/nexus-go/protocol"
)

func runServe(e *env) int {
	if len(e.args) != 0 {
		fmt.Fprintf(e.stderr, "nexusctl serve: unexpected arguments %q\nusage: %s\n", e.args, e.cmd.usage())
		return ExitUsage
	}
	app := e.flags["app"]
	if app == "" {
		app = "nexusctl-demo"
	}
	drain, err := e.timeout(daemon.DefaultShutdownTimeout)
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl serve: %v\n", err)
		return ExitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(firstNonEmpty(e.flags["log-level"], "info"))); err != nil {
		fmt.Fprintf(e.stderr, "nexusctl serve: --log-level %q: want debug, info, warn or error\n", e.flags["log-level"])
		return ExitUsage
	}
	tok, err := e.token()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl serve: %v\n", err)
		return ExitUsage
	}
	opts := &daemon.Options{AppID: app, Instance: e.flags["instance"], SocketPath: e.flags["socket"], Token: tok,
		ShutdownTimeout: drain, RefuseLegacy: e.bools["refuse-legacy"],
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))}
	d, err := daemon.New(opts)
	if err != nil {
		return e.fail(err)
	}
	d.Provide("demo", &demo.Service{})
	store := demo.NewStore(nil)
	d.Provide(demo.StoreToken, store.Service())
	if err := d.Listen(); err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdout, "serving %s/%s on %s (service: demo)\n", app, protocol.Get(d.Identity(), "instance"), d.Path())
	sig, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// On SIGINT or SIGTERM the store ends its subscriptions first
	// (terminal provider-shutdown, while the mirrors' sessions are still
	// up), then the daemon shuts down.
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	closeStore := context.AfterFunc(sig, func() {
		store.Close()
		shutdown()
	})
	defer closeStore()
	if err := d.Serve(ctx); err != nil {
		return e.fail(err)
	}
	fmt.Fprintln(e.stderr, "stopped; socket removed")
	return ExitOK
}

// runDemo starts the demo daemon and a monitor in front of it, and drives
// a client through a few calls, so that the conversation prints as
// `nexusctl monitor` would show it.
func runDemo(e *env) int {
	if len(e.args) != 0 {
		fmt.Fprintf(e.stderr, "nexusctl demo: unexpected arguments %q\nusage: %s\n", e.args, e.cmd.usage())
		return ExitUsage
	}
	limit, err := e.timeout(defaultTimeout)
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl demo: %v\n", err)
		return ExitUsage
	}
	opts, err := e.clientOptions()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl demo: %v\n", err)
		return ExitUsage
	}
	dir, err := os.MkdirTemp("/tmp", "nexusctl-demo-")
	if err != nil {
		return e.fail(err)
	}
	defer os.RemoveAll(dir)
	dsock, msock := filepath.Join(dir, "daemon.sock"), filepath.Join(dir, "monitor.sock")
	d, err := daemon.New(&daemon.Options{AppID: "nexusctl-demo", SocketPath: dsock, Token: opts.Token})
	if err != nil {
		return e.fail(err)
	}
	d.Provide("demo", &demo.Service{})
	if err := d.Listen(); err != nil {
		return e.fail(err)
	}
	defer d.Close()

	t := newTally()
	p := &printer{w: e.stdout, json: e.bools["json"], color: e.color, onEmit: t.add}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	mctx, stopMonitor := context.WithCancel(ctx)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- monitorServer(mctx, msock, dsock, p, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		stopMonitor()
		if ctx.Err() != nil {
			return e.fail(errcode.FromContext(ctx))
		}
		return e.fail(err)
	}
	say := func(s string) {
		if !p.json {
			p.mu.Lock()
			fmt.Fprintln(e.stdout, e.paint("2", "# "+s))
			p.mu.Unlock()
		}
	}
	say("daemon: a Go daemon (appId nexusctl-demo, service demo) on " + dsock)
	say("monitor: " + msock + ", forwarding to the daemon and printing every message")
	say("legend: #1 = connection 1; C>S = client to daemon (server), S>C = daemon to client; → a reply's value, ✗ an error; # -> what the client got")
	opts.SocketPath = msock
	code := demoScript(ctx, e, opts, t, say)
	stopMonitor()
	<-done
	return code
}

// note is a demo step's remark printed instead of a result.
type note string

// tally counts the messages the monitor printed, by type, so that the demo
// can wait until the monitor has shown a message before the next step.
type tally struct {
	mu      sync.Mutex
	seen    map[string]int
	changed chan struct{} // closed and replaced on every message
}

func newTally() *tally { return &tally{seen: map[string]int{}, changed: make(chan struct{})} }

func (t *tally) add(typ string) {
	t.mu.Lock()
	t.seen[typ]++
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
}

// await waits until n messages of type typ have been printed, or ctx ends.
func (t *tally) await(ctx context.Context, typ string, n int) error {
	for {
		t.mu.Lock()
		got, ch := t.seen[typ], t.changed
		t.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// demoScript is the client's side of the demo. The monitor prints each
// message before it forwards it, so a call's reply has been printed when
// the call returns; messages with no reply (HANDSHAKE_READY, RELEASE, the
// close) are awaited in the tally before the next step.
func demoScript(ctx context.Context, e *env, opts *client.Options, t *tally, say func(string)) int {
	say("client: dial nexusctl-demo through the monitor, as appId " + opts.AppID)
	c, err := client.Dial(ctx, client.Address{AppID: "nexusctl-demo"}, opts)
	if err != nil {
		return e.fail(err)
	}
	defer c.Close()
	if err := t.await(ctx, "HANDSHAKE_READY", 1); err != nil {
		return e.fail(err)
	}
	svc := c.Service("demo")
	step := func(desc string, f func() (any, error)) bool {
		say(desc)
		v, err := f()
		if err != nil {
			var re *protocol.RemoteError
			if errors.As(err, &re) {
				say("  -> remote error " + re.Code + ": " + re.Message)
				return true
			}
			say("  -> error: " + err.Error())
			return false
		}
		if n, ok := v.(note); ok {
			say("  (" + string(n) + ")")
			return true
		}
		say("  -> " + pretty(v))
		return true
	}
	call := func(m string, args ...any) func() (any, error) {
		return func() (any, error) {
			r, err := svc.Call(ctx, m, args...)
			return r.Value(), err
		}
	}
	var counter *client.Ref
	big, _ := new(big.Int).SetString("12345678901234567890", 10)
	ok := step(`demo.echo("hello")`, call("echo", "hello")) &&
		step(`demo.add(2, 40)`, call("add", 2, 40)) &&
		step(`demo.echo(Map, Set, BigInt, undefined)`, call("echo", []any{protocol.NewMap("a", 1), protocol.NewSet("x", "y"), big, protocol.Undefined{}})) &&
		step(`demo.callback(fn, 3), fn(i) = i * i in Go`, call("callback", func(i int) int { return i * i }, 3)) &&
		step(`counter := demo.makeCounter(10); counter.increment()`, func() (any, error) {
			r, err := svc.Call(ctx, "makeCounter", 10)
			if err != nil {
				return nil, err
			}
			if counter, err = r.Ref(); err != nil {
				return nil, err
			}
			res, err := counter.Call(ctx, "increment")
			return res.Value(), err
		}) &&
		step(`counter.release()`, func() (any, error) {
			counter.Release()
			return note("RELEASE is a notification: no reply"), t.await(ctx, "RELEASE", 1)
		}) &&
		step(`demo.counter = 7; demo.counter`, func() (any, error) {
			if err := svc.Set(ctx, "counter", 7); err != nil {
				return nil, err
			}
			r, err := svc.Get(ctx, "counter")
			return r.Value(), err
		}) &&
		step(`demo.fail("E_DEMO", "this one fails on purpose")`, call("fail", "E_DEMO", "this one fails on purpose"))
	if !ok {
		return ExitConn
	}
	say("client: close")
	c.Close()
	if err := t.await(ctx, "CLOSE", 1); err != nil {
		return e.fail(err)
	}
	return ExitOK
}
