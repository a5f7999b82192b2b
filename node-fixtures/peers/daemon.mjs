// A real @nexus-js/node-ipc 0.6.0 daemon for the interop tests.
//
//   node peers/daemon.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token-env VAR] [--deny-connect] [--deny-call SERVICE]
//        [--late SERVICE:MS]
//
// Provides the service "demo" (the same surface as `nexusctl serve`) plus
// test helpers, prints "READY <socket path>" on stdout once listening, logs
// calls on stderr, and exits on SIGINT/SIGTERM.
import { nexus, Token } from "@nexus-js/core";
import { usingNodeIpcDaemon, NodeIpcAddress } from "@nexus-js/node-ipc";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name) => args.includes(name);

const appId = opt("--app");
if (!appId) {
  console.error("usage: daemon.mjs --app APP [...]");
  process.exit(64);
}
const instance = opt("--instance");
const socket = opt("--socket");
const tokenEnv = opt("--token-env");

let counter = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const coded = (code, message) => Object.assign(new Error(message), { code });

const demo = {
  echo: (x) => x,
  add: (a, b) => a + b,
  async callback(fn, n) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await fn(i));
    return out;
  },
  async callbackParallel(fn, n) {
    return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  },
  async callbackCatch(fn) {
    try {
      return { ok: await fn("x") };
    } catch (e) {
      return { caught: true, code: e.code ?? null, message: e.message, cause: e.cause ?? null };
    }
  },
  fail(code, message) {
    throw coded(code, message);
  },
  failPlain(message) {
    throw new Error(message);
  },
  get counter() {
    return counter;
  },
  set counter(v) {
    counter = v;
  },
  makeCounter(start) {
    const obj = {
      value: start,
      increment() {
        obj.value += 1;
        return obj.value;
      },
    };
    return nexus.ref(obj);
  },
  async sleep(ms) {
    await sleep(ms);
    return ms;
  },
  whoami() {
    return { pid: process.pid, note: "node daemon" };
  },
  types() {
    return {
      map: new Map([["a", 1], [2, "b"]]),
      set: new Set([1, "x"]),
      big: 12345678901234567890n,
      undef: undefined,
      esc3: "\u0003R:res-999",
      esc4: "\u0004hello",
      nested: { arr: [undefined, null, 1] },
    };
  },
  describe(...xs) {
    const d = (x) => {
      if (x === undefined) return "undefined";
      if (x === null) return "null";
      if (typeof x === "bigint") return `bigint:${x}`;
      if (x instanceof Map) return `map:${JSON.stringify([...x.entries()])}`;
      if (x instanceof Set) return `set:${JSON.stringify([...x.values()])}`;
      if (typeof x === "function") return "function";
      if (typeof x === "string") return `string:${JSON.stringify(x)}`;
      return `${typeof x}:${JSON.stringify(x)}`;
    };
    return xs.map(d);
  },
};

const options = { appId };
if (instance) options.instance = instance;
if (socket) options.address = { kind: "path", path: socket };
if (tokenEnv) options.authToken = process.env[tokenEnv];
if (flag("--deny-connect")) options.policy = { canConnect: () => false };
const denied = opt("--deny-call");

const app = usingNodeIpcDaemon(options);
app.provide(new Token("demo"), demo, denied === "demo" ? { policy: { canCall: () => false } } : undefined);
app.provide(new Token("locked"), { hello: () => "hi" }, { policy: { canCall: () => false } });
const late = opt("--late");
if (late) {
  const [name, ms] = late.split(":");
  setTimeout(() => app.provide(new Token(name), { hello: () => `hello from ${name}` }), Number(ms));
}
await app.ready();

const path = socket
  ? NodeIpcAddress.normalize({ kind: "path", path: socket }).path
  : NodeIpcAddress.defaultResolve({ context: "node-ipc-daemon", appId, instance }).value.path;
process.stdout.write(`READY ${path}\n`);
const stop = () => process.exit(0);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
