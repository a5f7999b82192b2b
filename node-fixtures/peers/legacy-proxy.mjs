// A core 0.x handshake in front of a real @nexus-js 1.2.0 peer, for the
// legacy interop tests. No 0.x package (node-ipc 0.3.1) can be installed, so
// this proxy sits between a real 1.2.0 JS peer and the Go peer under test
// and rewrites ONLY the handshake frames (REQ 10, ACK 11, READY 14): every
// other frame is forwarded with its original bytes, so everything after the
// handshake is the real JS engine talking to the Go peer's legacy session.
// No dependencies beyond node: builtins.
//
//   node peers/legacy-proxy.mjs --as client|daemon --listen PATH --upstream PATH
//        [--providers a,b,...] [--log FILE]
//
// It listens on the Unix socket PATH (a stale socket file there, one nobody
// accepts on, is removed first; another kind of file, or a live socket, is
// an error), prints "READY <PATH>" on stdout once listening, and for every
// connection accepted there (downstream) dials the Unix socket --upstream
// and relays. Connections are independent and numbered 1, 2, ... in the log.
// The downstream is always the client side, the upstream the daemon side.
//
// Pre-auth lines pass through untouched: a first byte "{" from downstream
// starts an auth line, forwarded up to and including its "\n"; the
// upstream's reply line is forwarded back the same way (an upstream that
// closes instead closes the downstream). Frames (4-byte big-endian length,
// then a JSON array) start after the line, or at once without one; bytes
// after a newline in the same chunk are frame data.
//
// --as client: a 0.x CLIENT to the upstream (the daemon under test), in
// front of a real 1.2.0 client downstream.
//   c>s REQ   [10,id,meta,assigns,caps] -> [10,id,meta,assigns]  (assigns: null if absent)
//   s>c ACK   [11,id,meta]              -> [11,id,meta,["provider-catalog-v1"],PROVIDERS]
//             PROVIDERS is the --providers list (default []). An ACK of any
//             other length is the violation "expected a 0.x ACK".
//   c>s READY [14,id,...]               -> [14,id]
//   s>c REJECT (12) and everything else pass through unchanged.
//   s>c 15, 8, 9, 16, 17, 10, 14, or an ACK after the first one, is the
//             violation "type T sent to a 0.x client" (a real 0.x client
//             closes on 15), whenever it comes.
// --as daemon: a 0.x DAEMON to the downstream (the client under test), in
// front of a real 1.2.0 daemon upstream.
//   c>s REQ   forwarded unchanged (a 0.x daemon ignores the capabilities; a
//             REQ without them is forwarded too, and the 1.2.0 daemon rejects
//             it, as JS 1.x and 0.x do each other)
//   s>c ACK   [11,id,meta,caps,providers] -> [11,id,meta]
//   c>s READY [14,id]                   -> [14,id,["provider-catalog-v1"],[]]
//             A longer READY is the violation "1.x READY from a client that
//             got a 0.x ACK", but is still forwarded, rewritten the same way
//             (a 0.x daemon accepts it), and the connection stays open.
//   s>c 15    dropped (a 0.x daemon never sends it), logged as dropped
//   c>s 15, 8, 9, 16, 17 is the violation "type T sent to a 0.x daemon", and
//             a second REQ "second REQ sent to a 0.x daemon".
// Every violation except the READY one closes both sides. A zero-length
// frame, one longer than 16 MiB, a body that is not JSON or not a JSON array
// are violations too. Violations are logged and printed on stderr.
//
// --log FILE gets one JSON line per event, appended synchronously so that a
// test can read it at any moment:
//   {"conn":N,"dir":"c>s"|"s>c","type":T,"frame":F,"rewritten":false}
//   {"conn":N,"dir":...,"type":T,"frame":F,"rewritten":true,"original":O}
//   {"conn":N,"dir":"s>c","type":15,"dropped":true,"frame":F}
//   {"conn":N,"violation":"text"}
//   {"conn":N,"closed":"down"|"up"}       (once per side, when it closes)
// F is the frame as sent on (parsed), O the frame as received. "c>s" is the
// client side to the daemon side, in both modes. Pre-auth lines (they hold
// the token) are not logged.
//
// When either side closes or fails, the other is ended, then destroyed
// shortly after. Bad input never crashes the proxy: an exception while
// handling a connection closes that connection only.
//
// Exit: SIGINT exits 0; SIGTERM (no handler) and SIGKILL kill the process.
// The socket file is never removed on exit, so a stopped proxy leaves it
// behind, as a node-ipc 0.3.1 daemon does (the stale-socket tests use this).
// Exit codes: 64 usage, 2 PATH in use, 1 any other startup failure.
import fs from "node:fs";
import net from "node:net";

