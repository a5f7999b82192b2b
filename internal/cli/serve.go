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
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/demo"
	"github.com/nexus-interop/nexus-go/protocol"
)

func runServe(e *env) int {
	if len(e.args) != 0 {
		fmt.Fprintf(e.stderr, "nexusctl serve: unexpected arguments %q\n", e.args)
		return ExitUsage
	}
	app := e.flags["app"]
	if app == "" {
		app = "nexusctl-demo"
	}
	opts := &daemon.Options{AppID: app, Instance: e.flags["instance"], SocketPath: e.flags["socket"],
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	tok, err := e.token()
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl serve: %v\n", err)
		return ExitUsage
	}
	opts.Token = tok
	d, err := daemon.New(opts)
	if err != nil {
		return e.fail(err)
	}
	d.Provide("demo", &demo.Service{})
	if err := d.Listen(); err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdout, "serving %s/%s on %s (service: demo)\n", app, protocol.Get(d.Identity(), "instance"), d.Path())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.Shutdown(sctx)
	fmt.Fprintln(e.stderr, "stopped; socket removed")
	return ExitOK
}

// runDemo starts the demo daemon and a monitor in front of it, and drives
// a client through a few calls, so that the conversation prints as
// `nexusctl monitor` would show it.
func runDemo(e *env) int {
	if len(e.args) != 0 {
		fmt.Fprintf(e.stderr, "nexusctl demo: unexpected arguments %q\n", e.args)
		return ExitUsage
	}
	dir, err := os.MkdirTemp("/tmp", "nexusctl-demo-")
	if err != nil {
		return e.fail(err)
	}
	defer os.RemoveAll(dir)
	dsock, msock := filepath.Join(dir, "daemon.sock"), filepath.Join(dir, "monitor.sock")
	d, err := daemon.New(&daemon.Options{AppID: "nexusctl-demo", SocketPath: dsock})
	if err != nil {
		return e.fail(err)
	}
	d.Provide("demo", &demo.Service{})
	if err := d.Listen(); err != nil {
		return e.fail(err)
	}
	defer d.Close()

	p := &printer{w: e.stdout, json: e.bools["json"], color: e.color}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- monitorServer(ctx, msock, dsock, p, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		return e.fail(err)
	}
	say := func(s string) {
		if !p.json {
			p.mu.Lock()
			fmt.Fprintln(e.stdout, e.paint("2", "# "+s))
			p.mu.Unlock()
		}
	}
	code := demoScript(e, msock, say)
	cancel()
	<-done
	return code
}

func demoScript(e *env, sock string, say func(string)) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	say("client: dial nexusctl-demo (through the monitor)")
	c, err := client.Dial(ctx, client.Target{AppID: "nexusctl-demo"}, &client.Options{SocketPath: sock, AppID: "nexusctl"})
	if err != nil {
		return e.fail(err)
	}
	defer c.Close()
	// Each step waits a moment so that the monitor prints the exchange in
	// order before the next one starts.
	settle := func() { time.Sleep(30 * time.Millisecond) }
	settle()
	svc := c.Service("demo")
	step := func(desc string, f func() (any, error)) bool {
		say(desc)
		v, err := f()
		settle()
		if err != nil {
			var re *protocol.RemoteError
			if errors.As(err, &re) {
				say("  -> remote error " + re.Code + ": " + re.Message)
				return true
			}
			say("  -> error: " + err.Error())
			return false
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
			ref, err := r.Ref()
			if err != nil {
				return nil, err
			}
			res, err := ref.Call(ctx, "increment")
			if err != nil {
				return nil, err
			}
			settle()
			say("counter.release()")
			ref.Release()
			return res.Value(), nil
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
	time.Sleep(50 * time.Millisecond)
	return ExitOK
}
