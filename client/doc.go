// Package client is the Go counterpart of a Node client built with
// usingNodeIpcClient: it dials a node-ipc daemon (written in Node or Go),
// runs the optional shared-secret pre-auth and the core 1.x handshake, and
// calls the daemon's services.
//
//	c, err := client.Dial(ctx, client.Address{AppID: "example-app"}, &client.Options{AppID: "my-cli"})
//	...
//	defer c.Close()
//	res, err := c.Service("echo-service").Call(ctx, "echo", "hi")
//
// Addresses are resolved exactly as node-ipc resolves them (see
// ResolvePath): $XDG_RUNTIME_DIR/nexus/<appId>/<instance>.sock, or
// /tmp/nexus-<uid>/... when XDG_RUNTIME_DIR is unset, so a Go client given
// only an appId finds a JS daemon started with only that appId.
//
// A Client multiplexes concurrent calls over one connection with one reader
// goroutine; Go functions passed as arguments become callbacks the daemon
// may call concurrently; results may hold references to daemon functions
// and nexus.ref objects (Result.Ref and AsRef give a *Ref). Everything is bound to the session:
// after a disconnect every call fails with E_CONN_CLOSED and a new Dial
// makes a new session. Every call takes a context; cancelling it abandons
// the call locally (the protocol has no cancel message: the daemon still
// runs the call, and resources in its late reply are released).
//
// Errors carry codes testable with errors.Is (errcode.IPCConnectFailed,
// errcode.IPCAuthFailed, ...); a remote failure is a *protocol.RemoteError
// with the remote name, code and message; a refused handshake is a
// *session.HandshakeError. See docs/client.md for the full guide.
package client
