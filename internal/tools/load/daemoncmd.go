package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/demo"
)

// daemonAppID is the appId of the daemon under test.
const daemonAppID = "load"

// daemonMain is the hidden subcommand `load daemon --socket PATH`: the
// daemon under test, in its own process. It serves the demo service as
// `nexusctl serve` does and the loadstats service, prints "READY <path>"
// once it listens, logs warnings on stderr, and stops on SIGINT or SIGTERM
// (removing its socket, letting calls in flight finish for up to 5 s).
func daemonMain(args []string) int {
	fs := flag.NewFlagSet("load daemon", flag.ContinueOnError)
	socket := fs.String("socket", "", "socket path")
	if err := fs.Parse(args); err != nil || *socket == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: load daemon --socket PATH")
		return 64
	}
	raiseNoFile()
	d, err := daemon.New(&daemon.Options{AppID: daemonAppID, SocketPath: *socket,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "load daemon:", err)
		return 2
	}
	for name, svc := range map[string]any{"demo": &demo.Service{}, "loadstats": &loadStats{d: d}} {
		if err := d.Provide(name, svc); err != nil {
			fmt.Fprintln(os.Stderr, "load daemon:", err)
			return 2
		}
	}
	// Every goroutine of the idle daemon exists before READY (the signal
	// watcher, the accept loop), so that the driver's baseline has them.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := d.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, "load daemon:", err)
		return 2
	}
	fmt.Printf("READY %s\n", d.Path())
	if err := d.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "load daemon:", err)
		return 2
	}
	return 0
}
