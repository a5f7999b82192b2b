// values.json, revive.json, errors.json and auth.json: answered by live @nexus-js/node-ipc daemons
// (child processes running daemon.mjs) over raw Unix sockets.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import net from "node:net";
import { RawConn, frame, connect } from "./wire.mjs";
import { namedValues, randomValues, goRepresentable } from "./valuegen.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const children = new Set();

export function killChildren() {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {}
  }
  children.clear();
}

export function startDaemon(sockPath, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, "daemon.mjs"), sockPath, ...args], {
      cwd: path.join(here, ".."),
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    children.add(child);
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`daemon did not become ready in time\n${err}`));
    }, 15000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("READY\n")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (process.env.VECTORS_DEBUG) process.stderr.write(d);
    });
    child.once("exit", (code, sig) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`daemon exited early (${code ?? sig})\n${err}`));
    });
  });
}

export function stopDaemon(child) {
  if (!child) return Promise.resolve();
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  }).finally(() => children.delete(child));
}

// ------------------------------------------------------------------ values / revive / errors

export async function serviceCases(sockPath) {
  const conn = await RawConn.open(sockPath);
  await conn.handshake(1);
  let nextId = 1;
  const call = async (method, argsText) => {
    const id = nextId++;
    const req = `[3,${id},null,["vectors",${JSON.stringify(method)}],${argsText}]`;
    return { id, req, res: await conn.request(id, req) };
  };
  const resultText = (id, text) => {
    const prefix = `[5,${id},`;
    if (!text.startsWith(prefix) || !text.endsWith("]")) throw new Error(`unexpected reply ${text}`);
    return text.slice(prefix.length, -1);
  };
  const errorText = (id, text) => {
    const prefix = `[6,${JSON.stringify(id)},`;
    if (!text.startsWith(prefix) || !text.endsWith("]")) throw new Error(`unexpected reply ${text}`);
    return text.slice(prefix.length, -1);
  };

  // ---- values.json
  const values = [];
  for (const { name, desc, note } of [...namedValues(), ...randomValues(260)]) {
    const made = await call("make", `[${JSON.stringify(JSON.stringify(desc))}]`);
    if (made.res.msg[0] !== 5) throw new Error(`make failed for ${name}: ${made.res.text}`);
    const wire = resultText(made.id, made.res.text);
    const rev = await call("describe", `[${wire}]`);
    if (rev.res.msg[0] !== 5) throw new Error(`describe failed for ${name}: ${rev.res.text}`);
    const c = { name, input: desc, go: goRepresentable(desc), wire, res: made.res.text, revived: JSON.parse(rev.res.msg[2]) };
    if (note) c.note = note;
    values.push(c);
  }

  // ---- revive.json: what the daemon's PayloadProcessor revives from given APPLY args
  const revive = [];
  const R = async (name, argsText, note) => {
    const id = nextId++;
    const req = argsText === null ? `[3,${id},null,["vectors","describeArgs"]]` : `[3,${id},null,["vectors","describeArgs"],${argsText}]`;
    const res = await conn.request(id, req);
    const c = { name, args: argsText, request: req };
    if (res.msg[0] === 5) Object.assign(c, { ok: true, received: JSON.parse(res.msg[2]) });
    else Object.assign(c, { ok: false, wire: res.text, error: errorText(id, res.text) });
    if (note) c.note = note;
    revive.push(c);
  };
  const one = (w) => `[${w}]`;
  await R("args/absent-4-element-apply", null, "4-element APPLY: args undefined -> one undefined argument");
  await R("args/null", "null");
  await R("args/scalar-string", '"scalar"');
  await R("args/object", '{"a":1}');
  await R("args/empty", "[]");
  await R("args/placeholder-undefined-string", '"\\u0003U"');
  await R("u/undefined", one('"\\u0003U"'));
  await R("u/payload-ignored", one('"\\u0003U:junk"'));
  await R("u/lowercase-is-unknown", one('"\\u0003u"'));
  await R("unknown/Z", one('"\\u0003Z:foo"'));
  await R("unknown/bare-u0003", one('"\\u0003"'));
  await R("unknown/Q-no-colon", one('"\\u0003Q"'));
  await R("unknown/colon-only", one('"\\u0003:x"'));
  await R("n/empty-is-0", one('"\\u0003N:"'));
  await R("n/hex", one('"\\u0003N:0x10"'));
  await R("n/octal", one('"\\u0003N:0o17"'));
  await R("n/binary", one('"\\u0003N:0b101"'));
  await R("n/whitespace", one('"\\u0003N: 12 "'));
  await R("n/negative", one('"\\u0003N:-5"'));
  await R("n/neg-zero", one('"\\u0003N:-0"'));
  await R("n/plus", one('"\\u0003N:+7"'));
  await R("n/huge", one('"\\u0003N:123456789012345678901234567890"'));
  await R("n/exponent-fails", one('"\\u0003N:1e3"'));
  await R("n/garbage-fails", one('"\\u0003N:zz"'));
  await R("n/decimal-fails", one('"\\u0003N:1.5"'));
  await R("n/neg-hex-fails", one('"\\u0003N:-0x10"'));
  await R("n/no-colon", one('"\\u0003N"'), "no ':' -> payload undefined -> BigInt(undefined) throws");
  await R("m/basic", one('"\\u0003M:[[\\"a\\",1],[2,\\"b\\"]]"'));
  await R("m/empty", one('"\\u0003M:[]"'));
  await R("m/triple-entry", one('"\\u0003M:[[1,2,3]]"'));
  await R("m/short-entry", one('"\\u0003M:[[1]]"'));
  await R("m/string-entry", one('"\\u0003M:[\\"ab\\"]"'));
  await R("m/null", one('"\\u0003M:null"'));
  await R("m/object-fails", one('"\\u0003M:{}"'));
  await R("m/number-entry-fails", one('"\\u0003M:[1]"'));
  await R("m/bad-json-fails", one('"\\u0003M:bad"'));
  await R("m/empty-payload-fails", one('"\\u0003M:"'));
  await R("m/placeholders-not-revived", one('"\\u0003M:[[\\"\\\\u0003U\\",\\"\\\\u0003R:res-1\\"]]"'));
  await R("m/duplicate-keys", one('"\\u0003M:[[1,\\"a\\"],[1,\\"b\\"]]"'));
  await R("s/basic", one('"\\u0003S:[1,\\"x\\",1]"'));
  await R("s/string-iterates-chars", one('"\\u0003S:\\"ab\\""'));
  await R("s/null", one('"\\u0003S:null"'));
  await R("s/object-fails", one('"\\u0003S:{}"'));
  await R("s/number-fails", one('"\\u0003S:5"'));
  await R("r/ref", one('"\\u0003R:res-7"'));
  await R("r/same-id-twice", '["\\u0003R:res-8","\\u0003R:res-8",{"x":"\\u0003R:res-8"}]');
  await R("r/empty-id", one('"\\u0003R:"'));
  await R("r/no-colon", one('"\\u0003R"'));
  await R("r/colon-in-id", one('"\\u0003R:a:b"'));
  await R("esc/u0004-empty", one('"\\u0004"'));
  await R("esc/u0004u0004x", one('"\\u0004\\u0004x"'));
  await R("esc/u0004u0003U", one('"\\u0004\\u0003U"'));
  await R("esc/u0004-unneeded-is-stripped", one('"\\u0004abc"'));
  await R("esc/only-one-stripped", one('"\\u0004\\u0004\\u0004"'));
  await R("esc/u0003-in-middle", one('"a\\u0003U"'));
  await R("nested/array-and-object", one('{"a":["\\u0003U","\\u0003N:5",{"b":"\\u0004\\u0003x"}],"c":"\\u0003S:[]"}'));
  await R("keys/not-revived", one('{"\\u0003U":"\\u0003U","\\u0004k":1}'));
  await R("keys/proto-own-key", one('{"__proto__":{"x":1},"b":2}'));
  await R("keys/duplicate", one('{"a":1,"a":"\\u0003U"}'));
  await R("keys/integer-order", one('{"b":1,"2":2,"1":3}'));
  await R("numbers/forms", one("[1E2,1e+2,0.5e-3,-0,-0.0,1e400,-1e400,1e-400,12345678901234567890]"));
  await R("strings/escapes", one('"\\u0000\\b\\f\\n\\r\\t\\"\\\\\\/\\u0041\\u00e9\\ud83d\\ude00\\ud800"'));
  await R("strings/raw-u2028", one('"a\u2028b"'));

  // ---- errors.json
  const errors = [];
  const E = async (name, reqText, id, connection = conn, note) => {
    const res = await connection.request(id, reqText);
    const c = { name, request: reqText, wire: res.text };
    if (res.msg[0] === 6) c.error = errorText(id, res.text);
    else c.unexpectedRes = true;
    if (note) c.note = note;
    errors.push(c);
  };
  const apply = (method, argsText, id = nextId++) => [`[3,${JSON.stringify(id)},null,["vectors",${JSON.stringify(method)}],${argsText}]`, id];
  const kinds = ["plain", "empty-message", "unicode-message", "string-code", "string-code-detail", "string-code-empty-message",
    "numeric-code", "null-code", "extra-props-no-code", "cause-error", "cause-chain-3", "cause-self", "cause-cycle-2",
    "cause-string", "cause-number", "cause-zero", "cause-empty-string", "cause-plain-object", "cause-error-like-object",
    "cause-coded-error", "cause-null", "coded-with-assigned-cause", "coded-with-option-cause", "type-error", "range-error",
    "syntax-error", "custom-class", "custom-class-coded", "assigned-name-coded", "non-string-name-coded", "aggregate-error",
    "node-ipc-error", "nexus-error", "nexus-error-no-context", "nexus-usage-error", "nexus-remote-error",
    "nexus-disconnected-error", "fs-enoent"];
  for (const k of kinds) await E(`throw/${k}`, ...apply("fail", `[${JSON.stringify(k)}]`));
  for (const k of ["plain", "string-code", "cause-error"]) await E(`reject/${k}`, ...apply("failAsync", `[${JSON.stringify(k)}]`));
  const thrown = [["string", { t: "string", v: "a string" }], ["empty-string", { t: "string", v: "" }], ["number", { t: "number", v: "4045000000000000" }],
    ["null", { t: "null" }], ["undefined", { t: "undefined" }], ["bool", { t: "bool", v: false }],
    ["plain-object", { t: "object", v: [["foo", { t: "number", v: "3ff0000000000000" }]] }],
    ["error-like-object", { t: "object", v: [["name", { t: "string", v: "MyErr" }], ["code", { t: "string", v: "E_MINE" }], ["message", { t: "string", v: "mine" }]] }],
    ["array", { t: "array", v: [{ t: "number", v: "3ff0000000000000" }, { t: "string", v: "two" }] }],
    ["bigint", { t: "bigint", v: "10" }], ["map", { t: "map", v: [] }], ["symbol", { t: "symbol", v: "sym" }]];
  for (const [n, d] of thrown) await E(`throw-non-error/${n}`, ...apply("throwValue", `[${JSON.stringify(JSON.stringify(d))}]`));
  await E("string-id-echoed", ...apply("fail", '["plain"]', "s-1"));
  await E("sanitize/circular-result", ...apply("circular", "[]"));
  await E("sanitize/bigint-in-map", ...apply("make", `[${JSON.stringify(JSON.stringify({ t: "map", v: [[{ t: "string", v: "a" }, { t: "bigint", v: "1" }]] }))}]`));
  await E("sanitize/bigint-in-set", ...apply("make", `[${JSON.stringify(JSON.stringify({ t: "set", v: [{ t: "bigint", v: "1" }] }))}]`));
  await E("revive/bad-bigint-arg", ...apply("describe", '["\\u0003N:zz"]'));
  let id;
  id = nextId++;
  await E("core/unknown-method", `[3,${id},null,["vectors","noSuchMethod"],[]]`, id);
  id = nextId++;
  await E("core/not-a-function", `[3,${id},null,["vectors","notFn"],[]]`, id);
  id = nextId++;
  await E("core/missing-intermediate", `[3,${id},null,["vectors","nope","deeper"],[]]`, id);
  id = nextId++;
  await E("core/unknown-service", `[3,${id},null,["nosvc","x"],[]]`, id);
  id = nextId++;
  await E("core/unknown-service-get", `[1,${id},null,["nosvc"]]`, id);
  id = nextId++;
  await E("core/proto-path-get", `[1,${id},null,["vectors","__proto__","x"]]`, id);
  id = nextId++;
  await E("core/prototype-path", `[3,${id},null,["vectors","prototype"],[]]`, id);
  id = nextId++;
  await E("core/constructor-path", `[3,${id},null,["vectors","make","constructor"],[]]`, id);
  id = nextId++;
  await E("core/constructor-as-service-name", `[3,${id},null,["constructor","x"],[]]`, id);
  id = nextId++;
  await E("core/empty-path", `[3,${id},null,[],[]]`, id);
  id = nextId++;
  await E("core/numeric-path0", `[3,${id},null,[5,"x"],[]]`, id);
  id = nextId++;
  await E("core/path-not-array", `[3,${id},null,"vectors.make",[]]`, id);
  id = nextId++;
  await E("core/path-null", `[3,${id},null,null,[]]`, id);
  id = nextId++;
  await E("core/set-on-service-root", `[2,${id},null,["vectors"],1]`, id);
  id = nextId++;
  await E("core/call-denied", `[3,${id},null,["denied","hello"],[]]`, id);
  id = nextId++;
  await E("core/get-denied", `[1,${id},null,["denied"]]`, id);
  id = nextId++;
  await E("core/unknown-resource", `[3,${id},"res-999",[],[]]`, id);
  id = nextId++;
  await E("core/unknown-resource-get", `[1,${id},"res-999",["a"]]`, id);
  // resources owned by this connection
  const mk = await call("make", `[${JSON.stringify(JSON.stringify({ t: "function" }))}]`);
  const resId = JSON.parse(resultText(mk.id, mk.res.text)).slice(3);
  const mk2 = await call("make", `[${JSON.stringify(JSON.stringify({ t: "localref", v: { t: "object", v: [["a", { t: "number", v: "3ff0000000000000" }]] } }))}]`);
  const refId = JSON.parse(resultText(mk2.id, mk2.res.text)).slice(3);
  id = nextId++;
  await E("resource/set-on-root", `[2,${id},${JSON.stringify(refId)},[],1]`, id);
  id = nextId++;
  await E("resource/service-name-mismatch", `[3,${id},${JSON.stringify(resId)},[],"other",[]]`, id);
  id = nextId++;
  await E("resource/service-name-null-mismatch", `[3,${id},${JSON.stringify(resId)},[],null,[]]`, id);
  id = nextId++;
  await E("resource/get-name-mismatch", `[1,${id},${JSON.stringify(refId)},["a"],"other"]`, id);
  id = nextId++;
  await E("resource/call-non-function", `[3,${id},${JSON.stringify(refId)},["a"],[]]`, id);
  const conn2 = await RawConn.open(sockPath);
  await conn2.handshake(1);
  id = 1;
  await E("resource/other-connection", `[3,${id},${JSON.stringify(resId)},[],[]]`, id, conn2);
  id = 2;
  await E("resource/other-connection-get", `[1,${id},${JSON.stringify(refId)},["a"]]`, id, conn2);
  conn2.close();
  conn.close();
  return { values, revive, errors };
}

