// A core 0.x handshake in front of a real @nexus-js 1.2.0 peer, for the
// legacy interop tests. No 0.x package can be installed from the registry,
// so this proxy rewrites ONLY the handshake frames between a 1.2.0 JS peer
// and the peer under test; everything after the handshake is the real JS
// engine's bytes, forwarded unchanged.
//
//   node peers/legacy-proxy.mjs --as client|daemon --listen PATH --upstream PATH
//        [--providers a,b,...] [--log FILE]
//
// It listens on the Unix socket PATH (a stale file there is replaced),
// prints "READY <PATH>" once listening, and for every connection accepted
// there (downstream) dials --upstream. Pre-auth lines pass through: a first
// byte "{" from downstream is an auth line, forwarded up to its newline,
// and the upstream's reply line is forwarded back before frames start.
//
// --as client: a 0.x CLIENT for the upstream (the daemon under test), in
// front of a real 1.2.0 client downstream.
//   c>s REQ   [10,id,meta,assigns,caps]  -> [10,id,meta,assigns]
//   s>c ACK   [11,id,meta]               -> [11,id,meta,["provider-catalog-v1"],PROVIDERS]
//             (PROVIDERS from --providers; an ACK of any other length is a
//             violation: a 0.x client must get the 0.x ACK)
//   c>s READY [14,id,…]                  -> [14,id]
//   s>c after the handshake: 15, 8, 9, 16, 17, 10, 11 or 14 is a violation
//             (a real 0.x client closes on 15), and the connection is closed.
// --as daemon: a 0.x DAEMON for the downstream (the client under test), in
// front of a real 1.2.0 daemon upstream.
//   c>s REQ   forwarded unchanged (a 0.x daemon ignores capabilities)
//   s>c ACK   [11,id,meta,caps,providers] -> [11,id,meta]
//   c>s READY [14,id]                    -> [14,id,["provider-catalog-v1"],[]]
//             (a longer READY is a violation, but is forwarded: 0.x takes it)
//   s>c 15    dropped (a 0.x daemon never sends it)
//   c>s after the handshake: 15, 8, 9, 16, 17 or a second 10 is a violation,
//             and the connection is closed.
//   The socket file is never removed on exit (SIGINT exits 0, SIGTERM and
//   SIGKILL kill): like node-ipc 0.3.1, a stopped proxy leaves it behind.
//
// --log FILE gets one JSON line per event, written synchronously:
//   {"conn":N,"dir":"c>s"|"s>c","type":T,"frame":F,"rewritten":B[,"original":O]}
//   {"conn":N,"dir":…,"type":15,"dropped":true,"frame":F}
//   {"conn":N,"violation":"text"}     (also printed on stderr)
//   {"conn":N,"closed":"down"|"up"}
// "c>s" is always the client side to the daemon side.
import fs from "node:fs";
import net from "node:net";

const MAX_FRAME = 16 << 20;
const CATALOG = "provider-catalog-v1";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const as = opt("--as");
const listen = opt("--listen");
const upstream = opt("--upstream");
const providers = (opt("--providers") ?? "").split(",").filter((s) => s !== "");
const logFile = opt("--log");
if ((as !== "client" && as !== "daemon") || !listen || !upstream) {
  console.error("usage: legacy-proxy.mjs --as client|daemon --listen PATH --upstream PATH [--providers a,b] [--log FILE]");
  process.exit(64);
}

function log(entry) {
  if (logFile) fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

// withHeader prefixes a frame body (a Buffer) with its length.
function withHeader(body) {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

const frameOf = (text) => withHeader(Buffer.from(text, "utf8"));

// FrameSplitter turns a byte stream into frame bodies.
class FrameSplitter {
  constructor() {
    this.buf = Buffer.alloc(0);
  }
  // push appends bytes and returns the complete bodies, or throws on a bad
  // length.
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (n === 0 || n > MAX_FRAME) throw new Error(`bad frame length ${n}`);
      if (this.buf.length < 4 + n) break;
      out.push(this.buf.subarray(4, 4 + n));
      this.buf = this.buf.subarray(4 + n);
    }
    return out;
  }
}

let connCount = 0;

