// Package session is the symmetric Nexus session engine shared by the
// client and the daemon: the core 1.x handshake (ClientHandshake,
// ServerHandshake), and a Conn that sends requests (Request) with a table
// of pending calls, serves the peer's calls through a Handler and a table
// of local resources (callbacks and referenced objects, released by
// RELEASE or when the session ends), and revives and sanitizes payloads
// (Encode, Decode, RemoteRef).
//
// Goroutines: one reader per Conn, plus one per incoming call while user
// code runs (bounded by Config.MaxInFlight). Writes from concurrent callers
// are coalesced: the first sender to find the socket idle writes what
// everyone queued. Close stops the reader, cancels running handlers'
// contexts, fails pending calls with E_CONN_CLOSED, and waits for all of
// them.
package session