const MAX_FRAME = 16 << 20; // node-ipc's limit on a frame body
const CATALOG = "provider-catalog-v1";
const CLOSE_GRACE_MS = 250; // from end() to destroy() when closing a side
const LINE_FEED = 0x0a;
const OPEN_BRACE = 0x7b;

// ---- command line ----

const USAGE =
  "usage: legacy-proxy.mjs --as client|daemon --listen PATH --upstream PATH [--providers a,b,...] [--log FILE]";
const opts = {};
{
  const argv = process.argv.slice(2);
  const known = new Set(["--as", "--listen", "--upstream", "--providers", "--log"]);
  for (let i = 0; i < argv.length; i += 2) {
    if (!known.has(argv[i]) || argv[i + 1] === undefined) {
      console.error(USAGE);
      process.exit(64);
    }
    opts[argv[i].slice(2)] = argv[i + 1];
  }
}
const mode = opts.as;
const listenPath = opts.listen;
const upstreamPath = opts.upstream;
const providers = (opts.providers ?? "").split(",").filter((s) => s !== "");
if ((mode !== "client" && mode !== "daemon") || !listenPath || !upstreamPath) {
  console.error(USAGE);
  process.exit(64);
}

// ---- log ----

let logFd;
if (opts.log !== undefined) {
  try {
    logFd = fs.openSync(opts.log, "a");
  } catch (e) {
    console.error(`legacy-proxy: cannot open log ${opts.log}: ${e.message}`);
    process.exit(1);
  }
}

// log appends one JSON line to --log, synchronously.
function log(entry) {
  if (logFd === undefined) return;
  const line = Buffer.from(JSON.stringify(entry) + "\n", "utf8");
  for (let off = 0; off < line.length; ) off += fs.writeSync(logFd, line, off);
}

