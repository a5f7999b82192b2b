// One real @nexus-js/node-ipc 0.6.0 client process for the load and fault
// programs of internal/tools/load (L2 and F2), configured as client.mjs
// configures its clients.
//
//   node peers/load-client.mjs --socket PATH [--app APP] [--client-app ID]
//        [--mode echo|hang-callback] [--calls N] [--refs N]
//        [--timeout-ms MS] [--max-ms MS]
//
// --mode echo (default): nexus.create("demo"), one demo.add(0, 0) to be sure
//   the session is up, print "READY", wait for a line on stdin, make N
//   (--calls, default 50) sequential demo.echo calls with distinct strings
//   and check each answer, print one JSON line
//   {"calls","ok","errors","firstError","ms"}, then stay connected until
//   stdin ends and exit 0.
// --mode hang-callback: nexus.create("demo"), keep N (--refs, default 10)
//   counters from demo.makeCounter, print "REFS N", then call
//   demo.callback(fn, 1) with an fn that prints "IN_CALLBACK" and never
//   settles; the process then waits to be killed (or for stdin to end).
//
// Every call has the create option callTimeout --timeout-ms (default
// 30000); whatever happens the process exits with status 3 after --max-ms
// (default 300000). Exit codes: 0 ok, 2 setup failed, 3 --max-ms, 64 usage.
import readline from "node:readline";
import { nexus, Token } from "@nexus-js/core";
import { usingNodeIpcClient } from "@nexus-js/node-ipc";

const argv = process.argv.slice(2);
const opts = {};
while (argv[0]?.startsWith("--")) {
  const k = argv.shift().slice(2);
  opts[k] = argv.shift();
}
if (!opts.socket || argv.length > 0) {
  console.error("usage: load-client.mjs --socket PATH [--mode echo|hang-callback] [--calls N] [--refs N]");
  process.exit(64);
}
const mode = opts.mode ?? "echo";
const calls = Number(opts.calls ?? 50);
const refs = Number(opts.refs ?? 10);
const timeoutMs = Number(opts["timeout-ms"] ?? 30000);
setTimeout(() => process.exit(3), Number(opts["max-ms"] ?? 300000)).unref();

// Core 1.2.0 prints this through console.warn for every node-ipc client
// (its endpoint has no listen); drop exactly that text, as client.mjs
// --listen-warning filter does.
const LISTEN_WARNING = "Nexus DEV: `listen` called on an endpoint that does not support it.";
const warn = console.warn;
console.warn = (...args) => {
  if (args.length === 1 && args[0] === LISTEN_WARNING) return;
  warn.apply(console, args);
};

const target = { context: "node-ipc-daemon", appId: opts.app ?? "load" };
const cfg = usingNodeIpcClient({
  appId: opts["client-app"] ?? `load-node-${process.pid}`,
  defaultTarget: target,
  resolveAddress: () => ({ kind: "path", path: opts.socket }),
  configure: false,
});
nexus.configure(cfg);

// Lines of stdin, one by one; stdin's end exits the process.
const lines = [];
let waiting = null;
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (l) => {
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(l);
  } else lines.push(l);
});
rl.on("close", () => process.exit(0));
const nextLine = () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => (waiting = r)));

async function main() {
  const demo = await nexus.create(new Token("demo"), { timeout: timeoutMs, callTimeout: timeoutMs });
  if (mode === "hang-callback") {
    const held = [];
    for (let i = 0; i < refs; i++) held.push(await demo.makeCounter(i));
    console.log(`REFS ${held.length}`);
    globalThis.heldRefs = held; // keep them alive until the process dies
    demo
      .callback(() => {
        console.log("IN_CALLBACK");
        return new Promise(() => {});
      }, 1)
      .catch(() => {});
    await new Promise(() => {});
  }
  if (mode !== "echo") {
    console.error(`unknown --mode ${mode}`);
    process.exit(64);
  }
  if ((await demo.add(0, 0)) !== 0) throw new Error("demo.add(0, 0) is not 0");
  console.log("READY");
  await nextLine();
  const res = { calls, ok: 0, errors: 0, firstError: null };
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const s = `n${process.pid}-${i}`;
    try {
      const got = await demo.echo(s);
      if (got === s) res.ok++;
      else {
        res.errors++;
        res.firstError ??= `wrong answer ${JSON.stringify(got)} for ${JSON.stringify(s)}`;
      }
    } catch (e) {
      res.errors++;
      res.firstError ??= `${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`;
    }
  }
  res.ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(JSON.stringify(res));
  await new Promise(() => {}); // stay connected until stdin ends
}

main().catch((e) => {
  console.error(`error ${e?.code ?? "E_UNKNOWN"}: ${e?.message ?? e}`);
  process.exit(2);
});
