// A real @nexus-js/node-ipc 0.6.0 client for the interop tests; the Node
// counterpart of the Go test command nxc, with the same output forms.
//
//   node peers/client.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token-env VAR] [--client-app ID] [--listen-warning filter|stub]
//        [--acquire-ms MS] [--call-timeout MS] [--meta JSON]
//        [--provide TOKEN[,TOKEN...]]... [--deny-call TOKEN[,TOKEN...]]...
//        [--deny-connect-if KEY=VALUE]... [--policy-log]
//        [--connect-to APP[/INSTANCE],...] [--socket-map APP/INSTANCE=PATH,...]
//        COMMAND ...
//
// Global flags (each takes one value except --policy-log; the repeatable ones
// accumulate, --provide/--deny-call/--connect-to/--socket-map also split on ","):
//   --app/--instance  the default target (node-ipc-daemon APP/INSTANCE)
//   --socket PATH     every target resolves to PATH (unless in --socket-map)
//   --socket-map APP/INSTANCE=PATH,...  explicit socket per target (INSTANCE
//                     may be omitted: default); others fall back to --socket,
//                     then to node-ipc's default path
//   --connect-to APP[/INSTANCE],...  endpoint connectTo targets (core dials them
//                     at startup); select, multicast, serve and update-identity
//                     first wait until each is connected (the default target
//                     when there is no --connect-to)
//   --token-env VAR   shared-secret auth token from $VAR
//   --client-app ID   this client's appId (default ncl)
//   --acquire-ms MS   create/connect timeout (default 5000)
//   --call-timeout MS callTimeout on every create/select/selectMulticast/
//                     createMulticast option (core's default 5000 otherwise)
//   --meta JSON       extra identity fields merged into the endpoint meta that
//                     node-ipc builds (usingNodeIpcClient({configure:false}),
//                     then config.endpoint.meta, then configure); they are in the
//                     HANDSHAKE_REQ
//   --provide TOKEN   this client provides the service TOKEN ("worker" surface:
//                     hello(name), whoami(), add(a,b), fail(code,msg),
//                     callback(fn,n), makeCounter(start) -> ref {value,
//                     increment()}, slow(ms), property label (initially
//                     "initial")); every call into it is logged on stderr as
//                     "CALLED TOKEN.METHOD <JSON args>", a set of label as
//                     "SET TOKEN.label <JSON value>"
//   --deny-call TOKEN a provided TOKEN gets the per-service canCall () => false
//   --deny-connect-if KEY=VALUE  canConnect refuses a daemon whose identity
//                     field KEY equals VALUE (lib.mjs rule), also on its
//                     IDENTITY_UPDATE (core then closes the session)
//   --policy-log      client-wide canCall logging "CANCALL <serviceName>
//                     <operation> <JSON path>" on stderr and allowing
//
// --listen-warning: core 1.2.0 prints "Nexus DEV: `listen` called on an
// endpoint that does not support it." for every client (the node-ipc client
// endpoint has no listen). "filter" drops exactly that console.warn text;
// "stub" gives the client endpoint a listen that does nothing, so core does
// not print it. Without the flag the warning is printed (on stderr).
//
// Commands:
//   info                         daemon identity seen through whoami
//   call SERVICE PATH [ARG...]   ARGs and the printed result use the
//                                {"$map"|"$set"|"$bigint"|"$undefined"} form
//   get SERVICE PATH
//   assign SERVICE PATH VALUE    proxy[PATH] = VALUE on the service proxy, in
//                                this (strict) module; prints "assign: ok" or
//                                "assign: TypeError: <message>"
//   callback SERVICE PATH N [throw]   passes (i) => i*10 (or a throwing fn) and N
//   ref SERVICE PATH ARGS... -- call P ARGS | get P | set P V | release
//                                set assigns ref[P] = V (core sends the SET
//                                without awaiting its reply), then reads ref[P]
//                                with awaited GETs until it equals V: prints
//                                "set: ok", "set: error CODE [cause CODE]"
//                                when core logs the SET's failure, or
//                                "set: not confirmed (VALUE)" after 5 s
//   hang SERVICE PATH ARGS...    touch ./calling, report how the call ended
//   die-in-callback SERVICE PATH  the callback kills this process
//   restart-probe                old handles after a daemon restart, then a new one
//   many N SERVICE PATH [ARG]    N clients (separate Nexus instances and
//                                connections) call at once; with --hold FILE
//                                they touch ./connected and stay connected
//                                until FILE exists; with --then SERVICE.PATH
//                                they then call it on the same sessions
//   serve [--hold FILE]          connect, print SERVING, stay connected
//                                until FILE exists (or the global --hold
//                                FILE; polled every 20 ms) or SIGINT/SIGTERM
//   update-identity JSON [--then SERVICE.PATH ARG...] [--hold FILE]
//                                connect, nexus.updateIdentity(JSON), print
//                                "identity updated"; then call SERVICE.PATH
//                                and print the result; then stay until FILE
//   daemon-identity SERVICE [--after-call SERVICE.PATH ARG...] [--watch KEY=VALUE]
//                                create SERVICE (session ready), optionally
//                                make the call (its result on stderr as
//                                "after-call <JSON>"), print the identity of the
//                                default target's connection as core's where
//                                sees it (null when there is none); --watch:
//                                poll every 20 ms until field KEY equals VALUE,
//                                then print it (exit 1 after 10 s)
//   select TOKEN METHOD [ARG...] [--where JSON] [--wait MS|default]
//                                connect, nexus.select(TOKEN, {where, wait:
//                                {timeout: MS} or {} for default}), call
//   multicast TOKEN METHOD [ARG...] [--where JSON] [--expects all|stream]
//                                connect, nexus.selectMulticast, call; prints
//                                the settlement array ("all") or the iterated
//                                items ("stream"); a "stack" field of a reason
//                                is dropped (core 1.2.0 sends none for coded
//                                errors, but does for others)
//   create-multicast TOKEN METHOD [ARG...] --targets APP[/INST],...
//        [--where JSON] [--expects all|stream]
//                                nexus.createMulticast({targets, timeout:
//                                acquire-ms}), call; printed as multicast
//   --where JSON is a where spec (lib.mjs; null = none). METHOD/PATH may be
//   dotted. Errors print as for call.
// Exit codes: 0 ok, 1 remote error, 2 connection error, 64 usage.
import fs from "node:fs";
import { Nexus, Token, nexus as defaultNexus, configureNexusLogger, LogLevel } from "@nexus-js/core";
import { usingNodeIpcClient, NodeIpcAddress } from "@nexus-js/node-ipc";
import { toForm, counterObject, whereMatcher, keyValue, invoke, callMulticast, probeConnections, sleep, waitFile } from "./lib.mjs";

