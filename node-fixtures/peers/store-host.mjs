// A real @nexus-js/core 1.2.0 State store host (createStoreToken +
// createNexusStore) on a real @nexus-js/node-ipc 0.6.0 daemon, or with
// --as-client on a node-ipc client that provides the store to its daemon
// (so that a daemon, e.g. store-mirror.mjs --as-daemon or a Go daemon, can
// mirror a store a client provides).
//
//   node peers/store-host.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token ID] [--token-env VAR] [--meta JSON]
//        [--as-client [--client-app ID] [--listen-warning filter|stub]]
//        [--publish-window MS] [--max-pending N] [--snapshot-count-only]
//        [--expose ACTION,...] [--deny-after N] [--deny-call-after N]
//        [--shutdown-after FILE] [--burst N[:MS]] [--burst-when FILE]
//        [--plain] [--quiet]
//
// The store (token id "demo-store", --token ID to override) has the state
// {"count":0,"label":"demo"} and the actions
//   increment(n)   count += n (n defaults to 1), returns the new count
//   rename(label)  label = label, returns it
//   fail()         throws an Error with code "E_DEMO", message "demo failure"
//   noop()         returns 1, changes nothing
// A service "ctl" (below) is provided next to it. Daemon mode prints
// "READY <socket path>" on stdout once listening; client mode (--as-client)
// prints "SERVING" once connected to its daemon. Both exit 0 on SIGINT/SIGTERM.
//
//   --app/--instance/--socket  as daemon.mjs (daemon mode: where to listen;
//                     client mode: the daemon to connect to, as client.mjs)
//   --token ID        the store token id (default demo-store)
//   --token-env VAR   shared-secret auth with the token in $VAR
//   --meta JSON       extra identity fields merged into the endpoint meta (as
//                     daemon.mjs); see ctl.updateIdentity for target-changed
//   --as-client       node-ipc client (appId --client-app, default store-host)
//                     with connectTo the daemon, providing the store and ctl
//   --listen-warning  (client mode) as client.mjs
//   --publish-window MS  publishWindowMs (core default 200): a fixed window
//                     starting at the first change, not a debounce
//   --max-pending N   maxPendingSnapshots (core default 32): a subscriber
//                     with N unacknowledged deliveries gets terminal
//                     source-disconnected on the next publication
//   --snapshot-count-only  snapshot projection (s) => ({count}) instead of
//                     (s) => ({count, label})
//   --expose A,B      only these actions are remote (bindNexusStore's expose;
//                     default all four). The init's actions then lack the
//                     others (store-mirror.mjs act prints "error E_NO_ACTION
//                     no action NAME"); unexposed state changes still publish
//   --deny-after N    core 1.2.0 never produces the terminal reason
//                     "authorization-revoked" (it is only in the schema), so
//                     this host synthesizes it: a subscriber's first N action
//                     calls run; call N+1 is refused (Error code E_DEMO_REVOKED,
//                     "authorization revoked") after the host has sent that
//                     subscriber {type:"terminal", storeInstanceId,
//                     lastKnownVersion, reason:"authorization-revoked",
//                     error:{code,message}} through its callback and removed
//                     its subscription from the binding (the binding's own
//                     unsubscribe, which sends nothing)
//   --deny-call-after N  an endpoint-wide canCall that allows the first N
//                     APPLY calls of each connection to resources this host
//                     handed out (core names them "resource:res-N": the
//                     init's actions and unsubscribe; a per-service policy is
//                     not consulted for them, as they travel as arguments of
//                     the host's callback call, not as results) and refuses
//                     the rest. Every consultation is logged on stderr as
//                     "CANCALL conn=ID SERVICE OPERATION JSONPATH", a refusal
//                     as "DENY-CALL conn=ID call N path=JSON". The mirror's
//                     action call then fails with E_REMOTE_EXCEPTION, cause
//                     E_AUTH_CALL_DENIED; the action does not run, no
//                     terminal is sent and the subscription stays ready (all
//                     core's policy does)
//   --shutdown-after FILE  once FILE exists (polled every 20 ms), destroy the
//                     binding (core sends every subscriber terminal
//                     provider-shutdown), wait for those deliveries to settle
//                     (at most 2 s), exit 0
//   --burst N[:MS]    the default of ctl.burst (N increments of 1, every MS ms;
//                     MS 0 = one synchronous loop). Default 100:0
//   --burst-when FILE once FILE exists, run that burst once; stderr
//                     "BURST count=C version=V"
//   --plain           provide the binding's provider as is (no subscriber
//                     wrapper: no --deny-after, no stderr delivery log,
//                     ctl.subscribers() returns null)
//   --quiet           no stderr delivery log
//
// The subscriber wrapper (without --plain): core's binding is given, per
// subscribe call, a local function that forwards every envelope to the
// subscriber's remote callback (and the release of the callback), with the
// init's actions wrapped for counting; the wire traffic is the same as with
// --plain. It logs on stderr, one line each (sub = 1, 2, ... per subscribe):
//   SUBSCRIBE sub=S conn=CONNID app=APPID
//   DELIVER sub=S init|snapshot version=V state=JSON
//   ACK sub=S init|snapshot version=V ms=MS
//   NACK sub=S init|snapshot|terminal version=V ms=MS CODE message
//   TERMINAL sub=S reason=R lastKnownVersion=V
//   ACTION sub=S NAME JSONARGS  /  RESULT sub=S NAME JSON  /  ACTION-ERROR sub=S NAME CODE message
//   REVOKE sub=S after N calls
//   CLOSED sub=S              (the binding released the callback)
//
// Service "ctl":
//   state()              the host store's current data {count, label}
//   info()               {state, version (the binding's version: one per
//                        store change), storeInstanceId (from the last init;
//                        null before one), subscribers, shutdown}
//   subscribers()        active subscriptions (init delivered, not yet
//                        closed/terminal), or null with --plain
//   shutdown(exit)       destroy the binding (terminal provider-shutdown to
//                        every subscriber); returns the number of
//                        subscribers that had; with exit true, the process
//                        exits 0 once those deliveries settle (at most 2 s).
//                        Later subscribes fail (E_STORE_DISCONNECTED)
//   burst(n, ms)         n (default --burst) increments from the host side,
//                        every ms ms (0: synchronously); returns the count
//   act(name, ...args)   run a store action from the host side, return its result
//   updateIdentity(u)    await nexus.updateIdentity(u); true (a mirror whose
//                        where no longer matches goes stale target-changed)
// Exit codes: 0 ok, 2 connection error (client mode), 64 usage.
import { nexus, Token } from "@nexus-js/core";
import { createStoreToken, createNexusStore } from "@nexus-js/core/state";
import { usingNodeIpcDaemon, usingNodeIpcClient, NodeIpcAddress } from "@nexus-js/node-ipc";
import { sleep, waitFile, installListenWarning, waitConnected, isInvocationContext } from "./lib.mjs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name) => args.includes(name);

