// Package session is the symmetric Nexus session engine shared by the
// client and the daemon: the handshake of core 1.x and, for legacy
// peers, of core 0.x (ClientHandshake, ServerHandshake; Generation), and a
// Conn that sends requests (Request) with a table
// of pending calls, serves the peer's calls through a Handler and a table
// of local resources (callbacks and referenced objects, released by
// RELEASE or when the session ends), and revives and sanitizes payloads
// (Encode, Decode, RemoteRef).
//
// Goroutines: one reader per Conn, which runs incoming calls itself. When a
// call blocks (it calls back into the peer, or runs past a watchdog tick of
// 5-10 ms) the reader role moves to another goroutine, and a session whose
// calls block or compute sends its next calls to reused worker goroutines;
// running calls are bounded by Config.MaxInFlight either way (inline.go
// has the details). Idle workers are stopped by the watchdog of the
// session's Group (a daemon's sessions share one; a session on its own is
// its own group), which runs only while a session of the group needs it
// and is joined by Group.Wait (by Close, for a session on its own). No
// state is shared between groups. Writes from
// concurrent callers are coalesced: the first sender to find the socket
// idle writes what everyone queued. Close stops the reader, cancels
// running handlers' contexts, fails pending calls with E_CONN_CLOSED, and
// waits for all of them. Every package's tests fail when a goroutine
// outlives them (internal/leakcheck).
package session
