// Package remote is what both kinds of Go peer use to reach services of
// the other side of a session: a client calling its daemon's services, and
// a daemon calling the services its clients provide.
//
//   - Service is a handle on one service token of one session, the Go
//     counterpart of the proxy that nexus.create and nexus.select return in
//     JS; Result is a decoded result and Ref a reference (a remote function
//     or nexus.ref object).
//   - Matcher chooses peers by their identity and connection facts, as a JS
//     where function does; MatchDaemon, MatchClient, MatchInstance and
//     MatchGroup are node-ipc's matchers.
//   - Select picks the one peer that matches and provides a token, with
//     core 1.2.0's codes (E_SERVICE_NO_MATCH, E_SERVICE_AMBIGUOUS,
//     E_SERVICE_WAIT_TIMEOUT); Multicast calls every matching peer and
//     returns every result (All) or yields them as they arrive (Stream).
//
// The client package (Client.Service, Pool.Select, Pool.SelectMulticast)
// and the daemon package (Conn.Service, Daemon.Select,
// Daemon.SelectMulticast) build on it; users rarely import it except for
// the types.
package remote