const argv = process.argv.slice(2);
const opts = {};
const BOOLEAN = new Set(["policy-log"]);
const LISTS = new Set(["provide", "deny-call", "connect-to", "socket-map"]);
const REPEATED = new Set(["deny-connect-if"]);
while (argv[0]?.startsWith("--")) {
  const k = argv.shift().slice(2);
  if (BOOLEAN.has(k)) opts[k] = true;
  else if (LISTS.has(k)) (opts[k] ??= []).push(...(argv.shift() ?? "").split(",").filter(Boolean));
  else if (REPEATED.has(k)) (opts[k] ??= []).push(argv.shift());
  else opts[k] = argv.shift();
}
const [cmd, ...rest] = argv;
if (!cmd) {
  console.error("usage: client.mjs --app APP COMMAND ...");
  process.exit(64);
}

const appId = opts["client-app"] ?? "ncl";
const defaultTarget = { context: "node-ipc-daemon", appId: opts.app ?? "socket" };
if (opts.instance) defaultTarget.instance = opts.instance;
// APP[/INSTANCE] as a node-ipc-daemon target.
function target(s) {
  const [app, inst] = s.split("/");
  const t = { context: "node-ipc-daemon", appId: app };
  if (inst) t.instance = inst;
  return t;
}
const targetKey = (t) => `${t?.appId}/${t?.instance ?? "default"}`;
const connectTo = (opts["connect-to"] ?? []).map(target);
const socketMap = new Map(
  (opts["socket-map"] ?? []).map((e) => {
    const i = e.indexOf("=");
    return [targetKey(target(e.slice(0, i))), e.slice(i + 1)];
  }),
);
const denyConnect = (opts["deny-connect-if"] ?? []).map(keyValue);
const callTimeout = opts["call-timeout"] === undefined ? undefined : Number(opts["call-timeout"]);
const withCallTimeout = (o) => (callTimeout === undefined ? o : { ...o, callTimeout });

