package daemon_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/bind"
	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/session"
)

// Greeter is a service: methods are callable, exported fields are
// properties.
type Greeter struct {
	Greeting string `json:"greeting"`
}

// Hello is "hello" in JS.
func (g *Greeter) Hello(ctx context.Context, name string) (string, error) {
	return g.Greeting + ", " + name, nil
}

// Each calls fn for every name: a callback from the client.
func (g *Greeter) Each(ctx context.Context, names []string, fn func(context.Context, string) (int, error)) (int, error) {
	total := 0
	for _, n := range names {
		v, err := fn(ctx, n)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}

func Example() {
	dir, _ := os.MkdirTemp("/tmp", "nxex")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "greeter.sock")

	// Without SocketPath the daemon listens where a Node client looks for
	// appId "example-app": $XDG_RUNTIME_DIR/nexus/example-app/default.sock.
	d, err := daemon.New(&daemon.Options{AppID: "example-app", SocketPath: sock})
	if err != nil {
		fmt.Println(err)
		return
	}
	d.Provide("greeter", &Greeter{Greeting: "Hello"})
	if err := d.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	// Any node-ipc client can call it; here the Go one.
	ctx := context.Background()
	c, _ := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: sock})
	defer c.Close()
	g := c.Service("greeter")
	res, _ := g.Call(ctx, "hello", "Ada")
	fmt.Println(res.Value())
	g.Set(ctx, "greeting", "Hi")
	res, _ = g.Call(ctx, "hello", "Bob")
	fmt.Println(res.Value())
	res, _ = g.Call(ctx, "each", []string{"a", "bb"}, func(s string) int { return len(s) })
	fmt.Println(res.Value())
	// Output:
	// Hello, Ada
	// Hi, Bob
	// 3
}

func ExampleRef() {
	type counter struct{ Value int }
	dir, _ := os.MkdirTemp("/tmp", "nxex")
	defer os.RemoveAll(dir)
	d, _ := daemon.New(&daemon.Options{AppID: "x", SocketPath: filepath.Join(dir, "c.sock")})
	d.Provide("counters", map[string]any{
		// The explicit form: a map of JS names. A returned Ref travels by
		// reference, like nexus.ref in JS.
		"make": func(start int) session.Invoker { return bind.Ref(&counter{Value: start}) },
	})
	if err := d.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	ctx := context.Background()
	c, _ := client.Dial(ctx, client.Address{AppID: "x"}, &client.Options{SocketPath: d.Path()})
	defer c.Close()
	res, _ := c.Service("counters").Call(ctx, "make", 41)
	ref, _ := res.Ref()
	ref.Set(ctx, "value", 42)
	v, _ := ref.Get(ctx, "value")
	fmt.Println(v.Value())
	// Output: 42
}

// A main that serves until SIGINT or SIGTERM: Serve blocks, and when the
// signal arrives it removes the socket, lets calls in flight finish
// (Options.ShutdownTimeout) and returns.
func ExampleDaemon_Serve() {
	dir, _ := os.MkdirTemp("/tmp", "nxex")
	defer os.RemoveAll(dir)
	d, err := daemon.New(&daemon.Options{AppID: "example-app", SocketPath: filepath.Join(dir, "d.sock")})
	if err != nil {
		log.Fatal(err)
	}
	d.Provide("greeter", &Greeter{Greeting: "Hello"})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clientDone := make(chan struct{})
	go func() {
		// For the example only: a client, then the SIGTERM that a service
		// manager would send.
		defer close(clientDone)
		c, err := dialRetry(ctx, d.Path())
		if err != nil {
			log.Fatal(err)
		}
		res, _ := c.Service("greeter").Call(ctx, "hello", "Ada")
		fmt.Println(res.Value())
		c.Close()
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	if err := d.Serve(ctx); err != nil {
		log.Fatal(err)
	}
	<-clientDone
	_, err = os.Stat(d.Path())
	fmt.Println("stopped; socket removed:", os.IsNotExist(err))
	// Output:
	// Hello, Ada
	// stopped; socket removed: true
}

// dialRetry dials until the daemon accepts.
func dialRetry(ctx context.Context, sock string) (*client.Client, error) {
	for {
		c, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: sock})
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		time.Sleep(time.Millisecond)
	}
}
