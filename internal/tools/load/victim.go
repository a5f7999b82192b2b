package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/nexus-interop/nexus-go/client"
)

// victimMain is the hidden subcommand `load victim --socket PATH [--refs N]`,
// F2's Go client process: it keeps N counters from demo.makeCounter
// (resources the daemon holds for its connection), prints "REFS N", then
// calls demo.callback with a Go function that prints "IN_CALLBACK" and
// blocks, so that the daemon is inside a call to it when the driver kills
// this process. It gives up after 5 minutes.
func victimMain(args []string) int {
	fs := flag.NewFlagSet("load victim", flag.ContinueOnError)
	socket := fs.String("socket", "", "socket path")
	refs := fs.Int("refs", 10, "counters to hold")
	if err := fs.Parse(args); err != nil || *socket == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: load victim --socket PATH [--refs N]")
		return 64
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, client.Address{AppID: daemonAppID}, &client.Options{AppID: "load-victim-go", SocketPath: *socket})
	if err != nil {
		fmt.Fprintln(os.Stderr, "load victim:", err)
		return 2
	}
	defer c.Close()
	svc := c.Service("demo")
	held := make([]*client.Ref, 0, *refs)
	for i := range *refs {
		res, err := svc.Call(ctx, "makeCounter", i)
		if err == nil {
			var r *client.Ref
			if r, err = res.Ref(); err == nil {
				held = append(held, r)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load victim: makeCounter:", err)
			return 2
		}
	}
	fmt.Printf("REFS %d\n", len(held))
	_, err = svc.Call(ctx, "callback", func(ctx context.Context, i int) (int, error) {
		fmt.Println("IN_CALLBACK")
		<-ctx.Done() // the session's end; the driver kills us long before
		return 0, ctx.Err()
	}, 1)
	fmt.Fprintln(os.Stderr, "load victim: callback returned:", err)
	runtime.KeepAlive(held)
	return 1
}