// ------------------------------------------------------------------ auth

export const AUTH_TOKEN = "s3cr\"et\\\u00e9\ud83d\ude00";
export const AUTH_TIMEOUT_MS = 1000;
const REQ_FRAME = () => frame('[10,1,{"context":"node-ipc-client","appId":"vectors","pid":1},null,["provider-catalog-v1"]]');
const OK_LINE = '{"type":"nexus-ipc-auth-ok"}\n';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Event-loop barrier: a second connection whose empty auth line makes the daemon close it. By the time
// that close is seen, the daemon has also read everything that was already buffered on other sockets
// (libuv handles every fd that epoll reported ready, and reads each until EAGAIN).
async function barrier(sockPath) {
  const b = await connect(sockPath);
  b.on("error", () => {});
  const closed = new Promise((r) => b.once("close", r));
  b.write("\n");
  await Promise.race([closed, sleep(AUTH_TIMEOUT_MS * 3)]);
  b.destroy();
}

// Sends `chunks` (Buffers) with `gapMs` between writes (or, with `separateReads`, a barrier that makes sure
// the daemon read each chunk on its own); optionally half-closes. Resolves with the outcome.
async function authProbe(sockPath, chunks, { gapMs = 0, separateReads = false, end = false, followUp = false } = {}) {
  const s = await connect(sockPath);
  let got = Buffer.alloc(0);
  let closedAt = null;
  let lastWriteAt = Date.now();
  const closed = new Promise((r) => s.once("close", () => r((closedAt = Date.now()))));
  s.on("error", () => {});
  const okSeen = new Promise((r) =>
    s.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (got.includes(0x0a)) r(true);
    })
  );
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0 && gapMs) await sleep(gapMs);
    if (i > 0 && separateReads) await barrier(sockPath);
    s.write(chunks[i]);
    lastWriteAt = Date.now();
  }
  if (end) s.end();
  const outcome = await Promise.race([okSeen.then(() => "ok"), closed.then(() => "closed"), sleep(AUTH_TIMEOUT_MS * 3).then(() => "hang")]);
  const r = {};
  if (outcome === "ok") {
    const nl = got.indexOf(0x0a);
    r.accepted = got.subarray(0, nl + 1).toString("latin1") === OK_LINE;
    r.reply = got.subarray(0, nl + 1).toString("utf8");
    if (followUp) {
      // Was a frame pipelined behind the auth line answered? Wait, then send a fresh REQ.
      await sleep(400);
      r.pipelinedFrameAnswered = got.length > nl + 1;
      if (closedAt === null) {
        const before = got.length;
        s.write(REQ_FRAME());
        await Promise.race([closed, sleep(3000), new Promise((res) => s.on("data", () => got.length > before && res()))]);
        r.laterHandshakeAnswered = got.length > before && got.readUInt32BE(before) > 0 && got.subarray(before + 4, before + 8).toString() === "[11,";
      } else r.laterHandshakeAnswered = false;
    }
  } else if (outcome === "closed") {
    r.accepted = false;
    r.reply = got.toString("utf8");
    r.closedBeforeTimeout = closedAt - lastWriteAt < AUTH_TIMEOUT_MS / 2;
  } else {
    r.accepted = false;
    r.reply = got.toString("utf8");
    r.hung = true;
  }
  s.destroy();
  return r;
}