const appId = opt("--app");
if (!appId) {
  console.error("usage: store-host.mjs --app APP [...]");
  process.exit(64);
}
const instance = opt("--instance");
const socket = opt("--socket");
const tokenEnv = opt("--token-env");
const tokenId = opt("--token") ?? "demo-store";
const asClient = flag("--as-client");
const plain = flag("--plain");
const quiet = flag("--quiet") || plain;
const num = (name) => {
  const v = opt(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    console.error(`${name} needs a number, got ${v}`);
    process.exit(64);
  }
  return Number(v);
};
const publishWindowMs = num("--publish-window");
const maxPending = num("--max-pending");
const denyAfter = num("--deny-after");
const denyCallAfter = num("--deny-call-after");
if (plain && denyAfter !== undefined) {
  console.error("--deny-after needs the subscriber wrapper (not --plain)");
  process.exit(64);
}
const [burstN, burstMs] = (opt("--burst") ?? "100:0").split(":").map((x) => Number(x ?? 0));
const ALL = ["increment", "rename", "fail", "noop"];
const expose = opt("--expose") ? opt("--expose").split(",").filter(Boolean) : ALL;

const log = (s) => quiet || console.error(s);
const json = (v) => (v === undefined ? "undefined" : JSON.stringify(v));
const coded = (code, message) => Object.assign(new Error(message), { code });
const errText = (e) => `${e?.code ?? "E_UNKNOWN"} ${e?.message ?? e}`;

