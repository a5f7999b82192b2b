// A real @nexus-js/core 1.2.0 State mirror (connectNexusStore) on a real
// @nexus-js/node-ipc 0.6.0 client, or with --as-daemon on a node-ipc daemon
// that mirrors a store provided by a connecting client (store-host.mjs
// --as-client, or a Go client).
//
//   node peers/store-mirror.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token ID] [--token-env VAR] [--client-app ID]
//        [--listen-warning filter|stub] [--acquire-ms MS] [--call-timeout MS]
//        [--where JSON] [--as-daemon] [--changes] [--hold FILE]
//        [--ack-delay MS] [--stuck]
//        COMMAND ...
//
// Output: a status line is one JSON object
//   {"status":S,"version":V,"state":{...}}
// S is the mirror's getStatus().type (ready, disconnected, stale, destroyed;
// the init is applied before connectNexusStore resolves, so the first line is
// ready), V its version (ready) or lastKnownVersion (disconnected, stale) or
// null (destroyed), state the mirror's getState() (the last state; kept after
// a terminal). A stale line adds "reason" (target-changed, target-replaced),
// a disconnected line "cause" (the cause's message: "Store became terminal
// (REASON)." for a terminal envelope, "Remote store connection
// disconnected." for a closed connection). One line is printed for every
// status change (core makes a new status object for every applied snapshot,
// so every state change is one); `watch` prints them, other commands only
// with --changes.
//
// Global flags (each takes one value unless said):
//   --app/--instance/--socket  the daemon, as client.mjs (daemon mode: where
//                     to listen, as daemon.mjs)
//   --token ID        the store token id (default demo-store)
//   --token-env VAR   shared-secret auth with the token in $VAR
//   --client-app ID   this client's appId (default nsm)
//   --listen-warning filter|stub  as client.mjs
//   --acquire-ms MS   connectNexusStore timeout (default 5000); in daemon
//                     mode also how long to wait for a client providing it
//   --call-timeout MS callTimeout of the store service proxy: it governs the
//                     subscribe call only; the action calls go to resource
//                     proxies from the init payload, which keep core's
//                     default 5000 ms whatever this is
//   --where JSON      a where spec (lib.mjs) on the provider's identity, passed
//                     to connectNexusStore; a later IDENTITY_UPDATE of the
//                     provider that stops matching makes the mirror stale
//                     target-changed (store-host ctl.updateIdentity)
//   --as-daemon       listen as a node-ipc daemon (appId --app), print
//                     "READY <socket path>", then mirror the store of a
//                     connecting client. connectNexusStore acquires through
//                     nexus.create, which needs a target, and a node-ipc
//                     target can only name a daemon (the server endpoint has
//                     no matchesTarget): a daemon cannot reach a client's
//                     store through create. connectNexusStore also accepts any
//                     {create(token, options)} object, so this mode passes one
//                     whose create is nexus.select(token, {where, wait:
//                     {timeout: acquire-ms}}) (a select proxy has the same
//                     disconnect and target-stale hooks)
//   --changes         print the status lines in every command, not only watch
//   --hold FILE       after the command, stay subscribed until FILE exists
//                     (polled every 20 ms), then destroy the mirror, print the
//                     final status line (destroyed) and exit 0
//   --ack-delay MS    every snapshot and terminal is applied at once but
//                     acknowledged (the callback's reply) MS ms later: the
//                     mirror's subscribe callback is wrapped through a
//                     create shim (the init is not delayed). Host limits: 5 s
//                     per delivery, --max-pending unacknowledged
//   --stuck           after the init, snapshots are applied but never
//                     acknowledged (their callback promise never settles);
//                     terminals pass through. The host ends the subscription
//                     with terminal source-disconnected after 5 s, or at the
//                     publication after its 32nd (maxPendingSnapshots)
//                     pending delivery. Done at the JS level, no raw socket
//
// Commands:
//   watch [--until-version N] [--until-status S] [--within MS]
//                     print status lines; exit 0 once the status is ready with
//                     version >= N, or the status type is S; exit 1 on
//                     disconnected/stale/destroyed unless S is that status; with
//                     --within, exit 1 ("watch: timeout") after MS ms. Without
//                     a condition: until a terminal status (exit 1) or SIGINT
//                     /SIGTERM (exit 0). With --hold, the condition ends
//                     nothing: lines are printed until FILE
//   get               print getState() as JSON once ready
//   status            print the current status line
//   act ACTION [ARG...]  call mirror.actions[ACTION](...ARGs) (each ARG is JSON
//                     if it parses, else a string); print the result as JSON
//                     (undefined as {"$undefined":true}), or
//                     "error CODE message" (the cause chain on stderr as
//                     "cause CODE NAME MESSAGE", "-" for a missing part)
//                     and exit 1. fail() gives "error E_REMOTE_EXCEPTION
//                     Remote call failed: Unknown error", causes E_STORE_ACTION
//                     (name "Ce", core's minified class name) then E_DEMO,
//                     without messages (core does not send them)
//   script -- CMD ARGS -- CMD ARGS ...   the steps in order, each printing as
//                     above: act ACTION ARGS, get, status, wait-version N,
//                     wait-status S (prints "wait: ok", or the status line
//                     and "wait: STATUS" when a terminal status came instead),
//                     sleep MS, destroy (prints the final line). A failed step
//                     does not stop the script; the exit code is then 1
// Exit codes: 0 ok, 1 action error / unexpected terminal status, 2 connection
// error, 64 usage.
import { nexus, Token } from "@nexus-js/core";
import { createStoreToken, connectNexusStore } from "@nexus-js/core/state";
import { usingNodeIpcClient, usingNodeIpcDaemon, NodeIpcAddress } from "@nexus-js/node-ipc";
import { toForm, whereMatcher, parseLoose, sleep, waitFile, installListenWarning } from "./lib.mjs";

