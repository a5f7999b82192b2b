// A real @nexus-js/node-ipc 0.6.0 daemon for the interop tests.
//
//   node peers/daemon.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token-env VAR] [--deny-connect] [--deny-call SERVICE]
//        [--late SERVICE:MS] [--meta JSON] [--deny-identity KEY=VALUE]...
//        [--hub] [--provide-twice] [--provide-twice-late [MS|FILE]]
//
// Provides the service "demo" (the same surface as `nexusctl serve`), "locked"
// (canCall always false), with --hub also "hub" (below), prints
// "READY <socket path>" on stdout once listening, and exits on SIGINT/SIGTERM.
//
//   --token-env VAR   shared-secret auth with the token in $VAR
//   --deny-connect    canConnect policy refusing every client
//   --deny-call SVC   SVC (demo or hub) gets the per-service canCall () => false
//   --hub             also provide the service "hub" (below; it is a flag so
//                     that the ACK's providers stay demo,locked without it)
//   --late SVC:MS     provide SVC ({hello}) MS ms after start (PROVIDER_AVAILABLE)
//   --meta JSON       extra identity fields merged into the endpoint meta that
//                     node-ipc builds (context, appId, instance, pid): the
//                     config comes from usingNodeIpcDaemon({configure:false}),
//                     the fields are added to config.endpoint.meta, then
//                     nexus.configure(config); they are in the HANDSHAKE_ACK
//   --deny-identity KEY=VALUE   canConnect refuses a client whose identity
//                     field KEY equals VALUE (VALUE is JSON if it parses, else
//                     a string; see lib.mjs). Repeatable. Core re-runs canConnect
//                     on every IDENTITY_UPDATE, and a refusal closes the session
//   --provide-twice   provide "dup" twice before ready ({who:()=>"first"}, then
//                     {who:()=>"second"}); stderr "PROVIDE-TWICE <code>" and exit
//                     3 if provide or ready() throws, else "PROVIDE-TWICE ok"
//                     (core 1.2.0: ok, the second silently replaces the first)
//   --provide-twice-late [MS|FILE]  after ready (and after MS ms, or once FILE
//                     exists, if given), provide "dup" twice (first, then
//                     second); stderr "PROVIDED-TWICE" (or "PROVIDE-TWICE-LATE
//                     <code>" if a provide throws), and keep running
//
// Service "hub" (--hub): a caller makes this daemon act toward its other clients.
// `where` is a where spec (lib.mjs; null = all); errors from core are thrown
// as they come (E_SERVICE_NO_MATCH, E_SERVICE_AMBIGUOUS,
// E_SERVICE_WAIT_TIMEOUT, E_REMOTE_EXCEPTION, ...).
//   select(token, method, args, where, waitMs)  nexus.select(token, {where,
//       wait: waitMs ? {timeout: waitMs} : undefined}), then proxy[method](...args)
//   multicast(token, method, args, where, expects)  nexus.selectMulticast, then
//       the call: "all" (default) returns the settlement array as core gives it
//       ([{status:"fulfilled",value}|{status:"rejected",reason}], the reason
//       being the error object as it came over the wire); "stream" returns the
//       items of the iteration in order
//   get(token, path, where)  select, then await proxy[path] (a GET; path dotted)
//   selectCallback(token, method, n)  select (unique), proxy[method]((i) => i*10, n)
//   selectRef(token, method, args, refMethod, refArgs)  select, ref = await
//       proxy[method](...args); returns await ref[refMethod](...refArgs), or
//       await ref(...refArgs) when refMethod is null; then releases ref
//   peers()  [{identity, observed}] of every ready connection as core sees it,
//       the caller's included (a selectMulticast where-probe that records and
//       returns false)
//   updateIdentity(updates)  await nexus.updateIdentity(updates); true
//   (no hub.set: a JS service proxy cannot SET, its set trap returns false,
//   so `proxy.x = v` throws TypeError in strict code; only ref proxies SET)
import { nexus, Token } from "@nexus-js/core";
import { usingNodeIpcDaemon, NodeIpcAddress } from "@nexus-js/node-ipc";
import { counterObject, whereMatcher, keyValue, invoke, callMulticast, probeConnections, sleep, waitFile } from "./lib.mjs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name) => args.includes(name);
const opts = (name) => args.flatMap((a, i) => (a === name && i + 1 < args.length ? [args[i + 1]] : []));

const appId = opt("--app");
if (!appId) {
  console.error("usage: daemon.mjs --app APP [...]");
  process.exit(64);
}
const instance = opt("--instance");
const socket = opt("--socket");
const tokenEnv = opt("--token-env");

