// Package legacy0x is a test double: a scripted core 0.x daemon that
// replays, byte for byte, what a real @nexus-js/node-ipc 0.3.1 +
// @nexus-js/core 0.5.0 daemon sends in the captured transcripts
// (legacy-0x-capture-full.md, §1a, §1b and §1d), so that nexus-go's client
// and nexusctl can be tested against the legacy generation without Node
// and without those packages, which are not on the registry. It is not a
// general daemon: it serves one scripted service, "echo-service", whose
// members are those of the capture's harness, and nothing else.
//
// What it does on the wire:
//
//   - Pre-auth as node-ipc 0.3.1: with Options.Token set, the first line
//     must be {"type":"nexus-ipc-auth","version":1,"token":…}; the right
//     token is answered {"type":"nexus-ipc-auth-ok"}\n, anything else
//     (wrong token, malformed line, 8 KiB without a newline, 5 s of
//     silence) closes the connection without a reply. Bytes that arrive in
//     the same read as the newline are dropped, as node-ipc drops them.
//     Without a token, an auth line is read as a frame header (a length
//     over 16 MiB) and closes the connection.
//   - The 0.x handshake: a REQ of 3 to 5 elements (capabilities ignored) is
//     answered [11,id,{"context":"node-ipc-daemon","appId":…,"instance":…,
//     "pid":…[,"groups":[…]]}] (or the REQ's assigns object, adopted as the
//     identity), then READY [14,id] opens the session. Calls before READY
//     are never answered; a READY with another id, or a REQ whose metadata
//     is not an object, leaves the session stuck until the 30 s handshake
//     deadline closes it. A REJECT closes the connection.
//   - Frames: 4-byte big-endian length, 1 byte to 16 MiB of JSON. A
//     zero-length frame, one over 16 MiB, bad JSON, a non-array or an
//     unknown type closes the connection; so does PROVIDER_AVAILABLE (15).
//     BATCH (8), BATCH_RES (9), CHUNK_START (16), CHUNK_DATA (17) and
//     handshake packets after READY are answered
//     [6,id,{"code":"E_USAGE_INVALID","context":{"messageType":T},
//     "name":"MessageHandlerInvalidMessageError"}] and the session goes on.
//   - Ids: replies echo the request's id as JSON.stringify writes it back
//     (any JSON value). The daemon's own calls into its clients
//     (callbacks, refs) take ids from one counter per Daemon, starting at
//     1 and shared by its connections, as 0.x's per-process counter is.
//     Replies to them must carry that number; others are ignored. They time
//     out after 5 s with E_CALL_TIMEOUT (PendingCallTimeoutError).
//   - Resources: "res-N" from one counter per Daemon. When the daemon
//     calls a client resource whose id is also the id of one of its own
//     resources made by a service call, it sends the long form
//     [3,id,"res-N",[],"echo-service",[…]] with the wrong service name, as
//     0.x does (§1b); Options.FixLongForm sends the short form instead.
//
// echo-service (a 0.x service proxy in JS has no set trap; the daemon
// still accepts SET on service properties, short and long form):
//
//	echo(x)            "echo:" + String(x)
//	withCb(n, cb)      cb(n*2), its result (the callback's error propagates)
//	cbTwice(cb)        [cb("a"), cb("b")]
//	cbThrows(cb)       cb(); on error returns {code, message} of the caught
//	                   CallProcessorRemoteError ("Remote call failed: " +
//	                   (message || "Unknown error"))
//	cbThrowsProp(cb)   cb(); its error propagates as
//	                   {"code":"E_REMOTE_EXCEPTION","context":{"remoteError":
//	                   …},"name":"CallProcessorRemoteError"}
//	fail()             throws {"code":"E_APP"}
//	failPlain()        throws new Error("plain boom")
//	failString()       throws "just a string"
//	count              5 (settable)
//	nested.deep        7 (settable)
//	nested.fn()        "nested-fn"
//	values(x)          the captured Map/Set/BigInt/undefined/escape reply
//	makeRef()          nexus.ref({n: 1, inc() {return ++this.n}, peek() {return this.n}})
//	peekLastRef()      n of the last ref made
//	takeRef(r)         r.hello("d")
//
// A Daemon records everything: every frame and pre-auth line both ways,
// and the connections' ends (Frames, Received, Transcript), and the
// frames that a real 0.x daemon could not take (Violations), so that
// tests can check what a client sent frame by frame.
//
// Behaviour that the capture does not show is marked "not captured" in
// the code; this double then does the simplest thing consistent with
// what was captured.
package legacy0x