// short renders a frame for stderr.
function short(frame) {
  const s = JSON.stringify(frame) ?? String(frame);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

// ---- framing ----

// encodeFrame serializes a packet as a frame: length, then the JSON body.
function encodeFrame(packet) {
  const body = Buffer.from(JSON.stringify(packet), "utf8");
  if (body.length === 0 || body.length > MAX_FRAME) throw new Error(`rewritten frame of ${body.length} bytes`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

// FrameReader cuts a byte stream into whole frames (header included, the
// original bytes). Chunks are kept in a list and copied once per frame, so
// a 16 MiB frame arriving in small chunks costs no quadratic copying.
class FrameReader {
  constructor() {
    this.chunks = [];
    this.size = 0;
  }

  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  // next returns the next whole frame, or null when more bytes are needed;
  // it throws on a zero-length or oversized frame as soon as the header is
  // in, as node-ipc does.
  next() {
    if (this.size < 4) return null;
    const n = this.peek(4).readUInt32BE(0);
    if (n === 0) throw new Error("zero-length frame");
    if (n > MAX_FRAME) throw new Error(`frame of ${n} bytes exceeds 16 MiB`);
    if (this.size < 4 + n) return null;
    return this.take(4 + n);
  }

  // peek returns the first n buffered bytes without consuming them.
  peek(n) {
    return this.chunks[0].length >= n ? this.chunks[0] : Buffer.concat(this.chunks, this.size).subarray(0, n);
  }

  // take consumes and returns the first n buffered bytes.
  take(n) {
    this.size -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; ) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

// ---- the rewrite rules ----
//
// Each rule gets the parsed packet and the connection's handshake state and
// returns a decision:
//   { forward: true }                 forward the original bytes
//   { rewrite: packet }               forward this packet instead
//   { drop: true }                    forward nothing (logged as dropped)
//   { violation: text }               close both sides
// plus, with forward/rewrite, an optional note: a violation that is logged
// while the frame is still forwarded.

const isType = (t, ...types) => types.includes(t);

const rules = {
  // A 0.x client to the upstream daemon, a 1.2.0 client downstream.
  client: {
    "c>s"(p, st) {
      if (p[0] === 10) {
        st.req = true;
        if (p.length === 4) return { forward: true };
        return { rewrite: [10, p[1], p[2], p[3] === undefined ? null : p[3]] };
      }
      if (p[0] === 14) {
        st.ready = true;
        if (p.length === 2) return { forward: true };
        return { rewrite: [14, p[1]] };
      }
      return { forward: true };
    },
    "s>c"(p, st) {
      const t = p[0];
      if (t === 11) {
        if (st.ack) return { violation: "type 11 sent to a 0.x client" };
        st.ack = true;
        if (p.length !== 3) return { violation: "expected a 0.x ACK" };
        return { rewrite: [11, p[1], p[2], [CATALOG], providers] };
      }
      if (isType(t, 8, 9, 10, 14, 15, 16, 17)) return { violation: `type ${t} sent to a 0.x client` };
      return { forward: true };
    },
  },
  // A 0.x daemon to the downstream client, a 1.2.0 daemon upstream.
  daemon: {
    "c>s"(p, st) {
      const t = p[0];
      if (t === 10) {
        if (st.req) return { violation: "second REQ sent to a 0.x daemon" };
        st.req = true;
        return { forward: true };
      }
      if (t === 14) {
        st.ready = true;
        if (p.length < 2) return { forward: true }; // malformed: the daemon says so
        const rewrite = [14, p[1], [CATALOG], []];
        if (p.length === 2) return { rewrite };
        return { rewrite, note: "1.x READY from a client that got a 0.x ACK" };
      }
      if (isType(t, 8, 9, 15, 16, 17)) return { violation: `type ${t} sent to a 0.x daemon` };
      return { forward: true };
    },
    "s>c"(p, st) {
      if (p[0] === 11) {
        st.ack = true;
        if (p.length <= 3) return { forward: true };
        return { rewrite: [11, p[1], p[2]] };
      }
      if (p[0] === 15) return { drop: true };
      return { forward: true };
    },
  },
}[mode];

// ---- connections ----

let connCount = 0;

function handle(down) {
  const conn = ++connCount;
  const up = net.createConnection(upstreamPath);
  const state = { req: false, ack: false, ready: false }; // handshake frames seen
  let closing = false;

  // closeBoth ends both sides (flushing what was already written) and
  // destroys them shortly after; later input is ignored.
  const closeBoth = () => {
    if (closing) return;
    closing = true;
    for (const s of [down, up]) {
      if (s.destroyed) continue;
      s.end();
      setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
    }
  };
  const violation = (text, detail) => {
    log({ conn, violation: text });
    console.error(`legacy-proxy: conn ${conn}: violation: ${text}${detail ? `: ${detail}` : ""}`);
  };

  for (const [s, side] of [[down, "down"], [up, "up"]]) {
    s.on("error", (e) => {
      console.error(`legacy-proxy: conn ${conn}: ${side}: ${e.message}`);
      closeBoth();
    });
    s.on("close", () => {
      log({ conn, closed: side });
      closeBoth();
    });
  }

  // send writes to dst, pausing src until dst drains.
  const send = (src, dst, bytes) => {
    if (dst.destroyed || dst.writableEnded) return;
    if (!dst.write(bytes) && !src.isPaused()) {
      src.pause();
      dst.once("drain", () => src.resume());
    }
  };

  // A direction of the relay: its frame reader and pre-auth line state.
  //   line: "none" (frames only), "wait" (not known yet: hold the bytes),
  //         "open" (inside the pre-auth line), "done"
  const dirs = {
    "c>s": { src: down, dst: up, reader: new FrameReader(), line: "wait", held: [] },
    "s>c": { src: up, dst: down, reader: new FrameReader(), line: "wait", held: [] },
  };

  // onFrame applies the rules to one whole frame (raw: header + body).
  const onFrame = (dirName, d, raw) => {
    let packet;
    try {
      packet = JSON.parse(raw.toString("utf8", 4));
    } catch {
      violation(`${dirName}: a frame body that is not JSON`, raw.toString("utf8", 4, 304));
      return false;
    }
    if (!Array.isArray(packet)) {
      violation(`${dirName}: a frame body that is not a JSON array`, short(packet));
      return false;
    }
    const type = packet[0];
    const dec = rules[dirName](packet, state);
    if (dec.violation) {
      violation(dec.violation, `${dirName} ${short(packet)}`);
      return false;
    }
    if (dec.note) violation(dec.note, `${dirName} ${short(packet)}`);
    if (dec.drop) {
      log({ conn, dir: dirName, type, dropped: true, frame: packet });
      return true;
    }
    if (dec.rewrite) {
      log({ conn, dir: dirName, type, frame: dec.rewrite, rewritten: true, original: packet });
      send(d.src, d.dst, encodeFrame(dec.rewrite));
      return true;
    }
    log({ conn, dir: dirName, type, frame: packet, rewritten: false });
    send(d.src, d.dst, raw);
    return true;
  };

  // feedFrames adds frame bytes and handles every whole frame.
  const feedFrames = (dirName, d, chunk) => {
    d.reader.push(chunk);
    for (;;) {
      if (closing) return;
      let raw;
      try {
        raw = d.reader.next();
      } catch (e) {
        violation(`${dirName}: ${e.message}`);
        closeBoth();
        return;
      }
      if (raw === null) return;
      if (!onFrame(dirName, d, raw)) {
        closeBoth();
        return;
      }
    }
  };

  // feed handles a chunk of one direction: pre-auth line bytes, then frames.
  const feed = (dirName, chunk) => {
    const d = dirs[dirName];
    if (closing) return;
    if (dirName === "c>s" && d.line === "wait") {
      // The client's first byte decides for both directions.
      const auth = chunk[0] === OPEN_BRACE;
      d.line = auth ? "open" : "none";
      const back = dirs["s>c"];
      back.line = auth ? "open" : "none";
      const held = back.held;
      back.held = [];
      feed(dirName, chunk);
      for (const c of held) feed("s>c", c);
      return;
    }
    if (d.line === "wait") {
      // The daemon spoke before the client: wait for the client's first byte.
      d.held.push(chunk);
      return;
    }
    if (d.line === "open") {
      const nl = chunk.indexOf(LINE_FEED);
      if (nl < 0) {
        send(d.src, d.dst, chunk);
        return;
      }
      send(d.src, d.dst, chunk.subarray(0, nl + 1));
      d.line = "done";
      chunk = chunk.subarray(nl + 1);
      if (chunk.length === 0) return;
    }
    feedFrames(dirName, d, chunk);
  };

  const guarded = (dirName) => (chunk) => {
    try {
      feed(dirName, chunk);
    } catch (e) {
      console.error(`legacy-proxy: conn ${conn}: internal error: ${e?.stack ?? e}`);
      closeBoth();
    }
  };
  down.on("data", guarded("c>s"));
  up.on("data", guarded("s>c"));
}

// ---- listening ----

// clearStale removes a socket file at path that nobody accepts on, as
// node-ipc does; a live socket or a file of another kind is an error.
async function clearStale(path) {
  let st;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if (e.code === "ENOENT") return;
    throw e;
  }
  if (!st.isSocket()) {
    console.error(`legacy-proxy: refusing to remove ${path}: not a socket`);
    process.exit(1);
  }
  const live = await new Promise((resolve) => {
    const probe = net.createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) {
    console.error(`legacy-proxy: ${path} is in use`);
    process.exit(2);
  }
  fs.unlinkSync(path);
}

// SIGINT exits 0 without removing the socket file; SIGTERM has no handler
// (the default kills the process), which leaves the file behind as well.
process.on("SIGINT", () => process.exit(0));
// A last resort: connection handlers catch their own exceptions.
process.on("uncaughtException", (e) => console.error(`legacy-proxy: uncaught: ${e?.stack ?? e}`));

try {
  await clearStale(listenPath);
} catch (e) {
  console.error(`legacy-proxy: ${listenPath}: ${e.message}`);
  process.exit(1);
}
let listening = false;
const server = net.createServer(handle);
server.on("error", (e) => {
  console.error(`legacy-proxy: ${listening ? "server" : `cannot listen on ${listenPath}`}: ${e.message}`);
  if (!listening) process.exit(e.code === "EADDRINUSE" ? 2 : 1);
});
server.listen(listenPath, () => {
  listening = true;
  process.stdout.write(`READY ${listenPath}\n`);
});
