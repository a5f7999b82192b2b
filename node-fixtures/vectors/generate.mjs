#!/usr/bin/env node
// Golden-vector generator for nexus-go. Usage: node vectors/generate.mjs <outdir>
// Writes numbers/strings/packets/addresses/errcodes/values/revive/errors/auth .json (format: compat/testdata/FORMAT.md).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { numberCases, stringCases } from "./scalars.mjs";
import { packetCases } from "./packets.mjs";
import { addressCases } from "./addresses.mjs";
import { errcodeCases } from "./errcodes.mjs";
import { startDaemon, stopDaemon, killChildren, serviceCases, authCases, AUTH_TOKEN, AUTH_TIMEOUT_MS } from "./live.mjs";
import { isWellFormed } from "./desc.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: node vectors/generate.mjs <outdir>");
  process.exit(2);
}

const pkgVersion = (name) => JSON.parse(fs.readFileSync(path.join(here, "..", "node_modules", name, "package.json"), "utf8")).version;
const CORE = pkgVersion("@nexus-js/core");
const NODE_IPC = pkgVersion("@nexus-js/node-ipc");
if (CORE !== "1.2.0" || NODE_IPC !== "0.6.0") {
  console.error(`expected @nexus-js/core 1.2.0 and @nexus-js/node-ipc 0.6.0, found ${CORE} / ${NODE_IPC}`);
  process.exit(1);
}

let tmpDir = null;
const cleanup = () => {
  killChildren();
  if (tmpDir) {
    try {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    } catch {}
    tmpDir = null;
  }
};
const watchdog = setTimeout(() => {
  console.error("vectors: watchdog expired (50 s), aborting");
  cleanup();
  process.exit(1);
}, 50000);
watchdog.unref();
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

// Every string that reaches a file must be well-formed UTF-16 (strict UTF-8 JSON readers would turn a
// lone surrogate escape into U+FFFD). Strings that are not are carried as {"t":"string","u16":[...]} descs.
// A decode case's "message" may be lossy; then "messageDesc" carries the exact value.
function assertWellFormed(v, where) {
  if (typeof v === "string") {
    if (!isWellFormed(v)) throw new Error(`lone surrogate in output at ${where}`);
  } else if (Array.isArray(v)) v.forEach((e, i) => assertWellFormed(e, `${where}[${i}]`));
  else if (v && typeof v === "object")
    for (const [k, e] of Object.entries(v)) {
      if (!isWellFormed(k)) throw new Error(`lone surrogate key at ${where}`);
      if (k === "message" && v.messageDesc) continue;
      assertWellFormed(e, `${where}.${k}`);
    }
}

const counts = {};
function write(file, generator, cases) {
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`${file}: duplicate case name ${c.name}`);
    names.add(c.name);
  }
  const doc = { generator, node: process.versions.node.split(".")[0], core: CORE, nodeIpc: NODE_IPC, cases };
  assertWellFormed(doc, file);
  const text = JSON.stringify(doc, null, 1) + "\n";
  fs.writeFileSync(path.join(outDir, file), text);
  counts[file] = cases.length;
}

async function main() {
  const started = Date.now();
  fs.mkdirSync(outDir, { recursive: true });
  const gen = (part) => `node-fixtures/vectors/generate.mjs (${part})`;

  write("numbers.json", gen("JSON.stringify"), numberCases());
  write("strings.json", gen("JSON.stringify"), stringCases());
  write("packets.json", gen("core J/B serializer"), packetCases());
  write("addresses.json", gen("NodeIpcAddress, usingNodeIpcDaemon"), addressCases());
  write("errcodes.json", gen("E_ codes read from the dist files"), errcodeCases());

  tmpDir = fs.mkdtempSync(path.join(os.platform() === "win32" ? os.tmpdir() : "/tmp", "nxv-"));
  const plainSock = path.join(tmpDir, "p.sock");
  const authSock = path.join(tmpDir, "a.sock");
  const [plain, authd] = await Promise.all([startDaemon(plainSock), startDaemon(authSock, [AUTH_TOKEN, String(AUTH_TIMEOUT_MS)])]);
  const [svc, auth] = await Promise.all([serviceCases(plainSock), authCases(authSock)]);
  await Promise.all([stopDaemon(plain), stopDaemon(authd)]);

  write("values.json", gen("live daemon: make/describe"), svc.values);
  write("revive.json", gen("live daemon: describeArgs"), svc.revive);
  write("errors.json", gen("live daemon: thrown errors"), svc.errors);
  write("auth.json", gen("live daemon with authToken"), auth);

  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`vectors: wrote ${Object.entries(counts).map(([f, n]) => `${f}=${n}`).join(" ")} total=${total} in ${Date.now() - started} ms`);
}

main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (e) => {
    console.error("vectors: failed:", e?.stack ?? e);
    cleanup();
    process.exit(1);
  }
);