function handle(down) {
  const conn = ++connCount;
  const up = net.createConnection(upstream);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    down.end();
    up.end();
    setImmediate(() => {
      down.destroy();
      up.destroy();
    });
  };
  const violation = (text) => {
    log({ conn, violation: text });
    console.error(`legacy-proxy: conn ${conn}: ${text}`);
    close();
  };
  down.on("error", close);
  up.on("error", close);
  down.on("close", () => {
    log({ conn, closed: "down" });
    close();
  });
  up.on("close", () => {
    log({ conn, closed: "up" });
    close();
  });

  // The client side (c) of the conversation is always downstream.
  const client = { sock: down };
  const daemonSide = { sock: up };
  let ready = false; // READY went through
  let acked = false;

  // rewrite returns the frame to forward (a string), the original bytes
  // (a Buffer) when unchanged, or null to drop it.
  function fromClient(body, pkt) {
    const t = pkt[0];
    if (!ready) {
      if (t === 10 && as === "client") return JSON.stringify([10, pkt[1], pkt[2], pkt[3] ?? null]);
      if (t === 14 && acked) {
        ready = true;
        if (as === "client") return JSON.stringify([14, pkt[1]]);
        if (pkt.length !== 2) log({ conn, violation: "1.x READY from a client that got a 0.x ACK" });
        return JSON.stringify([14, pkt[1], [CATALOG], []]);
      }
      return body;
    }
    if (as === "daemon" && [8, 9, 10, 15, 16, 17].includes(t)) {
      violation(`type ${t} sent to a 0.x daemon`);
      return null;
    }
    return body;
  }
  function fromDaemon(body, pkt) {
    const t = pkt[0];
    if (!ready && t === 11) {
      acked = true;
      if (as === "client") {
        if (pkt.length !== 3) {
          violation("expected a 0.x ACK");
          return null;
        }
        return JSON.stringify([11, pkt[1], pkt[2], [CATALOG], providers]);
      }
      return JSON.stringify([11, pkt[1], pkt[2]]);
    }
    if (t === 15 && as === "daemon") {
      log({ conn, dir: "s>c", type: 15, dropped: true, frame: pkt });
      return null;
    }
    if (ready && as === "client" && [8, 9, 10, 11, 14, 15, 16, 17].includes(t)) {
      violation(`type ${t} sent to a 0.x client`);
      return null;
    }
    return body;
  }

  function pipeFrames(from, to, dir, rewrite) {
    const split = new FrameSplitter();
    return (chunk) => {
      let bodies;
      try {
        bodies = split.push(chunk);
      } catch (e) {
        violation(`${dir}: ${e.message}`);
        return;
      }
      for (const body of bodies) {
        if (closed) return;
        let pkt;
        try {
          pkt = JSON.parse(body.toString("utf8"));
        } catch {
          violation(`${dir}: a frame that is not JSON`);
          return;
        }
        if (!Array.isArray(pkt)) {
          violation(`${dir}: a frame that is not an array`);
          return;
        }
        const out = rewrite(body, pkt);
        if (out === null) continue;
        if (typeof out === "string") {
          log({ conn, dir, type: pkt[0], frame: JSON.parse(out), rewritten: true, original: pkt });
          to.write(frameOf(out));
        } else {
          log({ conn, dir, type: pkt[0], frame: pkt, rewritten: false });
          to.write(withHeader(out));
        }
      }
    };
  }
  const onClientFrames = pipeFrames(client.sock, daemonSide.sock, "c>s", fromClient);
  const onDaemonFrames = pipeFrames(daemonSide.sock, client.sock, "s>c", fromDaemon);

  // Pre-auth: the client's line, then the daemon's line, then frames.
  let clientPre = Buffer.alloc(0);
  let clientState = "start"; // start | line | frames
  let daemonPre = Buffer.alloc(0);
  let daemonState = "waiting"; // waiting (for a line if the client sent one) | frames
  let pendingClient = [];

  client.sock.on("data", (chunk) => {
    if (clientState === "frames") return onClientFrames(chunk);
    if (clientState === "start") clientState = chunk[0] === 0x7b ? "line" : "frames";
    if (clientState === "frames") {
      daemonState = "frames";
      return onClientFrames(chunk);
    }
    clientPre = Buffer.concat([clientPre, chunk]);
    const nl = clientPre.indexOf(0x0a);
    if (nl < 0) {
      if (clientPre.length > 8192) violation("pre-auth line too long");
      return;
    }
    daemonSide.sock.write(clientPre.subarray(0, nl + 1));
    const rest = clientPre.subarray(nl + 1);
    clientState = "frames";
    // Frames after the line wait until the daemon has answered it.
    if (rest.length) pendingClient.push(rest);
  });
  daemonSide.sock.on("data", (chunk) => {
    if (daemonState === "frames") return onDaemonFrames(chunk);
    daemonPre = Buffer.concat([daemonPre, chunk]);
    const nl = daemonPre.indexOf(0x0a);
    if (nl < 0) {
      if (daemonPre.length > 8192) violation("pre-auth reply too long");
      return;
    }
    client.sock.write(daemonPre.subarray(0, nl + 1));
    daemonState = "frames";
    const rest = daemonPre.subarray(nl + 1);
    if (rest.length) onDaemonFrames(rest);
    for (const p of pendingClient) onClientFrames(p);
    pendingClient = [];
  });
}

// Replace a stale socket file (nobody accepts on it), as node-ipc does.
async function clearStale(path) {
  if (!fs.existsSync(path)) return;
  const live = await new Promise((resolve) => {
    const s = net.createConnection(path);
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
  if (live) {
    console.error(`legacy-proxy: ${path} is in use`);
    process.exit(2);
  }
  fs.unlinkSync(path);
}

// SIGINT ends the proxy cleanly (exit 0) but, like SIGTERM, leaves the
// socket file behind, as node-ipc 0.3.1 does.
process.on("SIGINT", () => process.exit(0));
process.on("uncaughtException", (e) => console.error(`legacy-proxy: ${e.stack ?? e}`));
await clearStale(listen);
const server = net.createServer(handle);
server.listen(listen, () => console.log(`READY ${listen}`));
