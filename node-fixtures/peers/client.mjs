// A real @nexus-js/node-ipc 0.6.0 client for the interop tests; the Node
// counterpart of the Go test command nxc, with the same output forms.
//
//   node peers/client.mjs --app APP [--instance NAME] [--socket PATH]
//        [--token-env VAR] [--client-app ID] [--listen-warning filter|stub]
//        COMMAND ...
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
// Exit codes: 0 ok, 1 remote error, 2 connection error, 64 usage.
import fs from "node:fs";
import { Nexus, Token, nexus as defaultNexus, configureNexusLogger, LogLevel } from "@nexus-js/core";
import { usingNodeIpcClient } from "@nexus-js/node-ipc";

const argv = process.argv.slice(2);
const opts = {};
while (argv[0]?.startsWith("--")) {
  const k = argv.shift().slice(2);
  opts[k] = argv.shift();
}
const [cmd, ...rest] = argv;
if (!cmd) {
  console.error("usage: client.mjs --app APP COMMAND ...");
  process.exit(64);
}

function config(configure) {
  const target = { context: "node-ipc-daemon", appId: opts.app ?? "socket" };
  if (opts.instance) target.instance = opts.instance;
  const o = { appId: opts["client-app"] ?? "ncl", defaultTarget: target, configure };
  if (opts.socket) o.resolveAddress = () => ({ kind: "path", path: opts.socket });
  if (opts["token-env"]) o.authToken = process.env[opts["token-env"]];
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
  inst.configure(cfg);
}

// The JSON-friendly form shared with Go's internal/jsonform.
function toForm(v) {
  if (v === undefined) return { $undefined: true };
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [toForm(k), toForm(x)]) };
  if (v instanceof Set) return { $set: [...v.values()].map(toForm) };
  if (typeof v === "function") return { $ref: "proxy" };
  if (Array.isArray(v)) return v.map(toForm);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toForm(v[k]);
    return o;
  }
  return v;
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
  configureClient(nexus, config(false));
  const acquireMs = Number(opts["acquire-ms"] ?? 5000);
  const svc = async (name) => nexus.create(new Token(name), { timeout: acquireMs });
  switch (cmd) {
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
          const again = await nexus.create(new Token("demo"), { timeout: 5000 });
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
      const proxy = await inst.create(new Token(s), { timeout: 20000 });
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
          const proxy = await inst.create(new Token(ts), { timeout: 5000 });
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
