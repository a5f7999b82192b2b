// Package daemon is the Go counterpart of a Node daemon built with
// usingNodeIpcDaemon: it serves Go values as Nexus services to unchanged
// Node clients (and Go clients) on a Unix socket.
//
//	d, err := daemon.New(&daemon.Options{AppID: "example-app"})
//	...
//	d.Provide("echo-service", &EchoService{})
//	if err := d.Listen(); err != nil { ... }
//	defer d.Close()
//
// The socket path, runtime-directory checks, stale-socket handling,
// pre-auth, handshake and error codes are those of @nexus-js/node-ipc 0.6.0
// and @nexus-js/core 1.2.0, so a Node client started with only the appId
// finds and uses a Go daemon. Beyond JS, the daemon compares tokens in
// constant time, reports the peer's pid, uid and gid (SO_PEERCRED) in
// Conn.Observed, removes its socket file on Close, and can drain calls in
// flight with Shutdown.
//
// Services are ordinary Go values (see Provide): methods with a
// context.Context and typed arguments, exported fields as properties,
// nested values by longer paths; compat.JSName is the naming rule (Go Echo is JS
// echo) and Naming the escape hatch. Callbacks from clients arrive as
// *session.RemoteRef or as Go functions of the parameter's type; Ref
// returns an object by reference; functions are always references.
//
// Goroutines: one accept loop; per connection, one during setup, then the
// session's (a reader that runs calls itself, and worker goroutines for
// calls that block, bounded by MaxInFlight; see package session) and one
// that waits for its end. Close stops and waits for all of them; Serve
// blocks until its context ends, then shuts down. See docs/daemon.md.
package daemon
