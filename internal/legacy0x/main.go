package legacy0x

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// Main runs a scripted 0.x daemon as a command (legacyd in testscripts):
//
//	legacyd --socket PATH [--token-env VAR] [--app APP] [--instance NAME] [--groups a,b]
//
// It prints "READY <path>" on stdout once it listens, then writes every
// recorded event to stderr as "conn-N " + Frame.String() ("conn-1 C>S
// [14,1]"), and serves until SIGINT or SIGTERM. It then leaves its socket
// file behind, as a 0.3.1 daemon does on SIGTERM, prints each violation
// (see Daemon.Violations) to stderr as "VIOLATION conn-N: …", and returns
// 1 if there was any, 0 otherwise. Bad usage returns 2; a socket it cannot
// listen on, 1. --token-env names an environment variable holding the
// pre-auth token (which must not be empty).
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("legacyd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "Unix socket `path` to listen on (required)")
	tokenEnv := fs.String("token-env", "", "environment `variable` holding the pre-auth token")
	app := fs.String("app", DefaultAppID, "the daemon's `appId`")
	instance := fs.String("instance", DefaultInstance, "the daemon's instance `name`")
	groups := fs.String("groups", "", "comma-separated `groups` sent in the identity")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *socket == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: legacyd --socket PATH [--token-env VAR] [--app APP] [--instance NAME] [--groups a,b]")
		return 2
	}
	opts := Options{Path: *socket, AppID: *app, Instance: *instance, KeepSocket: true}
	if *tokenEnv != "" {
		opts.Token = os.Getenv(*tokenEnv)
		if opts.Token == "" {
			fmt.Fprintf(stderr, "legacyd: $%s is empty or unset\n", *tokenEnv)
			return 2
		}
	}
	if *groups != "" {
		opts.Groups = strings.Split(*groups, ",")
	}
	var mu sync.Mutex // stderr is written by every connection
	opts.onFrame = func(f Frame) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "conn-%d %s\n", f.Conn, f)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := Listen(opts)
	if err != nil {
		fmt.Fprintf(stderr, "legacyd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "READY %s\n", d.Path())
	<-ctx.Done()
	stop()
	d.Close()
	vs := d.Violations()
	mu.Lock()
	defer mu.Unlock()
	for _, v := range vs {
		fmt.Fprintf(stderr, "VIOLATION %s\n", v)
	}
	if len(vs) > 0 {
		return 1
	}
	return 0
}