// The store. ------------------------------------------------------------
const token = createStoreToken(tokenId);
const binding = createNexusStore(
  token,
  (set, get) => ({
    count: 0,
    label: "demo",
    increment(n) {
      set({ count: get().count + (n ?? 1) });
      return get().count;
    },
    rename(label) {
      set({ label });
      return get().label;
    },
    fail() {
      throw coded("E_DEMO", "demo failure");
    },
    noop() {
      return 1;
    },
  }),
  {
    snapshot: flag("--snapshot-count-only") ? (s) => ({ count: s.count }) : (s) => ({ count: s.count, label: s.label }),
    expose,
    ...(publishWindowMs !== undefined ? { publishWindowMs } : {}),
    ...(maxPending !== undefined ? { maxPendingSnapshots: maxPending } : {}),
  },
);
const { store } = binding;
const data = () => {
  const { count, label } = store.getState();
  return { count, label };
};
// The binding's version counts store changes (zustand notifies only real
// changes, the binding compares the same way); mirrored here for ctl.info.
let version = 0;
store.subscribe(() => {
  if (!destroyed) version++;
});
let destroyed = false;
let storeInstanceId = null;

// The subscriber wrapper. -------------------------------------------------
const RELEASE = Symbol.for("nexus.proxy.release");
const subs = new Set(); // active records
const settling = new Set(); // promises of terminal deliveries
let nextSub = 1;

function deliver(rec, env) {
  const kind = env?.type;
  const v = kind === "terminal" ? env.lastKnownVersion : env?.version;
  if (kind === "terminal") log(`TERMINAL sub=${rec.id} reason=${env.reason} lastKnownVersion=${v}`);
  else log(`DELIVER sub=${rec.id} ${kind} version=${v} state=${json(env.state)}`);
  const t0 = Date.now();
  const p = Promise.resolve()
    .then(() => rec.cb(env))
    .then(
      (r) => {
        if (kind !== "terminal") rec.acked = v;
        log(`ACK sub=${rec.id} ${kind} version=${v} ms=${Date.now() - t0}`);
        return r;
      },
      (e) => {
        log(`NACK sub=${rec.id} ${kind} version=${v} ms=${Date.now() - t0} ${errText(e)}`);
        throw e;
      },
    );
  if (kind === "terminal") {
    subs.delete(rec);
    rec.closed = true;
    const s = p.catch(() => {});
    settling.add(s);
    s.finally(() => settling.delete(s));
  }
  return p;
}

async function revoke(rec) {
  rec.revoked = true;
  subs.delete(rec);
  log(`REVOKE sub=${rec.id} after ${denyAfter} calls`);
  const env = {
    type: "terminal",
    storeInstanceId: rec.storeInstanceId,
    lastKnownVersion: rec.acked ?? 0,
    reason: "authorization-revoked",
    error: { code: "E_DEMO_REVOKED", message: "authorization revoked" },
  };
  await deliver(rec, env).catch(() => {});
  try {
    rec.unsubscribe?.();
  } catch {}
}

function wrapActions(rec, actions) {
  const out = {};
  for (const [name, fn] of Object.entries(actions)) {
    out[name] = async (...xs) => {
      const shown = xs.filter((x) => !isInvocationContext(x));
      rec.calls++;
      if (denyAfter !== undefined && rec.calls > denyAfter) {
        if (!rec.revoked) await revoke(rec);
        log(`ACTION-ERROR sub=${rec.id} ${name} E_DEMO_REVOKED authorization revoked`);
        throw coded("E_DEMO_REVOKED", "authorization revoked");
      }
      log(`ACTION sub=${rec.id} ${name} ${json(shown)}`);
      try {
        const r = await fn(...xs);
        log(`RESULT sub=${rec.id} ${name} ${json(r)}`);
        return r;
      } catch (e) {
        log(`ACTION-ERROR sub=${rec.id} ${name} ${errText(e)}${e?.cause ? ` cause ${errText(e.cause)}` : ""}`);
        throw e;
      }
    };
  }
  return out;
}

function wrapService(service) {
  const wrapped = {
    subscribe(cb, ...rest) {
      const ctx = rest.at(-1);
      const rec = { id: nextSub++, cb, calls: 0, acked: undefined, closed: false, revoked: false };
      const app = ctx?.sourceIdentity?.appId ?? "?";
      log(`SUBSCRIBE sub=${rec.id} conn=${ctx?.sourceConnectionId ?? "?"} app=${app}`);
      const local = (env) => {
        if (rec.revoked) return undefined; // the binding's later envelopes: dropped
        if (env?.type === "init") {
          rec.storeInstanceId = env.storeInstanceId;
          storeInstanceId = env.storeInstanceId;
          rec.unsubscribe = env.unsubscribe;
          const p = deliver(rec, { ...env, actions: wrapActions(rec, env.actions) });
          return p.then((r) => {
            if (!rec.closed && !rec.revoked) subs.add(rec);
            return r;
          });
        }
        return deliver(rec, env);
      };
      local[RELEASE] = () => {
        if (!rec.closed) log(`CLOSED sub=${rec.id}`);
        rec.closed = true;
        subs.delete(rec);
        try {
          cb[RELEASE]?.();
        } catch {}
      };
      return service.subscribe(local, ...rest);
    },
  };
  // The binding's hooks (nexus.service.invoke.start, nexus.service.on.disconnect).
  for (const s of Object.getOwnPropertySymbols(service)) wrapped[s] = service[s];
  return wrapped;
}