function config(configure) {
  const o = { appId, defaultTarget, configure };
  if (socketMap.size)
    o.resolveAddress = (t) => {
      const p = socketMap.get(targetKey(t)) ?? opts.socket;
      return p ? { kind: "path", path: p } : NodeIpcAddress.defaultResolve(t).value;
    };
  else if (opts.socket) o.resolveAddress = () => ({ kind: "path", path: opts.socket });
  if (opts["token-env"]) o.authToken = process.env[opts["token-env"]];
  if (connectTo.length) o.connectTo = connectTo;
  const policy = {};
  if (denyConnect.length) policy.canConnect = ({ remoteIdentity }) => !denyConnect.some((d) => d.test(remoteIdentity));
  if (opts["policy-log"])
    policy.canCall = ({ serviceName, operation, path }) => {
      console.error(`CANCALL ${serviceName} ${operation} ${JSON.stringify(path)}`);
      return true;
    };
  if (Object.keys(policy).length) o.policy = policy;
  return o;
}

// The exact text core 1.2.0's Transport.safeListen prints through
// console.warn when the endpoint has no listen method.
const LISTEN_WARNING = "Nexus DEV: `listen` called on an endpoint that does not support it.";
if (opts["listen-warning"] === "filter") {
  const warn = console.warn;
  console.warn = (...args) => {
    if (args.length === 1 && args[0] === LISTEN_WARNING) return;
    warn.apply(console, args);
  };
} else if (opts["listen-warning"] !== undefined && opts["listen-warning"] !== "stub") {
  console.error(`unknown --listen-warning ${opts["listen-warning"]}`);
  process.exit(64);
}

// configureClient configures inst as a node-ipc client; with
// --listen-warning stub its endpoint gets a listen that accepts nothing.
function configureClient(inst, o) {
  const cfg = usingNodeIpcClient({ ...o, configure: false });
  if (opts["listen-warning"] === "stub") cfg.endpoint.implementation.listen = () => {};
  if (opts.meta !== undefined) cfg.endpoint.meta = { ...cfg.endpoint.meta, ...JSON.parse(opts.meta) };
  inst.configure(cfg);
}

function fromForm(v) {
  if (Array.isArray(v)) return v.map(fromForm);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      if (k === "$undefined") return undefined;
      if (k === "$bigint") return BigInt(v.$bigint);
      if (k === "$map") return new Map(v.$map.map(([a, b]) => [fromForm(a), fromForm(b)]));
      if (k === "$set") return new Set(v.$set.map(fromForm));
    }
    const o = {};
    for (const key of keys) o[key] = fromForm(v[key]);
    return o;
  }
  return v;
}
const parse = (s) => fromForm(JSON.parse(s));
const print = (v) => console.log(JSON.stringify(toForm(v)));
const at = (obj, path) => path.split(".").filter(Boolean).reduce((o, k) => o[k], obj);