let counter = 0;
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
    return nexus.ref(counterObject(start));
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

const hub = {
  async select(token, method, callArgs, where, waitMs) {
    const proxy = await nexus.select(new Token(token), {
      where: whereMatcher(where),
      wait: waitMs ? { timeout: waitMs } : undefined,
    });
    return invoke(proxy, method, callArgs ?? []);
  },
  async multicast(token, method, callArgs, where, expects) {
    const proxy = await nexus.selectMulticast(new Token(token), {
      where: whereMatcher(where),
      expects: expects ?? undefined,
    });
    return callMulticast(proxy, method, callArgs ?? [], expects);
  },
  async get(token, path, where) {
    const proxy = await nexus.select(new Token(token), { where: whereMatcher(where) });
    return path.split(".").reduce((o, k) => o[k], proxy);
  },
  async selectCallback(token, method, n) {
    const proxy = await nexus.select(new Token(token));
    return proxy[method]((i) => i * 10, n);
  },
  async selectRef(token, method, callArgs, refMethod, refArgs) {
    const proxy = await nexus.select(new Token(token));
    const ref = await invoke(proxy, method, callArgs ?? []);
    try {
      return refMethod == null ? await ref(...(refArgs ?? [])) : await invoke(ref, refMethod, refArgs ?? []);
    } finally {
      nexus.release(ref);
    }
  },
  async peers() {
    return (await probeConnections(nexus)).map(({ identity, connection }) => ({
      identity,
      observed: connection?.observed,
    }));
  },
  async updateIdentity(updates) {
    await nexus.updateIdentity(updates);
    return true;
  },
};

const options = { appId };
if (instance) options.instance = instance;
if (socket) options.address = { kind: "path", path: socket };
if (tokenEnv) options.authToken = process.env[tokenEnv];
const denyIdentity = opts("--deny-identity").map(keyValue);
if (flag("--deny-connect")) options.policy = { canConnect: () => false };
else if (denyIdentity.length)
  options.policy = { canConnect: ({ remoteIdentity }) => !denyIdentity.some((d) => d.test(remoteIdentity)) };
const denied = opt("--deny-call");
const deny = (name) => (denied === name ? { policy: { canCall: () => false } } : undefined);

const config = usingNodeIpcDaemon({ ...options, configure: false });
const meta = opt("--meta");
if (meta !== undefined) config.endpoint.meta = { ...config.endpoint.meta, ...JSON.parse(meta) };
const app = nexus.configure(config);
app.provide(new Token("demo"), demo, deny("demo"));
app.provide(new Token("locked"), { hello: () => "hi" }, { policy: { canCall: () => false } });
if (flag("--hub")) app.provide(new Token("hub"), hub, deny("hub"));
const late = opt("--late");
if (late) {
  const [name, ms] = late.split(":");
  setTimeout(() => app.provide(new Token(name), { hello: () => `hello from ${name}` }), Number(ms));
}
const first = { who: () => "first" };
const second = { who: () => "second" };
const provideTwice = flag("--provide-twice");
const twiceFailed = (e) => {
  console.error(`PROVIDE-TWICE ${e?.code ?? "E_UNKNOWN"}`);
  process.exit(3);
};
if (provideTwice) {
  try {
    app.provide(new Token("dup"), first);
    app.provide(new Token("dup"), second);
  } catch (e) {
    twiceFailed(e);
  }
}
try {
  await app.ready();
} catch (e) {
  if (provideTwice) twiceFailed(e);
  throw e;
}
if (provideTwice) console.error("PROVIDE-TWICE ok");
if (flag("--provide-twice-late")) {
  const when = opt("--provide-twice-late");
  (async () => {
    if (when !== undefined && !when.startsWith("--")) {
      if (/^\d+$/.test(when)) await sleep(Number(when));
      else await waitFile(when);
    }
    try {
      app.provide(new Token("dup"), first);
      app.provide(new Token("dup"), second);
      console.error("PROVIDED-TWICE");
    } catch (e) {
      console.error(`PROVIDE-TWICE-LATE ${e?.code ?? "E_UNKNOWN"}`);
    }
  })();
}

const path = socket
  ? NodeIpcAddress.normalize({ kind: "path", path: socket }).path
  : NodeIpcAddress.defaultResolve({ context: "node-ipc-daemon", appId, instance }).value.path;
process.stdout.write(`READY ${path}\n`);
const stop = () => process.exit(0);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
