// Rules shared by peers/daemon.mjs and peers/client.mjs (one copy each).
//
// Where specs. A where spec is a JSON-able value turned into core's
// `where(meta, connection)` predicate by whereMatcher:
//   null/undefined         no predicate (matches every ready connection)
//   {field: want, ...}     every field must match the identity's field:
//     want an object        -> the field is an object matching it (recursively,
//                             extra fields allowed)
//     field value an array  -> "contains": a scalar/object want must match
//                             one element ({"groups":"blue"} matches
//                             ["blue","red"]); an array want needs each of its
//                             elements to match one element
//     otherwise             -> equal (JSON, key order ignored)
//   {"$observed": {...}}   matched the same way against connection.observed
//                          (node-ipc's {socket, authenticated, authMethod})
//   A missing field never matches.
//
// KEY=VALUE arguments (--deny-identity, --deny-connect-if, --watch): VALUE is
// parsed as JSON when it parses (3, true, "x", [..]) and taken as a string
// otherwise (blue); the field matches when it is JSON-equal to that value.
import fs from "node:fs";
import { Token } from "@nexus-js/core";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// counterObject is the object behind makeCounter in both peers: {value,
// increment()}, handed out with nexus.ref.
export function counterObject(start) {
  const obj = {
    value: start,
    increment() {
      obj.value += 1;
      return obj.value;
    },
  };
  return obj;
}

// canon: JSON with sorted object keys, for comparisons.
export function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
      .join(",")}}`;
  }
  return v === undefined ? "undefined" : JSON.stringify(v);
}

const isPlain = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// matches: does value satisfy want (the rules above)?
export function matches(value, want) {
  if (Array.isArray(value)) {
    if (Array.isArray(want)) return want.every((w) => value.some((x) => matches(x, w)));
    return value.some((x) => matches(x, want));
  }
  if (isPlain(want)) {
    if (!isPlain(value)) return false;
    return Object.keys(want).every((k) => Object.hasOwn(value, k) && matches(value[k], want[k]));
  }
  return canon(value) === canon(want);
}

// whereMatcher: a where spec as core's where(meta, connection) function.
export function whereMatcher(spec) {
  if (spec === null || spec === undefined) return undefined;
  if (!isPlain(spec)) throw Object.assign(new Error(`where spec must be an object or null`), { code: "E_USAGE_INVALID" });
  const { $observed, ...identity } = spec;
  return (meta, conn) =>
    matches(meta ?? {}, identity) && ($observed === undefined || matches(conn?.observed ?? {}, $observed));
}

export function parseLoose(s) {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

// keyValue: "KEY=VALUE" as a predicate on an identity object.
export function keyValue(s) {
  const i = s.indexOf("=");
  if (i <= 0) throw Object.assign(new Error(`expected KEY=VALUE, got ${s}`), { code: "E_USAGE_INVALID" });
  const key = s.slice(0, i);
  const value = parseLoose(s.slice(i + 1));
  const test = (obj) => obj != null && Object.hasOwn(obj, key) && canon(obj[key]) === canon(value);
  return { key, value, test };
}

// invoke: call the dotted PATH under root (a proxy) with args.
export function invoke(root, path, args) {
  const segs = path.split(".").filter(Boolean);
  const parent = segs.slice(0, -1).reduce((o, k) => o[k], root);
  return parent[segs.at(-1)](...args);
}

// waitFile: resolve once file exists (poll every 20 ms); false after ms.
export async function waitFile(file, ms = Infinity) {
  const until = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

// probeConnections: every ready connection of inst as core's where sees it
// (core calls where for each ready, identified connection before checking
// the provider catalog), as [{identity, connection}].
export async function probeConnections(inst) {
  const seen = [];
  await inst.selectMulticast(new Token("__probe__"), {
    where: (meta, conn) => {
      seen.push({ identity: meta, connection: conn });
      return false;
    },
  });
  return seen;
}

// callMulticast: call PATH on a multicast proxy; "all" (default) gives
// core's settlement array as is, "stream" the iterated items, in order.
export async function callMulticast(proxy, path, args, expects) {
  const res = await invoke(proxy, path, args);
  if (expects !== "stream") return res;
  const items = [];
  for await (const item of res) items.push(item);
  return items;
}

// LISTEN_WARNING is the exact text core 1.2.0's Transport.safeListen prints
// through console.warn when the endpoint has no listen method (every node-ipc
// client). installListenWarning(mode) applies a --listen-warning value as
// client.mjs does: "filter" drops exactly that console.warn text, "stub" is
// left to the caller (give cfg.endpoint.implementation a listen that does
// nothing), undefined changes nothing; anything else exits 64.
export const LISTEN_WARNING = "Nexus DEV: `listen` called on an endpoint that does not support it.";
export function installListenWarning(mode) {
  if (mode === "filter") {
    const warn = console.warn;
    console.warn = (...args) => {
      if (args.length === 1 && args[0] === LISTEN_WARNING) return;
      warn.apply(console, args);
    };
  } else if (mode !== undefined && mode !== "stub") {
    console.error(`unknown --listen-warning ${mode}`);
    process.exit(64);
  }
}

// waitConnected: resolve once inst (a client with target in its connectTo)
// has a ready connection whose selected target is target (same appId and
// instance); throws E_SERVICE_ACQUISITION_TIMEOUT after ms.
export async function waitConnected(inst, target, ms = 5000) {
  await inst.ready();
  const key = (t) => `${t?.appId}/${t?.instance ?? "default"}`;
  const until = Date.now() + ms;
  for (;;) {
    if ((await probeConnections(inst)).some(({ connection }) => connection?.selected && key(connection.selected) === key(target)))
      return;
    if (Date.now() > until)
      throw Object.assign(new Error(`not connected to ${key(target)}`), { code: "E_SERVICE_ACQUISITION_TIMEOUT" });
    await sleep(20);
  }
}

// isInvocationContext: the object core 1.2.0 appends as the last argument of
// a call into a service that has the nexus.service.invoke.start hook (State
// bindings do), also for calls of resources that service handed out.
export const isInvocationContext = (v) =>
  typeof v === "object" && v !== null && "sourceConnectionId" in v && "sourceIdentity" in v && "localIdentity" in v && "platform" in v;

// The JSON-friendly form shared with Go's internal/jsonform.
export function toForm(v) {
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