// The multicast settlements with the stacks of rejected reasons dropped.
function noStacks(v) {
  if (Array.isArray(v)) return v.map(noStacks);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const o = {};
    for (const k of Object.keys(v)) if (k !== "stack") o[k] = noStacks(v[k]);
    return o;
  }
  return v;
}

// The service a --provide TOKEN client exposes.
const coded = (code, message) => Object.assign(new Error(message), { code });
function worker(token, nexus) {
  const called = (method, args) => console.error(`CALLED ${token}.${method} ${JSON.stringify(toForm(args))}`);
  let label = "initial";
  return {
    hello(name) {
      called("hello", [name]);
      return `hello ${name} from node client ${appId}`;
    },
    whoami() {
      called("whoami", []);
      return { pid: process.pid, appId, kind: "node-client" };
    },
    add(a, b) {
      called("add", [a, b]);
      return a + b;
    },
    fail(code, message) {
      called("fail", [code, message]);
      throw coded(code, message);
    },
    async callback(fn, n) {
      called("callback", [fn, n]);
      const out = [];
      for (let i = 0; i < n; i++) out.push(await fn(i));
      return out;
    },
    makeCounter(start) {
      called("makeCounter", [start]);
      return nexus.ref(counterObject(start));
    },
    async slow(ms) {
      called("slow", [ms]);
      await sleep(ms);
      return ms;
    },
    get label() {
      return label;
    },
    set label(v) {
      console.error(`SET ${token}.label ${JSON.stringify(toForm(v))}`);
      label = v;
    },
  };
}

// Command-local flags: spec maps a flag name to its number of values, or
// "*" for all values up to the next flag of spec.
function local(list, spec) {
  const pos = [];
  const flags = {};
  let cur = null;
  for (const a of list) {
    const name = a.startsWith("--") ? a.slice(2) : null;
    if (name !== null && Object.hasOwn(spec, name)) {
      cur = name;
      flags[name] = [];
    } else if (cur !== null && (spec[cur] === "*" || flags[cur].length < spec[cur])) flags[cur].push(a);
    else {
      cur = null;
      pos.push(a);
    }
  }
  return { pos, flags };
}

const sameTarget = (a, b) => a !== undefined && targetKey(a) === targetKey(b);

// connectAll: wait until every --connect-to target (or the default target)
// has a ready session. connectTo dials are started by core; a create of an
// unprovided token on the same target shares that dial, so a dial failure
// is reported with its own error.
async function connectAll(nexus, ms) {
  await nexus.ready();
  const until = Date.now() + ms;
  const targets = connectTo.length ? connectTo : [defaultTarget];
  await Promise.all(
    targets.map(async (t) => {
      let failure;
      nexus.create(new Token("__connect__"), { target: t, timeout: ms }).then(
        () => {},
        (e) => (failure = e),
      );
      for (;;) {
        if (failure && failure.code !== "E_SERVICE_ACQUISITION_TIMEOUT") throw failure;
        if ((await probeConnections(nexus)).some(({ connection }) => sameTarget(connection?.selected, t))) return;
        if (Date.now() > until) throw coded("E_SERVICE_ACQUISITION_TIMEOUT", `not connected to ${targetKey(t)}`);
        await sleep(20);
      }
    }),
  );
}

// The identity of the connection to t as core's where sees it, or undefined.
async function identityOf(nexus, t) {
  const seen = await probeConnections(nexus);
  return seen.find(({ connection }) => sameTarget(connection?.selected, t))?.identity;
}

function fail(e) {
  if (e?.code === "E_REMOTE_EXCEPTION") {
    console.error(`remote error ${e.code}: ${e.message}`);
    const c = e.cause;
    if (c) console.error(`cause ${c.code ?? ""}: ${c.message ?? ""}`);
    return 1;
  }
  console.error(`error ${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`);
  if (e?.cause?.code) console.error(`cause ${e.cause.code}: ${e.cause.message ?? ""}`);
  return 2;
}