const argv = process.argv.slice(2);
const opts = {};
const BOOLEAN = new Set(["as-daemon", "changes", "stuck"]);
while (argv[0]?.startsWith("--") && argv[0] !== "--") {
  const k = argv.shift().slice(2);
  if (BOOLEAN.has(k)) opts[k] = true;
  else opts[k] = argv.shift();
}
const [cmd, ...rest] = argv;
if (!cmd || !opts.app) {
  console.error("usage: store-mirror.mjs --app APP [...] watch|get|status|act|script ...");
  process.exit(64);
}
installListenWarning(opts["listen-warning"]);

const num = (v, name) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    console.error(`${name} needs a number, got ${v}`);
    process.exit(64);
  }
  return Number(v);
};
const acquireMs = num(opts["acquire-ms"], "--acquire-ms") ?? 5000;
const callTimeout = num(opts["call-timeout"], "--call-timeout");
const ackDelay = num(opts["ack-delay"], "--ack-delay");
const where = opts.where !== undefined ? whereMatcher(JSON.parse(opts.where)) : undefined;
const token = createStoreToken(opts.token ?? "demo-store");

// Output. ---------------------------------------------------------------------
const print = (v) => console.log(JSON.stringify(toForm(v)));

function statusLine(mirror) {
  const s = mirror.getStatus();
  let state = null;
  try {
    state = mirror.getState();
  } catch {}
  const version = s.type === "ready" ? s.version : "lastKnownVersion" in s ? s.lastKnownVersion : null;
  const line = { status: s.type, version, state };
  if (s.type === "stale") line.reason = s.reason;
  if (s.type === "disconnected" && s.cause) line.cause = s.cause.message;
  return line;
}
const TERMINAL = new Set(["disconnected", "stale", "destroyed"]);