// Shutdown. -----------------------------------------------------------------
async function shutdown(exit) {
  const had = plain ? null : subs.size;
  if (!destroyed) {
    destroyed = true;
    console.error("SHUTDOWN");
    binding.destroy();
  }
  if (exit) {
    const until = Date.now() + 2000;
    await sleep(50);
    while (settling.size && Date.now() < until) await sleep(20);
    if (plain) await sleep(300);
    setTimeout(() => process.exit(0), 50);
  }
  return had;
}

async function burst(n = burstN, ms = burstMs) {
  for (let i = 0; i < n; i++) {
    store.getState().increment(1);
    if (ms > 0 && i < n - 1) await sleep(ms);
  }
  return store.getState().count;
}

const ctl = {
  state: () => data(),
  info: () => ({ state: data(), version, storeInstanceId, subscribers: plain ? null : subs.size, shutdown: destroyed }),
  subscribers: () => (plain ? null : subs.size),
  shutdown: (exit) => shutdown(exit === true),
  burst: (n, ms) => burst(n ?? burstN, ms ?? burstMs),
  act: (name, ...xs) => store.getState()[name](...xs),
  async updateIdentity(u) {
    await nexus.updateIdentity(u);
    return true;
  },
};

// The endpoint. -------------------------------------------------------------
const policy = {};
if (denyCallAfter !== undefined) {
  const calls = new Map();
  policy.canCall = ({ connectionId, serviceName, operation, path }) => {
    log(`CANCALL conn=${connectionId} ${serviceName} ${operation} ${json(path)}`);
    if (operation !== "APPLY" || !serviceName.startsWith("resource:")) return true;
    const n = (calls.get(connectionId) ?? 0) + 1;
    calls.set(connectionId, n);
    const ok = n <= denyCallAfter;
    if (!ok) log(`DENY-CALL conn=${connectionId} call ${n} path=${json(path)}`);
    return ok;
  };
}
const options = {};
if (tokenEnv) options.authToken = process.env[tokenEnv];
if (policy.canCall) options.policy = policy;
let target;
let config;
if (asClient) {
  installListenWarning(opt("--listen-warning"));
  target = { context: "node-ipc-daemon", appId };
  if (instance) target.instance = instance;
  Object.assign(options, { appId: opt("--client-app") ?? "store-host", defaultTarget: target, connectTo: [target] });
  if (socket) options.resolveAddress = () => ({ kind: "path", path: socket });
  config = usingNodeIpcClient({ ...options, configure: false });
  if (opt("--listen-warning") === "stub") config.endpoint.implementation.listen = () => {};
} else {
  options.appId = appId;
  if (instance) options.instance = instance;
  if (socket) options.address = { kind: "path", path: socket };
  config = usingNodeIpcDaemon({ ...options, configure: false });
}
const meta = opt("--meta");
if (meta !== undefined) config.endpoint.meta = { ...config.endpoint.meta, ...JSON.parse(meta) };
const app = nexus.configure(config);
const { provider } = binding;
app.provide(
  provider.token,
  plain ? provider.service : wrapService(provider.service),
  policy.canCall ? { policy } : undefined,
);
app.provide(new Token("ctl"), ctl);

const stop = () => process.exit(0);
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

if (asClient) {
  try {
    await waitConnected(app, target, 5000);
  } catch (e) {
    console.error(`error ${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`);
    process.exit(2);
  }
  process.stdout.write("SERVING\n");
} else {
  await app.ready();
  const path = socket
    ? NodeIpcAddress.normalize({ kind: "path", path: socket }).path
    : NodeIpcAddress.defaultResolve({ context: "node-ipc-daemon", appId, instance }).value.path;
  process.stdout.write(`READY ${path}\n`);
}

const burstWhen = opt("--burst-when");
if (burstWhen) {
  waitFile(burstWhen).then(async () => {
    const count = await burst();
    console.error(`BURST count=${count} version=${version}`);
  });
}
const shutdownAfter = opt("--shutdown-after");
if (shutdownAfter) waitFile(shutdownAfter).then(() => shutdown(true));