export async function authCases(sockPath) {
  const cases = [];
  // Request lines (no daemon needed): exactly what usingNodeIpcClient writes.
  const { strDesc } = await import("./desc.mjs");
  const { mulberry32 } = await import("./prng.mjs");
  const { randomString } = await import("./scalars.mjs");
  const tokens = [["simple", "tok"], ["secret", "secret"], ["daemon-token", AUTH_TOKEN], ["quote", 's3cr"et'], ["backslash", "a\\b"],
    ["slash", "a/b"], ["unicode", "\u00e9\u4e2d"], ["emoji", "\ud83d\ude00"], ["u2028", "a\u2028b\u2029"], ["del", "\u007f"],
    ["lone-high", "x\ud800"], ["lone-low", "\udc00y"], ["bom", "\ufeff"], ["nul", "\u0000"], ["newline", "a\nb"], ["cr", "a\rb"],
    ["all-controls", Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("")], ["html", "<>&'"],
    ["long-10000", "L".repeat(10000)], ["spaces", "  "], ["placeholder", "\u0003U"]];
  const rng = mulberry32(0x5eed0004);
  for (let i = 0; i < 40; i++) tokens.push([`rand/${i}`, randomString(rng, 16) || "r"]);
  // Capture what the real client endpoint (UnixSocketClientEndpoint.connect) writes, on a plain socket.
  const { UnixSocketClientEndpoint } = await import("@nexus-js/node-ipc");
  const capPath = path.join(path.dirname(sockPath), "cap.sock");
  let onLine = null;
  const capServer = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on("error", () => {});
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) {
        onLine?.(buf.subarray(0, nl + 1));
        sock.destroy();
      }
    });
  });
  await new Promise((r, j) => capServer.listen(capPath, r).once("error", j));
  try {
    for (const [name, token] of tokens) {
      const got = new Promise((r) => (onLine = r));
      const ep = new UnixSocketClientEndpoint(() => ({ kind: "path", path: capPath }), token, { authTimeoutMs: 3000 });
      const conn = ep.connect({ context: "node-ipc-daemon", appId: "vectors" }).catch(() => {});
      const raw = await Promise.race([got, sleep(3000).then(() => null)]);
      await conn;
      if (!raw) throw new Error(`client wrote no auth line for ${name}`);
      const line = JSON.stringify({ type: "nexus-ipc-auth", version: 1, token }) + "\n";
      if (!raw.equals(Buffer.from(line, "utf8"))) throw new Error(`client auth line differs for ${name}`);
      cases.push({ name: `request/${name}`, kind: "request", token: strDesc(token), line, lineHex: raw.toString("hex") });
    }
  } finally {
    capServer.close();
  }

  const T = AUTH_TOKEN;
  const L = (obj) => JSON.stringify(obj) + "\n";
  const good = L({ type: "nexus-ipc-auth", version: 1, token: T });
  const bytes = (s) => Buffer.from(s, "utf8");
  const padTo = (total, { nl = true } = {}) => {
    // valid auth object padded with a "pad" field so the line (incl. "\n" if nl) is `total` UTF-8 bytes
    const baseLen = bytes(L({ type: "nexus-ipc-auth", version: 1, token: T, pad: "" })).length - (nl ? 0 : 1);
    return bytes(L({ type: "nexus-ipc-auth", version: 1, token: T, pad: "p".repeat(total - baseLen) }).slice(0, nl ? undefined : -1));
  };
  const ffPadded = (n) => Buffer.concat([bytes(`{"type":"nexus-ipc-auth","version":1,"token":${JSON.stringify(T)},"pad":"`), Buffer.alloc(n, 0xff), bytes('"}\n')]);
  const escaped = `{"type":"nexus-ipc-auth","version":1,"token":"s3cr\\"et\\\\\\u00e9\\ud83d\\ude00"}\n`;
  const tokBytes = bytes(good);
  const eAt = tokBytes.indexOf(Buffer.from([0xc3, 0xa9]));

  const probes = [
    ["good", [bytes(good)]],
    ["good-crlf", [bytes(good.slice(0, -1) + "\r\n")]],
    ["good-escaped-unicode", [bytes(escaped)]],
    ["wrong-token", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: "nope" }))]],
    ["token-prefix", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: T.slice(0, -2) }))]],
    ["token-plus-char", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: T + "x" }))]],
    ["token-nfd-variant", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: T.replace("\u00e9", "e\u0301") }))]],
    ["token-empty", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: "" }))]],
    ["token-number", [bytes('{"type":"nexus-ipc-auth","version":1,"token":123}\n')]],
    ["token-null", [bytes('{"type":"nexus-ipc-auth","version":1,"token":null}\n')]],
    ["token-array", [bytes(`{"type":"nexus-ipc-auth","version":1,"token":[${JSON.stringify(T)}]}\n`)]],
    ["token-missing", [bytes('{"type":"nexus-ipc-auth","version":1}\n')]],
    ["token-key-case", [bytes(`{"type":"nexus-ipc-auth","version":1,"Token":${JSON.stringify(T)}}\n`)]],
    ["version-2", [bytes(L({ type: "nexus-ipc-auth", version: 2, token: T }))]],
    ["version-1.0", [bytes(`{"type":"nexus-ipc-auth","version":1.0,"token":${JSON.stringify(T)}}\n`)]],
    ["version-1e0", [bytes(`{"type":"nexus-ipc-auth","version":1e0,"token":${JSON.stringify(T)}}\n`)]],
    ["version-1.0000000000000001", [bytes(`{"type":"nexus-ipc-auth","version":1.0000000000000001,"token":${JSON.stringify(T)}}\n`)]],
    ["version-string", [bytes(`{"type":"nexus-ipc-auth","version":"1","token":${JSON.stringify(T)}}\n`)]],
    ["version-true", [bytes(`{"type":"nexus-ipc-auth","version":true,"token":${JSON.stringify(T)}}\n`)]],
    ["version-missing", [bytes(`{"type":"nexus-ipc-auth","token":${JSON.stringify(T)}}\n`)]],
    ["type-wrong", [bytes(L({ type: "nexus-ipc-auth-ok", version: 1, token: T }))]],
    ["type-trailing-space", [bytes(L({ type: "nexus-ipc-auth ", version: 1, token: T }))]],
    ["extra-fields", [bytes(L({ type: "nexus-ipc-auth", version: 1, token: T, extra: true, nested: { a: [1] } }))]],
    ["keys-reordered", [bytes(L({ token: T, version: 1, type: "nexus-ipc-auth" }))]],
    ["whitespace-around", [bytes("  \t" + good.slice(0, -1) + " \t \n")]],
    ["whitespace-inside", [bytes(`{ "type" : "nexus-ipc-auth" ,\t"version" : 1 , "token" : ${JSON.stringify(T)} }\n`)]],
    ["duplicate-token-last-right", [bytes(`{"type":"nexus-ipc-auth","version":1,"token":"nope","token":${JSON.stringify(T)}}\n`)]],
    ["duplicate-token-last-wrong", [bytes(`{"type":"nexus-ipc-auth","version":1,"token":${JSON.stringify(T)},"token":"nope"}\n`)]],
    ["duplicate-version-last-wins", [bytes(`{"type":"nexus-ipc-auth","version":2,"version":1,"token":${JSON.stringify(T)}}\n`)]],
    ["proto-key-ignored", [bytes(`{"__proto__":{"x":1},"type":"nexus-ipc-auth","version":1,"token":${JSON.stringify(T)}}\n`)]],
    ["not-json", [bytes("{not json\n")]],
    ["json-array", [bytes("[1,2]\n")]],
    ["json-null", [bytes("null\n")]],
    ["json-string", [bytes('"x"\n')]],
    ["empty-line", [bytes("\n")]],
    ["bom-before-json", [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(good)])]],
    ["nul-after-json", [bytes(good.slice(0, -1) + "\u0000\n")]],
    ["trailing-garbage-on-line", [bytes(good.slice(0, -1) + "x\n")]],
    ["cr-only-line-ending", [bytes(good.slice(0, -1) + "\r")]],
    ["missing-newline-then-end", [bytes(good.slice(0, -1))], { end: true }],
    ["missing-newline-kept-open", [bytes(good.slice(0, -1))]],
    ["nothing-sent", []],
    ["binary-req-frame-instead", [REQ_FRAME()]],
    ["line-8191-bytes", [padTo(8191)]],
    ["line-8192-bytes", [padTo(8192)]],
    ["line-8193-bytes", [padTo(8193)]],
    ["no-newline-8192-bytes-kept-open", [padTo(8192, { nl: false })]],
    ["no-newline-8192-then-1-byte", [padTo(8192, { nl: false }), bytes("x")], { separateReads: true }],
    ["invalid-utf8-in-pad-accepted", [ffPadded(10)]],
    ["invalid-utf8-counted-as-3-bytes", [ffPadded(2700)], { note: "2700 raw 0xFF bytes decode to U+FFFD (3 UTF-8 bytes each): ~8100 bytes after decoding" }],
    ["invalid-utf8-over-limit-after-decoding", [ffPadded(2800)], { note: "raw line is ~2.9 KB but ~8.5 KB after UTF-8 decoding with U+FFFD" }],
    ["lone-surrogate-escape-in-token", [bytes(`{"type":"nexus-ipc-auth","version":1,"token":"\\ud800"}\n`)]],
    ["one-byte-at-a-time-ascii-escaped", [...bytes(escaped)].map((b) => Buffer.from([b])), { gapMs: 2 }],
    ["one-byte-at-a-time-raw-utf8", [...tokBytes].map((b) => Buffer.from([b])), { separateReads: true, note: "multi-byte characters split across reads decode to U+FFFD, so the token no longer matches" }],
    ["multibyte-split-across-reads", [tokBytes.subarray(0, eAt + 1), tokBytes.subarray(eAt + 1)], { separateReads: true, note: "each chunk is decoded separately with toString('utf8'), so the split e-acute becomes two U+FFFD" }],
    ["split-at-ascii-boundary", [tokBytes.subarray(0, 10), tokBytes.subarray(10)], { separateReads: true }],
    ["req-frame-pipelined-after-line", [Buffer.concat([bytes(good), REQ_FRAME()])], { followUp: true }],
    ["garbage-pipelined-after-line", [Buffer.concat([bytes(good), bytes("xyz")])], { followUp: true }],
    ["two-auth-lines-one-write", [Buffer.concat([bytes(good), bytes(good)])], { followUp: true }],
    ["good-line-then-later-req", [bytes(good)], { followUp: true }],
    ["line-plus-9kb-frame-one-write", [Buffer.concat([bytes(good), frame("[5,1," + JSON.stringify("q".repeat(9000)) + "]")])]],
    ["wrong-then-good-line-one-write", [Buffer.concat([bytes(L({ type: "nexus-ipc-auth", version: 1, token: "nope" })), bytes(good)])]],
  ];
  const results = await Promise.all(
    probes.map(async ([name, chunks, opts = {}]) => {
      const r = await authProbe(sockPath, chunks, opts);
      const c = { name: `accept/${name}`, kind: "accept", daemonToken: strDesc(AUTH_TOKEN), authTimeoutMs: AUTH_TIMEOUT_MS, sent: Buffer.concat(chunks).toString("hex") };
      if (chunks.length > 1) c.chunks = chunks.map((b) => b.toString("hex"));
      if (opts.gapMs) c.gapMs = opts.gapMs;
      if (opts.separateReads) c.separateReads = true;
      if (opts.end) c.endAfterSend = true;
      c.sentBytes = Buffer.concat(chunks).length;
      Object.assign(c, r);
      if (opts.note) c.note = opts.note;
      return c;
    })
  );
  const okReply = results.find((r) => r.name === "accept/good");
  cases.push({ name: "ok-line", kind: "ok", line: okReply.reply, lineHex: Buffer.from(okReply.reply, "utf8").toString("hex") });
  cases.push(...results);
  return cases;
}