// Connect. --------------------------------------------------------------------
let config;
const clientTarget = { context: "node-ipc-daemon", appId: opts.app };
if (opts.instance) clientTarget.instance = opts.instance;
if (opts["as-daemon"]) {
  const o = { appId: opts.app, configure: false };
  if (opts.instance) o.instance = opts.instance;
  if (opts.socket) o.address = { kind: "path", path: opts.socket };
  if (opts["token-env"]) o.authToken = process.env[opts["token-env"]];
  config = usingNodeIpcDaemon(o);
} else {
  const o = { appId: opts["client-app"] ?? "nsm", defaultTarget: clientTarget, configure: false };
  if (opts.socket) o.resolveAddress = () => ({ kind: "path", path: opts.socket });
  if (opts["token-env"]) o.authToken = process.env[opts["token-env"]];
  config = usingNodeIpcClient(o);
  if (opts["listen-warning"] === "stub") config.endpoint.implementation.listen = () => {};
}
const app = nexus.configure(config);

// wrapSubscribe: the service proxy with its subscribe callback delayed or
// stuck (--ack-delay, --stuck); every other property (the disconnect and
// target-stale hooks included) is the proxy's own.
function wrapSubscribe(proxy) {
  if (ackDelay === undefined && !opts.stuck) return proxy;
  return new Proxy(proxy, {
    get(target, prop, receiver) {
      if (prop !== "subscribe") return Reflect.get(target, prop);
      return (cb, ...more) =>
        target.subscribe(async (env) => {
          if (env?.type === "init") return cb(env);
          if (opts.stuck && env?.type !== "terminal") {
            cb(env);
            console.error(`STUCK ${env?.type} version=${env?.version}`);
            return new Promise(() => {});
          }
          try {
            return cb(env);
          } finally {
            await sleep(ackDelay ?? 0);
          }
        }, ...more);
    },
  });
}
// The acquisition connectNexusStore gets: nexus itself when nothing needs
// changing, else a {create} object (daemon mode: select; see --as-daemon).
function acquirer() {
  const needShim = opts["as-daemon"] || ackDelay !== undefined || opts.stuck || callTimeout !== undefined;
  if (!needShim) return nexus;
  return {
    async create(tok, o) {
      const withTimeout = callTimeout !== undefined ? { callTimeout } : {};
      const proxy = opts["as-daemon"]
        ? await nexus.select(tok, { where: o?.where, wait: { timeout: acquireMs }, ...withTimeout })
        : await nexus.create(tok, { ...o, ...withTimeout });
      return wrapSubscribe(proxy);
    },
  };
}

function errorLines(e) {
  let c = e?.cause;
  // Over the wire core 1.2.0 keeps a remote error's code, name and cause but
  // not its message: print what there is, "-" for a missing part.
  for (let i = 0; c && i < 5; i++, c = c.cause)
    console.error(`cause ${c.code ?? "-"} ${c.name ?? "-"} ${typeof c.message === "string" ? c.message : "-"}`);
}

