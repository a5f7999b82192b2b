// Benchmark client: a real @nexus-js/node-ipc 0.6.0 client calling
// demo.echo on the daemon at PATH.
//   node bench/client.mjs PATH seq|mux|big N CONC SIZE [--wait]
// Prints one JSON line: {"calls","seconds","meanUs","p50Us","p99Us","bytes"}.
// With --wait it connects and warms up, prints "ready", and starts measuring
// only when a line arrives on stdin (so that parallel clients start
// together, after their process startup).
import { nexus, Token } from "@nexus-js/core";
import { usingNodeIpcClient } from "@nexus-js/node-ipc";

const [path, mode, nStr, concStr, sizeStr, waitFlag] = process.argv.slice(2);
const n = Number(nStr), conc = Number(concStr), size = Number(sizeStr);
usingNodeIpcClient({
  appId: "bench-node",
  defaultTarget: { context: "node-ipc-daemon", appId: "bench" },
  resolveAddress: () => ({ kind: "path", path }),
});
const demo = await nexus.create(new Token("demo"), { callTimeout: 120000 });
const payload = size <= 16 ? "hello, nexus!" : "x".repeat(size);
for (let i = 0; i < Math.min(Math.floor(n / 10) + 1, 200); i++) await demo.echo(payload);
if (waitFlag === "--wait") {
  console.log("ready");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.pause();
}
const res = { calls: n };
const start = process.hrtime.bigint();
if (mode === "mux") {
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next++ < n) await demo.echo(payload);
    }),
  );
} else {
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const out = await demo.echo(payload);
    if (out.length !== payload.length) throw new Error("bad echo");
    lat[i] = Number(process.hrtime.bigint() - t) / 1e3;
  }
  lat.sort();
  res.meanUs = lat.reduce((a, b) => a + b, 0) / n;
  res.p50Us = lat[Math.floor(n / 2)];
  res.p99Us = lat[Math.floor((n * 99) / 100)];
}
res.seconds = Number(process.hrtime.bigint() - start) / 1e9;
res.bytes = n * payload.length * 2;
console.log(JSON.stringify(res));
process.exit(0);
