package testscripts

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/demo"
	"github.com/nexus-interop/nexus-go/session"
	"github.com/nexus-interop/nexus-go/state"
)

// nxd is the Go daemon as a test command, with the same flags and services
// as node-fixtures/peers/daemon.mjs:
//
//	nxd --app APP [--instance NAME] [--socket PATH] [--token-env VAR]
//	    [--deny-connect] [--deny-call SERVICE] [--late SERVICE:MS]
//	    [--meta JSON] [--deny-identity KEY=VALUE] [--call-timeout D]
//	    [--store [--publish-window D] [--max-pending N] [--delivery-timeout D]]
//	    [--refuse-legacy] [--groups a,b]   (these three: Go daemon only)
//
// Its "admin" service has stats(), waitConns(n) (stats once there are n
// connections) and provide(name), which provides a
// service "name" with hello() at once (a late provider on demand); its
// "hub" service makes the daemon act toward its clients (select,
// multicast, selectCallback, selectRef, peers, updateIdentity, get, set:
// see hub.go), as the hub of peers/daemon.mjs does. With --store it also
// hosts the demo store "demo-store" (internal/demo.NewStore) and a service
// "storectl" with state(), waitSubscribers(n), add(n), burst(n), revoke()
// and close().
//
// It prints "READY <socket path>" once listening and stops on SIGINT or
// SIGTERM (removing the socket file).

func nxdMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nxd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "appId")
	instance := fs.String("instance", "", "instance")
	socket := fs.String("socket", "", "socket path")
	tokenEnv := fs.String("token-env", "", "token variable")
	denyConnect := fs.Bool("deny-connect", false, "deny every connection")
	denyCall := fs.String("deny-call", "", "deny calls to this service")
	late := fs.String("late", "", "SERVICE:MS provide a service later")
	refuseLegacy := fs.Bool("refuse-legacy", false, "refuse core 0.x clients")
	groups := fs.String("groups", "", "comma-separated groups in the identity")
	var meta metaValue
	fs.Var(&meta, "meta", "JSON object of extra identity fields")
	denyIdentity := fs.String("deny-identity", "", "KEY=VALUE: refuse clients whose identity field KEY is VALUE")
	callTimeout := fs.Duration("call-timeout", 0, "call timeout toward clients (0: 5 s default, -1ns: none)")
	hostStore := fs.Bool("store", false, "host the demo store demo-store (and the service storectl)")
	publishWindow := fs.Duration("publish-window", 0, "the store's publish window (0: 200 ms)")
	maxPending := fs.Int("max-pending", 0, "the store's unacknowledged deliveries per subscriber (0: 32)")
	deliveryTimeout := fs.Duration("delivery-timeout", 0, "the store's delivery deadline (0: 5 s)")
	if err := fs.Parse(args); err != nil {
		return 64
	}
	opts := &daemon.Options{AppID: *app, Instance: *instance, SocketPath: *socket,
		RefuseLegacy: *refuseLegacy, CallTimeout: *callTimeout,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	opts.Metadata = meta.m
	if *groups != "" {
		opts.Groups = strings.Split(*groups, ",")
	}
	if *tokenEnv != "" {
		opts.Token = os.Getenv(*tokenEnv)
	}
	if *denyConnect {
		opts.Policy.CanConnect = func(*daemon.Conn) bool { return false }
	}
	if *denyIdentity != "" {
		deny := identityDenial(*denyIdentity)
		opts.Policy.CanConnect = func(c *daemon.Conn) bool { return !deny(c.Identity()) }
	}
	opts.Policy.CanCall = func(c *daemon.Conn, service string, path []string, op session.Op) bool {
		return service != "locked" && (*denyCall == "" || service != *denyCall)
	}
	d, err := daemon.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	d.Provide("demo", &demo.Testkit{})
	d.Provide("locked", map[string]any{"hello": func() string { return "hi" }})
	provideLate := func(name string) error {
		return d.Provide(name, map[string]any{"hello": func() string { return "hello from " + name }})
	}
	stats := func() map[string]int {
		st := map[string]int{"conns": 0, "inflight": 0, "resources": 0, "goroutines": runtime.NumGoroutine()}
		for _, c := range d.Conns() {
			st["conns"]++
			st["inflight"] += c.Session().InFlight()
			st["resources"] += c.Session().Resources()
		}
		return st
	}
	d.Provide("admin", map[string]any{"provide": provideLate, "stats": stats,
		// waitConns(n): stats once the daemon has n connections (a
		// client that just died may not be gone yet), or an error after
		// 10 s.
		"waitConns": func(ctx context.Context, n int) (map[string]int, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			for len(d.Conns()) != n {
				select {
				case <-ctx.Done():
					return stats(), fmt.Errorf("%d connections, want %d", len(d.Conns()), n)
				case <-time.After(5 * time.Millisecond):
				}
			}
			return stats(), nil
		}})
	d.Provide("hub", hub(d))
	if *hostStore {
		var revoked atomic.Bool
		store := demo.NewStore(&state.Options[demo.StoreState]{PublishWindow: *publishWindow, MaxPending: *maxPending, DeliveryTimeout: *deliveryTimeout,
			Authorize: func(context.Context) bool { return !revoked.Load() }})
		defer store.Close()
		d.Provide(demo.StoreToken, store.Service())
		// storectl: the host's side of the demo store.
		d.Provide("storectl", map[string]any{
			"state": func() demo.StoreState { return store.State() },
			// waitSubscribers(n): once the store has n subscribers (an
			// error after 10 s).
			"waitSubscribers": func(ctx context.Context, n int) (int, error) {
				ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				for store.Subscribers() != n {
					select {
					case <-ctx.Done():
						return store.Subscribers(), fmt.Errorf("%d subscribers, want %d", store.Subscribers(), n)
					case <-time.After(5 * time.Millisecond):
					}
				}
				return n, nil
			},
			"add": func(n float64) error {
				return store.Update(func(s *demo.StoreState) { s.Count += n })
			},
			"burst": func(n int) error {
				for range n {
					if err := store.Update(func(s *demo.StoreState) { s.Count++ }); err != nil {
						return err
					}
				}
				return nil
			},
			// revoke: policy stops allowing every subscriber (terminal
			// authorization-revoked) and later subscribes.
			"revoke": func() bool { revoked.Store(true); store.Revalidate(); return true },
			// close: terminal provider-shutdown to every mirror.
			"close": func() bool { store.Close(); return true },
		})
	}
	if err := d.Listen(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *late != "" {
		name, ms, _ := strings.Cut(*late, ":")
		var n int
		fmt.Sscan(ms, &n)
		time.AfterFunc(time.Duration(n)*time.Millisecond, func() { provideLate(name) })
	}
	fmt.Fprintf(stdout, "READY %s\n", d.Path())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	d.Close()
	return 0
}