async function main() {
  await app.ready();
  if (opts["as-daemon"]) {
    const path = opts.socket
      ? NodeIpcAddress.normalize({ kind: "path", path: opts.socket }).path
      : NodeIpcAddress.defaultResolve({ context: "node-ipc-daemon", appId: opts.app, instance: opts.instance }).value.path;
    process.stdout.write(`READY ${path}\n`);
  }
  let mirror;
  try {
    mirror = await connectNexusStore(acquirer(), token, { where, timeout: acquireMs });
  } catch (e) {
    console.error(`error ${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`);
    errorLines(e);
    return 2;
  }

  // Status lines and waiters.
  let printing = cmd === "watch" || !!opts.changes;
  const waiters = new Set();
  let last = null;
  const emit = () => {
    const line = statusLine(mirror);
    const text = JSON.stringify(toForm(line));
    if (text === last) return;
    last = text;
    if (printing) console.log(text);
    for (const w of [...waiters]) w(line);
  };
  mirror.subscribeStatus(emit);
  emit();
  const waitFor = (test) =>
    new Promise((resolve) => {
      const check = (line) => {
        if (test(line) || TERMINAL.has(line.status)) {
          waiters.delete(check);
          resolve(line);
        }
      };
      waiters.add(check);
      check(statusLine(mirror));
    });
  const destroy = () => {
    mirror.destroy();
    // destroy() notifies the status listeners before removing them: the
    // destroyed line is printed by emit (when printing), else here.
    if (!printing) print(statusLine(mirror));
  };

  const act = async (name, xs) => {
    try {
      const fn = mirror.actions[name];
      if (typeof fn !== "function") throw Object.assign(new TypeError(`no action ${name}`), { code: "E_NO_ACTION" });
      print(await fn(...xs.map(parseLoose)));
      return 0;
    } catch (e) {
      console.log(`error ${e?.code ?? e?.name ?? "E_UNKNOWN"} ${e?.message ?? e}`);
      errorLines(e);
      return 1;
    }
  };

  let code = 0;
  switch (cmd) {
    case "watch": {
      const spec = { "until-version": 1, "until-status": 1, within: 1 };
      const f = {};
      for (let i = 0; i < rest.length; i++) {
        const k = rest[i].slice(2);
        if (!rest[i].startsWith("--") || !spec[k]) {
          console.error(`watch: unknown argument ${rest[i]}`);
          return 64;
        }
        f[k] = rest[++i];
      }
      const untilV = num(f["until-version"], "--until-version");
      const untilS = f["until-status"];
      const hasCond = untilV !== undefined || untilS !== undefined;
      const goal = (l) =>
        (untilS !== undefined && l.status === untilS) ||
        (untilV !== undefined && l.status === "ready" && l.version >= untilV);
      if (opts.hold !== undefined) break;
      const stopped = new Promise((resolve) => {
        process.on("SIGINT", () => resolve("signal"));
        process.on("SIGTERM", () => resolve("signal"));
        if (f.within !== undefined) setTimeout(() => resolve("timeout"), num(f.within, "--within"));
      });
      const reached = waitFor((l) => hasCond && goal(l));
      const r = await Promise.race([reached, stopped]);
      if (r === "signal") return 0;
      if (r === "timeout") {
        console.error("watch: timeout");
        return 1;
      }
      return goal(r) ? 0 : 1;
    }
    case "get": {
      print(mirror.getState());
      break;
    }
    case "status": {
      print(statusLine(mirror));
      break;
    }
    case "act": {
      const [name, ...xs] = rest;
      if (!name) return 64;
      code = await act(name, xs);
      break;
    }
    case "script": {
      const steps = [];
      for (const a of rest) (a === "--" ? steps.push([]) : steps.at(-1)?.push(a));
      for (const [op, ...xs] of steps.filter((s) => s.length)) {
        switch (op) {
          case "act":
            if ((await act(xs[0], xs.slice(1))) !== 0) code = 1;
            break;
          case "get":
            try {
              print(mirror.getState());
            } catch (e) {
              console.log(`error ${e?.code ?? "E_UNKNOWN"} ${e?.message ?? e}`);
              code = 1;
            }
            break;
          case "status":
            print(statusLine(mirror));
            break;
          case "wait-version":
          case "wait-status": {
            const want = op === "wait-version" ? Number(xs[0]) : xs[0];
            const test = op === "wait-version" ? (l) => l.status === "ready" && l.version >= want : (l) => l.status === want;
            const l = await waitFor(test);
            if (test(l)) console.log("wait: ok");
            else {
              if (!printing) print(l);
              console.log(`wait: ${l.status}`);
              code = 1;
            }
            break;
          }
          case "sleep":
            await sleep(Number(xs[0]));
            break;
          case "destroy":
            destroy();
            break;
          default:
            console.error(`script: unknown step ${op}`);
            return 64;
        }
      }
      break;
    }
    default:
      console.error(`unknown command ${cmd}`);
      return 64;
  }
  if (opts.hold !== undefined) {
    printing = printing || cmd === "watch";
    await waitFile(opts.hold);
    destroy();
    return 0;
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`error ${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`);
    errorLines(e);
    process.exit(2);
  },
);
