// Raw Unix-socket client speaking the framed Nexus protocol by hand (no Nexus code involved).
import net from "node:net";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function frame(bodyText) {
  const body = Buffer.from(bodyText, "utf8");
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

export function connect(path, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect timeout ${path}`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

export class RawConn {
  constructor(sock, { callTimeoutMs = 5000 } = {}) {
    this.sock = sock;
    this.callTimeoutMs = callTimeoutMs;
    this.buf = Buffer.alloc(0);
    this.waiters = new Map(); // key -> {resolve, reject, timer}
    this.closed = false;
    this.frames = [];
    sock.on("data", (d) => this.onData(d));
    sock.on("close", () => {
      this.closed = true;
      for (const [, w] of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error("connection closed"));
      }
      this.waiters.clear();
    });
    sock.on("error", () => {});
  }

  static async open(path, opts) {
    return new RawConn(await connect(path), opts);
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + n) break;
      const body = this.buf.subarray(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      const text = strictUtf8.decode(body);
      const msg = JSON.parse(text);
      let key = null;
      if (msg[0] === 5 || msg[0] === 6) key = "call:" + JSON.stringify(msg[1]);
      else if (msg[0] === 11 || msg[0] === 12) key = "hs:" + JSON.stringify(msg[1]);
      const w = key && this.waiters.get(key);
      if (w) {
        this.waiters.delete(key);
        clearTimeout(w.timer);
        w.resolve({ text, msg });
      }
      // everything else (RELEASE of revived proxies, PROVIDER_AVAILABLE, ...) is ignored
    }
  }

  wait(key) {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("connection closed"));
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`timeout waiting for ${key}`));
      }, this.callTimeoutMs);
      this.waiters.set(key, { resolve, reject, timer });
    });
  }

  sendText(text) {
    this.sock.write(frame(text));
  }

  async handshake(id = 1) {
    const p = this.wait("hs:" + JSON.stringify(id));
    this.sendText(`[10,${id},{"context":"node-ipc-client","appId":"vectors","pid":1},null,["provider-catalog-v1"]]`);
    const ack = await p;
    if (ack.msg[0] !== 11) throw new Error("handshake rejected: " + ack.text);
    this.sendText(`[14,${id},["provider-catalog-v1"],[]]`);
    return ack;
  }

  // Sends a request body (text) whose id is `id`, returns the RES/ERR {text,msg}.
  async request(id, bodyText) {
    const p = this.wait("call:" + JSON.stringify(id));
    this.sendText(bodyText);
    return p;
  }

  close() {
    this.sock.destroy();
  }
}
