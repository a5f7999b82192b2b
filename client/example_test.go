package client_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// exampleDaemon starts an in-process peer with a "demo" service so that the
// examples run without Node; against a Node daemon the client code is the
// same.
func exampleDaemon() (path string, stop func()) {
	dir, _ := os.MkdirTemp("/tmp", "nxe")
	path = filepath.Join(dir, "demo.sock")
	ln, _ := net.Listen("unix", path)
	done := make(chan struct{})
	var conns []*session.Conn
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			fr := protocol.NewFrameReader(bufio.NewReader(nc), 0)
			meta := protocol.NewObject("context", compat.DaemonContext, "appId", "example-app", "instance", "default", "pid", 1.0)
			if _, err := session.ServerHandshake(context.Background(), nc, fr, session.Hello{Metadata: meta, Providers: []string{"demo"}}, nil, 0); err != nil {
				nc.Close()
				continue
			}
			conns = append(conns, session.New(nc, fr, session.Config{Handler: session.Methods(demoMethods)}))
		}
	}()
	return path, func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
		os.RemoveAll(dir)
	}
}

var demoMethods = map[string]session.Func{
	"echo": func(ctx context.Context, args []any) (any, error) { return args[0], nil },
	"callback": func(ctx context.Context, args []any) (any, error) {
		fn := args[0].(*session.RemoteRef)
		var out []any
		for i := 0; i < int(args[1].(float64)); i++ {
			v, err := fn.Call(ctx, nil, i)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	},
}

func ExampleDial() {
	path, stop := exampleDaemon()
	defer stop()

	ctx := context.Background()
	// With a Node daemon started as usingNodeIpcDaemon({appId: "example-app"}),
	// client.Address{AppID: "example-app"} alone finds its socket.
	c, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{SocketPath: path, AppID: "example-cli"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(protocol.Get(c.Daemon(), "appId"), c.Providers())

	res, err := c.Service("demo").Call(ctx, "echo", protocol.NewMap("answer", 42))
	if err != nil {
		fmt.Println(err)
		return
	}
	var m map[string]int
	_ = res.Decode(&m)
	fmt.Println(m["answer"])

	// A Go function passed as an argument is a callback the daemon calls.
	res, _ = c.Service("demo").Call(ctx, "callback", func(i int) string { return fmt.Sprint("#", i) }, 3)
	fmt.Println(res.Value())
	// Output:
	// example-app [demo]
	// 42
	// [#0 #1 #2]
}

func ExampleResolvePath() {
	env := compat.Env{XDGRuntimeDir: "/run/user/1000"}
	p, _ := client.ResolvePath(client.Address{AppID: "example-app"}, &client.Options{Env: &env})
	fmt.Println(p)
	env = compat.Env{UID: 1000} // XDG_RUNTIME_DIR unset
	p, _ = client.ResolvePath(client.Address{AppID: "example-app", Instance: "main"}, &client.Options{Env: &env})
	fmt.Println(p)
	_, err := client.ResolvePath(client.Address{AppID: "../etc"}, nil)
	fmt.Println(err)
	// Output:
	// /run/user/1000/nexus/example-app/default.sock
	// /tmp/nexus-1000/example-app/main.sock
	// E_IPC_ADDRESS_INVALID: Unix socket path segment is unsafe: ../etc
}