async function main() {
  if (cmd === "many") return many();
  const nexus = defaultNexus;
  const denyCall = new Set(opts["deny-call"] ?? []);
  for (const t of opts.provide ?? [])
    nexus.provide(new Token(t), worker(t, nexus), denyCall.has(t) ? { policy: { canCall: () => false } } : undefined);
  configureClient(nexus, config(false));
  const acquireMs = Number(opts["acquire-ms"] ?? 5000);
  const svc = async (name) => nexus.create(new Token(name), withCallTimeout({ timeout: acquireMs }));
  switch (cmd) {
    case "serve": {
      const { flags } = local(rest, { hold: 1 });
      const hold = flags.hold?.[0] ?? opts.hold;
      await connectAll(nexus, acquireMs);
      process.stdout.write("SERVING\n");
      await new Promise((resolve) => {
        process.on("SIGINT", resolve);
        process.on("SIGTERM", resolve);
        if (hold !== undefined) waitFile(hold).then(resolve);
      });
      return 0;
    }
    case "update-identity": {
      const { pos, flags } = local(rest, { then: "*", hold: 1 });
      if (pos.length !== 1 || flags.then?.length === 0) return 64;
      await connectAll(nexus, acquireMs);
      await nexus.updateIdentity(parse(pos[0]));
      console.log("identity updated");
      if (flags.then) {
        const [s, ...p] = flags.then[0].split(".");
        print(await invoke(await svc(s), p.join("."), flags.then.slice(1).map(parse)));
      }
      if (flags.hold) await waitFile(flags.hold[0]);
      return 0;
    }
    case "daemon-identity": {
      const { pos, flags } = local(rest, { "after-call": "*", watch: 1 });
      if (pos.length !== 1 || flags["after-call"]?.length === 0) return 64;
      await svc(pos[0]);
      if (flags["after-call"]) {
        const [s, ...p] = flags["after-call"][0].split(".");
        const r = await invoke(await svc(s), p.join("."), flags["after-call"].slice(1).map(parse));
        console.error(`after-call ${JSON.stringify(toForm(r))}`);
      }
      if (!flags.watch) {
        print((await identityOf(nexus, defaultTarget)) ?? null);
        return 0;
      }
      const want = keyValue(flags.watch[0]);
      const until = Date.now() + 10000;
      for (;;) {
        const id = await identityOf(nexus, defaultTarget);
        if (want.test(id)) {
          print(id);
          return 0;
        }
        if (Date.now() > until) {
          console.error(`watch: timeout, identity ${JSON.stringify(toForm(id ?? null))}`);
          return 1;
        }
        await sleep(20);
      }
    }
    case "select": {
      const { pos, flags } = local(rest, { where: 1, wait: 1 });
      const [tok, method, ...args] = pos;
      if (method === undefined) return 64;
      await connectAll(nexus, acquireMs);
      const o = { where: whereMatcher(flags.where ? parse(flags.where[0]) : null) };
      if (flags.wait) o.wait = flags.wait[0] === "default" ? {} : { timeout: Number(flags.wait[0]) };
      const proxy = await nexus.select(new Token(tok), withCallTimeout(o));
      print(await invoke(proxy, method, args.map(parse)));
      return 0;
    }
    case "multicast":
    case "create-multicast": {
      const { pos, flags } = local(rest, { where: 1, expects: 1, targets: 1 });
      const [tok, method, ...args] = pos;
      if (method === undefined) return 64;
      const expects = flags.expects?.[0];
      const o = { where: whereMatcher(flags.where ? parse(flags.where[0]) : null), expects };
      let proxy;
      if (cmd === "multicast") {
        await connectAll(nexus, acquireMs);
        proxy = await nexus.selectMulticast(new Token(tok), withCallTimeout(o));
      } else {
        if (!flags.targets) return 64;
        const targets = flags.targets[0].split(",").filter(Boolean).map(target);
        proxy = await nexus.createMulticast(new Token(tok), withCallTimeout({ ...o, targets, timeout: acquireMs }));
      }
      print(noStacks(await callMulticast(proxy, method, args.map(parse), expects)));
      return 0;
    }
    case "info": {
      const demo = await svc("demo");
      print(await demo.whoami());
      return 0;
    }
    case "call": {
      const [s, path, ...args] = rest;
      const proxy = await svc(s);
      const segs = path.split(".");
      const parent = at(proxy, segs.slice(0, -1).join("."));
      print(await parent[segs.at(-1)](...args.map(parse)));
      return 0;
    }
    case "get": {
      const [s, path] = rest;
      print(await at(await svc(s), path));
      return 0;
    }
    case "assign": {
      const [s, path, value] = rest;
      if (value === undefined) return 64;
      const proxy = await svc(s);
      const segs = path.split(".");
      const parent = at(proxy, segs.slice(0, -1).join("."));
      try {
        parent[segs.at(-1)] = parse(value);
        console.log("assign: ok");
      } catch (e) {
        console.log(`assign: ${e?.name ?? "Error"}: ${e?.message ?? e}`);
      }
      return 0;
    }
    case "callback": {
      const [s, path, n, mode] = rest;
      let calls = 0;
      const fn = (i) => {
        calls++;
        if (mode === "throw") throw Object.assign(new Error(`node callback refused ${i}`), { code: "E_NODE_CALLBACK" });
        return typeof i === "number" ? i * 10 : i;
      };
      const proxy = await svc(s);
      const res = Number(n) < 0 ? await proxy[path](fn) : await proxy[path](fn, Number(n));
      console.log(`callback ran ${calls} times`);
      print(res);
      return 0;
    }
    case "ref": {
      const steps = [[]];
      for (const a of rest) (a === "--" ? steps.push([]) : steps.at(-1).push(a));
      const [s, path, ...args] = steps[0];
      // Core catches a failed SET and only passes it to its logger (off by
      // default): capture those reports, and nothing else is printed.
      const setFailures = [];
      configureNexusLogger({
        enabled: true,
        level: LogLevel.ERROR,
        handler: (level, scope, message, err) => {
          if (message === "Remote property assignment failed") setFailures.push(err);
        },
      });
      const ref = await (await svc(s))[path](...args.map(parse));
      console.log(`ref ${typeof ref}`);
      for (const [op, p, ...xs] of steps.slice(1)) {
        try {
          if (op === "call") console.log(`call: ${JSON.stringify(toForm(await ref[p](...xs.map(parse))))}`);
          else if (op === "get") console.log(`get: ${JSON.stringify(toForm(await ref[p]))}`);
          else if (op === "set") {
            const want = JSON.stringify(toForm(parse(xs[0])));
            setFailures.length = 0;
            ref[p] = parse(xs[0]);
            // The assignment is not awaited by core: wait for its effect.
            const until = Date.now() + 5000;
            let got, reads = 0;
            for (;;) {
              if (setFailures.length) {
                const f = setFailures[0];
                console.log(`set: error ${f?.code ?? "E_UNKNOWN"}${f?.cause?.code ? ` cause ${f.cause.code}` : ""}`);
                break;
              }
              got = JSON.stringify(toForm(await ref[p]));
              reads++;
              if (got === want) {
                if (reads > 1) console.error(`set: value read back after ${reads} reads`);
                console.log("set: ok");
                break;
              }
              if (Date.now() > until) {
                console.log(`set: not confirmed (${got})`);
                break;
              }
              await new Promise((r) => setTimeout(r, 5));
            }
          } else if (op === "release") {
            nexus.release(ref);
            console.log("release: ok");
          }
        } catch (e) {
          console.log(`${op}: error ${e.code}`);
        }
      }
      return 0;
    }
    case "hang": {
      const [s, path, ...args] = rest;
      const proxy = await svc(s);
      const start = Date.now();
      const p = proxy[path](...args.map(parse));
      fs.writeFileSync("calling", "");
      try {
        await p;
        console.log("ended ok");
      } catch (e) {
        console.log(`ended ${e.code}`);
      }
      console.log(Date.now() - start < 1000 ? "within 1s" : `took ${Date.now() - start}ms`);
      return 0;
    }
    case "restart-probe": {
      // Connect, wait for the daemon to go away (the script kills it),
      // check that the old proxy fails, then create a new one.
      const demo = await svc("demo");
      await demo.echo("before");
      const counter = await demo.makeCounter(1);
      fs.writeFileSync(opts.marker ?? "connected2", "");
      let code;
      for (;;) {
        try {
          await demo.echo("probe");
          await new Promise((r) => setTimeout(r, 20));
        } catch (e) {
          code = e.code;
          break;
        }
      }
      console.log(`old service: ${code}`);
      try {
        await counter.increment();
        console.log("old ref: ok");
      } catch (e) {
        console.log(`old ref: ${e.code}`);
      }
      // Wait until the script says the new daemon listens (--restarted
      // FILE, default ./restarted; at most 60 s), so that a slow start
      // is not taken for a failure, then create a new handle.
      const marker = opts.restarted ?? "restarted";
      const until = Date.now() + 60000;
      while (!fs.existsSync(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      let last;
      const giveUp = Date.now() + 30000;
      while (Date.now() < giveUp) {
        try {
          const again = await nexus.create(new Token("demo"), withCallTimeout({ timeout: 5000 }));
          console.log(`new session: ${await again.echo("again")}`);
          return 0;
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      console.error(`no new daemon: ${last?.code ?? ""} ${last?.message ?? last}`);
      return 1;
    }
    case "die-in-callback": {
      const [s, path] = rest;
      const proxy = await svc(s);
      proxy[path]((i) => {
        fs.writeFileSync("dying", "");
        process.kill(process.pid, "SIGKILL");
        return new Promise(() => {});
      }, 3).catch(() => {});
      await new Promise(() => {});
      return 0;
    }
  }
  console.error(`unknown command ${cmd}`);
  return 64;
}

// many N SERVICE PATH ARG: N independent client runtimes, each with its own
// connection, all connected at once.
async function many() {
  const [n, s, path, arg] = rest;
  const clients = [];
  for (let i = 0; i < Number(n); i++) {
    const inst = new Nexus();
    configureClient(inst, { ...config(false), appId: `ncl-${i}` });
    clients.push(inst);
  }
  const results = await Promise.all(
    clients.map(async (inst, i) => {
      const proxy = await inst.create(new Token(s), withCallTimeout({ timeout: 20000 }));
      return proxy[path](arg === undefined ? i : parse(arg));
    }),
  );
  const distinct = new Set(results.map((r) => JSON.stringify(toForm(r))));
  console.log(`${results.length} clients answered, ${distinct.size} distinct results`);
  if (opts.hold !== undefined) {
    // --hold FILE: stay connected until FILE exists (at most 60 s).
    fs.writeFileSync("connected", "");
    const until = Date.now() + 60000;
    while (!fs.existsSync(opts.hold) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (opts.then !== undefined) {
      // --then SERVICE.PATH: then, on the same sessions, call a service
      // that may have been provided meanwhile (a late provider reaches a
      // 1.x client through PROVIDER_AVAILABLE).
      const [ts, ...tp] = opts.then.split(".");
      const late = await Promise.all(
        clients.map(async (inst) => {
          const proxy = await inst.create(new Token(ts), withCallTimeout({ timeout: 5000 }));
          return tp.reduce((o, k, i) => (i === tp.length - 1 ? o[k]() : o[k]), proxy);
        }),
      );
      for (const r of late) console.log(`then: ${JSON.stringify(toForm(r))}`);
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => process.exit(fail(e)),
);
