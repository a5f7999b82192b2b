// packets.json: the real core JSON serializer J and the binary (UTF-8) wrapper B used by node-ipc.
import { J, B } from "../node_modules/@nexus-js/core/dist/binary-serializer-CLqrjojW.js";
import { describe, isWellFormed } from "./desc.mjs";

const strict = new TextDecoder("utf-8", { fatal: true });

// True when v survives a trip through a JSON file read by a strict UTF-8 JSON reader (Go):
// no -0, no non-finite numbers, no lone surrogates in strings or keys.
function lossless(v) {
  const d = JSON.stringify(describe(v));
  if (/"u16":/.test(d)) return false;
  for (const k of allKeys(v)) if (!isWellFormed(k)) return false;
  return JSON.stringify(describe(JSON.parse(JSON.stringify(v)))) === d;
}
function allKeys(v, out = []) {
  if (v && typeof v === "object") for (const k of Object.keys(v)) out.push(k), allKeys(v[k], out);
  return out;
}

function encodeCase(name, message) {
  const rj = J.safeSerialize(message);
  const rb = B.safeSerialize(message);
  if (rj.isOk() !== rb.isOk()) throw new Error(`J/B disagree on ${name}`);
  if (rj.isErr()) return { name, dir: "encode", message, ok: false, error: rj.error.message };
  const viaB = strict.decode(new Uint8Array(rb.value));
  if (viaB !== rj.value) throw new Error(`J/B text differ on ${name}`);
  if (!lossless(message)) throw new Error(`encode message not JSON-representable: ${name}`);
  return { name, dir: "encode", message, ok: true, wire: rj.value };
}

// Decodes exactly as node-ipc + core do: ArrayBuffer -> B (TextDecoder, non-fatal, BOM-stripping) -> J.
function decodeBytes(name, bytes, src) {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const r = B.safeDeserialize(ab);
  const c = { name, dir: "decode", ...src };
  if (r.isErr()) return { ...c, ok: false, error: r.error.message };
  const out = { ...c, ok: true, message: r.value };
  if (!lossless(r.value)) out.messageDesc = describe(r.value);
  return out;
}
const decodeText = (name, text) => decodeBytes(name, Buffer.from(text, "utf8"), { wire: text });
const decodeHex = (name, hex) => decodeBytes(name, Buffer.from(hex, "hex"), { wireHex: hex });

export function packetCases() {
  const cases = [];
  const enc = [];
  const E = (name, message) => enc.push(encodeCase(`encode/${name}`, message));
  const meta = { context: "node-ipc-client", appId: "vectors", pid: 1 };
  const dmeta = { context: "node-ipc-daemon", appId: "vectors", instance: "default", pid: 2 };
  const caps = ["provider-catalog-v1"];

  // GET
  E("get/service", { type: 1, id: 1, resourceId: null, path: ["svc", "count"] });
  E("get/resource", { type: 1, id: 2, resourceId: "res-1", path: ["a"] });
  E("get/empty-path", { type: 1, id: 3, resourceId: "res-1", path: [] });
  E("get/numeric-path-elements", { type: 1, id: 4, resourceId: null, path: ["svc", "arr", 1, "x"] });
  E("get/string-id", { type: 1, id: "call-1", resourceId: null, path: ["svc"] });
  E("get/null-id", { type: 1, id: null, resourceId: null, path: ["svc"] });
  E("get/absent-id-and-path", { type: 1, resourceId: null });
  E("get/absent-all", { type: 1 });
  E("get/long-with-name", { type: 1, id: 5, resourceId: "res-1", path: ["a"], invocationServiceName: "svc" });
  E("get/long-with-null-name", { type: 1, id: 6, resourceId: "res-1", path: ["a"], invocationServiceName: null });
  E("get/long-absent-path", { type: 1, id: 7, resourceId: "res-1", invocationServiceName: "svc" });
  // SET
  E("set/service", { type: 2, id: 8, resourceId: null, path: ["svc", "count"], value: 42 });
  E("set/resource-object", { type: 2, id: 9, resourceId: "res-1", path: ["a", "b"], value: { x: [1, "\u0003U"], y: null } });
  E("set/absent-value", { type: 2, id: 10, resourceId: "res-1", path: ["a"] });
  E("set/null-value", { type: 2, id: 11, resourceId: "res-1", path: ["a"], value: null });
  E("set/long", { type: 2, id: 12, resourceId: "res-1", path: ["a"], invocationServiceName: "svc", value: "v" });
  E("set/long-null-name", { type: 2, id: 13, resourceId: "res-1", path: ["a"], invocationServiceName: null, value: false });
  E("set/long-absent-value", { type: 2, id: 14, resourceId: "res-1", path: ["a"], invocationServiceName: "svc" });
  // APPLY
  E("apply/service", { type: 3, id: 15, resourceId: null, path: ["svc", "echo"], args: ["hello"] });
  E("apply/no-args", { type: 3, id: 16, resourceId: null, path: ["svc", "ping"], args: [] });
  E("apply/absent-args", { type: 3, id: 17, resourceId: null, path: ["svc", "ping"] });
  E("apply/resource-root", { type: 3, id: 18, resourceId: "res-4", path: [], args: [21] });
  E("apply/placeholders", {
    type: 3, id: 19, resourceId: null, path: ["svc", "echoArgs"],
    args: ["\u0003U", null, "\u0003M:[[\"a\",1]]", "\u0003S:[1,2]", "\u0003N:10", "\u0004\u0003R:res-1", "\u0004\u0004x", {}, 0, 1152921504606847000, "a\u2028b", "\ud83d\ude00", { n: { u: "\u0003U", arr: ["\u0003U"] } }],
  });
  E("apply/long", { type: 3, id: 20, resourceId: "res-1", path: ["inc"], invocationServiceName: "svc", args: [1] });
  E("apply/long-null-name", { type: 3, id: 21, resourceId: null, path: ["svc", "echo"], invocationServiceName: null, args: ["x"] });
  E("apply/long-absent-args", { type: 3, id: 22, resourceId: null, path: ["svc", "echo"], invocationServiceName: "svc" });
  E("apply/numbers", { type: 3, id: 23, resourceId: null, path: ["svc", "n"], args: [1e21, 1e-7, 5e-324, 0.1 + 0.2, 2 ** 53 + 2, -1.5, 1e300, 123456789012345680000, Number.MAX_VALUE] });
  E("apply/strings", { type: 3, id: 24, resourceId: null, path: ["svc", "s"], args: ["\u0000\u0001\u001f\u007f", "\"\\/", "\b\f\n\r\t", "<>&", "\u2028\u2029", "\u00e9\u4e2d\ud83d\ude00"] });
  // ids
  E("id/zero", { type: 5, id: 0, result: 1 });
  E("id/negative", { type: 5, id: -7, result: 1 });
  E("id/fraction", { type: 5, id: 1.5, result: 1 });
  E("id/1e21", { type: 5, id: 1e21, result: 1 });
  E("id/2^53", { type: 5, id: 2 ** 53, result: 1 });
  E("id/string", { type: 5, id: "s-1", result: 1 });
  E("id/object", { type: 5, id: { a: 1 }, result: 1 });
  E("id/empty-string", { type: 5, id: "", result: 1 });
  // RES / ERR
  E("res/number", { type: 5, id: 1, result: 5 });
  E("res/string", { type: 5, id: 2, result: "hello" });
  E("res/undefined-placeholder", { type: 5, id: 3, result: "\u0003U" });
  E("res/null", { type: 5, id: 4, result: null });
  E("res/absent-result", { type: 5, id: 5 });
  E("res/object", { type: 5, id: 6, result: { b: 1, a: [true, false, null], "": "", "\u0003R:res-1": "k" } });
  E("res/extra-field-ignored", { type: 5, id: 7, result: 2, extra: "x", invocation: 1 });
  E("res/with-invocationServiceName-key", { type: 5, id: 8, result: 2, invocationServiceName: "svc" });
  E("err/coded", { type: 6, id: 9, error: { code: "E_APP" } });
  E("err/full", { type: 6, id: 10, error: { name: "Error", code: "E_UNKNOWN", message: "boom", stack: "Error: boom\n    at x" } });
  E("err/null-error", { type: 6, id: 11, error: null });
  E("err/absent-error", { type: 6, id: 12 });
  // RELEASE
  E("release/basic", { type: 7, id: null, resourceId: "res-1" });
  E("release/absent-id", { type: 7, resourceId: "res-2" });
  E("release/absent-all", { type: 7 });
  // BATCH / BATCH_RES
  E("batch/empty", { type: 8, id: 1, calls: [] });
  E("batch/calls", {
    type: 8, id: 2, calls: [
      { type: 3, id: 3, resourceId: null, path: ["svc", "echo"], args: ["inbatch"] },
      { type: 1, id: 4, resourceId: "res-1", path: ["a"] },
      { type: 2, id: 5, resourceId: "res-1", path: ["a"], value: 1 },
    ],
  });
  E("batch/long-calls", {
    type: 8, id: 6, calls: [
      { type: 1, id: 7, resourceId: "res-1", path: ["a"], invocationServiceName: "svc" },
      { type: 3, id: 8, resourceId: "res-1", path: [], invocationServiceName: null, args: [] },
    ],
  });
  E("batch/nested-batch", { type: 8, id: 9, calls: [{ type: 8, id: 10, calls: [{ type: 5, id: 11, result: 1 }] }] });
  E("batch/non-call-messages", { type: 8, id: 12, calls: [{ type: 7, id: null, resourceId: "res-1" }, { type: 14, id: 1 }] });
  E("batch/absent-id", { type: 8, calls: [] });
  E("batch/extra-field", { type: 8, id: 13, calls: [], results: [1] });
  E("batch/calls-not-array", { type: 8, id: 14, calls: "x" });
  E("batch/calls-absent", { type: 8, id: 15 });
  E("batch/call-null", { type: 8, id: 16, calls: [null] });
  E("batch/call-number", { type: 8, id: 17, calls: [5] });
  E("batch/call-unknown-type", { type: 8, id: 18, calls: [{ type: 4, id: 1 }] });
  E("batch/call-array", { type: 8, id: 19, calls: [[3, 1, null, ["a"], []]] });
  E("batch-res/basic", { type: 9, id: 20, results: [[5, 1, 2], { any: "thing" }] });
  E("batch-res/absent", { type: 9, id: 21 });
  // Handshake
  E("hs-req/basic", { type: 10, id: 1, metadata: meta, assigns: null, capabilities: caps });
  E("hs-req/absent-assigns", { type: 10, id: 1, metadata: meta, capabilities: caps });
  E("hs-req/with-assigns", { type: 10, id: 2, metadata: { context: "node-ipc-client" }, assigns: { context: "node-ipc-daemon", appId: "renamed", instance: "x" }, capabilities: caps });
  E("hs-req/0.x-no-capabilities", { type: 10, id: 1, metadata: meta });
  E("hs-req/0.x-with-assigns", { type: 10, id: 1, metadata: meta, assigns: { a: 1 } });
  E("hs-req/string-id", { type: 10, id: "abc", metadata: meta, assigns: null, capabilities: ["future-x", "provider-catalog-v1"] });
  E("hs-req/null-metadata", { type: 10, id: 1, metadata: null, assigns: null, capabilities: caps });
  E("hs-ack/basic", { type: 11, id: 1, metadata: dmeta, capabilities: caps, providers: ["svc", "denied"] });
  E("hs-ack/empty-providers", { type: 11, id: 1, metadata: dmeta, capabilities: caps, providers: [] });
  E("hs-ack/0.x-metadata-only", { type: 11, id: 1, metadata: dmeta });
  E("hs-ack/0.x-no-providers", { type: 11, id: 1, metadata: dmeta, capabilities: [] });
  E("hs-reject/protocol", { type: 12, id: 1, error: { code: "E_PROTOCOL_INCOMPATIBLE", name: "_e" } });
  E("hs-reject/auth", { type: 12, id: 1, error: { code: "E_AUTH_CONNECT_DENIED", name: "LogicalConnectionAuthDeniedError" } });
  E("hs-reject/full-error", { type: 12, id: 1, error: { name: "X", code: "E_NOPE", message: "go away" } });
  E("identity-update/basic", { type: 13, id: null, updates: { version: 2 } });
  E("identity-update/absent", { type: 13 });
  E("hs-ready/basic", { type: 14, id: 1, capabilities: caps, providers: [] });
  E("hs-ready/absent-providers", { type: 14, id: 1, capabilities: caps });
  E("hs-ready/0.x-bare", { type: 14, id: 1 });
  E("hs-ready/with-providers", { type: 14, id: 3, capabilities: caps, providers: ["client-svc"] });
  E("provider-available/basic", { type: 15, id: null, providers: ["late-service"] });
  E("provider-available/many", { type: 15, id: null, providers: ["a", "b", "\u00e9"] });
  E("chunk-start/basic", { type: 16, id: 146, totalChunks: 2, originalMessageId: 147, originalMessageType: 3 });
  E("chunk-start/absent", { type: 16, id: 146 });
  E("chunk-data/basic", { type: 17, id: 146, chunkIndex: 0, chunkData: "abc" });
  E("chunk-data/absent-data", { type: 17, id: 146, chunkIndex: 1 });
  // Unknown types
  E("unknown/type-4", { type: 4, id: 1 });
  E("unknown/type-99", { type: 99, id: 1 });
  E("unknown/type-0", { type: 0, id: 1 });
  E("unknown/type-absent", { id: 1 });
  cases.push(...enc);

  // Round trip: every successful encode output goes through the decoder.
  for (const c of enc) if (c.ok) cases.push(decodeText(`roundtrip/${c.name.slice(7)}`, c.wire));

  const D = (name, text) => cases.push(decodeText(`decode/${name}`, text));
  const H = (name, hex) => cases.push(decodeHex(`decode/${name}`, hex));
  // Short forms and long forms
  D("get/short-4", '[1,1,null,["svc","count"]]');
  D("get/long-5", '[1,1,"res-1",["a"],"svc"]');
  D("get/long-5-null-name", '[1,1,"res-1",["a"],null]');
  D("set/short-5", '[2,1,"res-1",["a"],100]');
  D("set/long-6", '[2,1,null,["svc","count"],"svc",43]');
  D("set/long-6-null-name", '[2,1,null,["svc","count"],null,43]');
  D("apply/short-5", '[3,1,null,["svc","echo"],["hello"]]');
  D("apply/long-6", '[3,101,null,["svc","echo"],"svc",["six"]]');
  D("apply/long-6-null-name", '[3,103,null,["svc","echo"],null,["sixnull"]]');
  D("apply/short-5-scalar-args", '[3,105,null,["svc","echoArgs"],"scalar"]');
  // Short arrays
  const shorts = ["[1]", "[1,2]", "[1,2,null]", "[2,1,null,[\"a\"]]", "[2,1,null]", "[3,1,null,[\"a\"]]", "[3,1]", "[3]",
    "[5]", "[5,1]", "[6,1]", "[7]", "[7,null]", "[9,1]", "[10,1]", "[10,1,{}]", "[10,1,{},null]", "[11,1,{}]", "[11,1,{},[]]",
    "[12,1]", "[13,null]", "[14,1]", "[14,1,[]]", "[15,null]", "[16,1,2]", "[16,1]", "[17,1,0]", "[17,1]"];
  for (const s of shorts) D(`short/${s}`, s);
  // Extra elements
  const extras = ["[5,1,2,3,4]", "[6,1,{\"code\":\"E\"},\"x\"]", "[1,1,null,[\"a\"],\"svc\",\"extra\"]", "[2,1,null,[\"a\"],\"svc\",1,\"extra\"]",
    "[3,1,null,[\"a\"],\"svc\",[1],\"extra\"]", "[7,null,\"res-1\",\"x\"]", "[8,1,[],\"x\"]", "[9,1,[],\"x\"]",
    "[10,1,{},null,[],\"x\"]", "[11,1,{},[],[],\"x\"]", "[12,1,{},\"x\"]", "[13,null,{},\"x\"]", "[14,1,[],[],\"x\"]",
    "[15,null,[],\"x\"]", "[16,1,2,3,4,\"x\"]", "[17,1,0,\"abc\",\"x\"]"];
  for (const s of extras) D(`extra/${s}`, s);
  // Type variants
  const types = ["[3.0,2,null,[\"svc\",\"echo\"],[\"y\"]]", "[3e0,2,null,[\"a\"],[1]]", "[0.3e1,2,null,[\"a\"],[1]]", "[30e-1,2,null,[\"a\"],[1]]",
    "[\"3\",1,null,[\"svc\",\"echo\"],[\"x\"]]", "[\"1\",2,null,[\"x\"]]", "[\"8\",1,[5]]", "[[3],2,null,[\"x\"],[1]]", "[[[5]],1,2]",
    "[\"01\",1]", "[\"3.0\",1]", "[true,1]", "[null,1]", "[\"constructor\",1]", "[\"__proto__\",1]", "[\"toString\",1]",
    "[-0,1]", "[4,9,null]", "[99,9]", "[0,1]", "[18,1]", "[-1,1]", "[1.5,1]", "[]", "[null]", "[{},1]", "[\"\",1]", "[\"5\"]"];
  for (const s of types) D(`type/${s}`, s);
  // Whitespace
  D("ws/spaces", ' [ 3 , 3 , null , [ "svc" , "echo" ] , [ "z" ] ] ');
  D("ws/tabs-crlf", '\t[5,\r\n1,\n2]\r\n');
  // Values inside
  D("value/duplicate-keys", '[5,1,{"a":1,"a":2}]');
  D("value/proto-key", '[5,1,{"__proto__":{"x":1},"b":2}]');
  D("value/big-integer", "[5,1,12345678901234567890]");
  D("value/1e400", "[5,1,1e400]");
  D("value/neg-1e400", "[5,1,-1e400]");
  D("value/tiny-underflow", "[5,1,1e-400]");
  D("value/neg-zero-id", "[5,-0,-0]");
  D("value/exp-forms", "[5,1,[1E2,1e+2,0.5e-3,-0.0,100000000000000000000000]]");
  D("value/escaped-lone-surrogate", '[5,1,"x\\ud800y"]');
  D("value/escaped-pair", '[5,1,"\\ud83d\\ude00"]');
  D("value/escapes", '[5,1,"\\u0000\\b\\f\\n\\r\\t\\"\\\\\\/\\u0041\\u00E9"]');
  D("value/raw-u2028-del", '[5,1,"a\u2028b\u007fc"]');
  D("value/deep", "[5,1," + "[".repeat(100) + "]".repeat(100) + "]");
  // Nested batches
  D("batch/ok-nested", '[8,1,[[3,2,null,["a"],[1]],[1,3,"res-1",["b"],"svc"],[8,4,[[5,5,1]]]]]');
  D("batch/empty", "[8,1,[]]");
  D("batch/ignores-extra", "[8,1,[],2]");
  D("batch/nested-call-not-array-number", "[8,4,[5]]");
  D("batch/nested-call-not-array-object", '[8,4,[{"type":5}]]');
  D("batch/nested-call-not-array-string", '[8,4,[[5,1,2],"x"]]');
  D("batch/nested-call-null", "[8,4,[null]]");
  D("batch/calls-string", '[8,1,"x"]');
  D("batch/calls-object", "[8,1,{}]");
  D("batch/calls-null", "[8,1,null]");
  D("batch/calls-absent", "[8,1]");
  D("batch/bare", "[8]");
  D("batch/nested-unknown-type", "[8,1,[[4,1]]]");
  D("batch/nested-empty-array", "[8,1,[[]]]");
  D("batch/nested-batch-bad", "[8,1,[[8,2,5]]]");
  D("batch/string-type-skips-check", '["8",1,"not-an-array"]');
  // Failures
  const bad = ["{not json", "", " ", "[1,2", "[1,2,]", "[5,1,NaN]", "[5,1,undefined]", "[5,1,'a']", "[5,01]", "[5,1,\"\\x41\"]",
    "[5,1,\"a\tb\"]", "[5,1] x", "[5,1][5,2]", "{\"type\":3}", "3", "\"x\"", "null", "true", "{}", "[5,1,\"\\ud800\"", "[5,1,+1]",
    "[5,1,.5]", "[5,1,1.]", "[5,1,0x10]", "[5,1,Infinity]", "\u00a0[5,1]"];
  for (const s of bad) D(`invalid/${JSON.stringify(s)}`, s);
  D("bom/text-prefix-stripped-by-textdecoder", "\ufeff[5,1,2]");
  // Invalid UTF-8 / BOM through the binary path (TextDecoder, non-fatal, BOM stripped)
  const hexStr = (s) => Buffer.from(s, "utf8").toString("hex");
  const inStr = (bytesHex) => hexStr('[5,60,"a') + bytesHex + hexStr('"]');
  H("utf8/ff-fe", inStr("fffe"));
  H("utf8/lone-continuation", inStr("80"));
  H("utf8/overlong-slash", inStr("c0af"));
  H("utf8/overlong-3byte", inStr("e080af"));
  H("utf8/encoded-surrogate", inStr("eda080"));
  H("utf8/encoded-low-surrogate", inStr("edb080"));
  H("utf8/above-10ffff", inStr("f4908080"));
  H("utf8/f5", inStr("f5808080"));
  H("utf8/truncated-2of3", inStr("e282"));
  H("utf8/truncated-3of4", inStr("f09f98"));
  H("utf8/truncated-then-ascii", inStr("e28241"));
  H("utf8/truncated-at-end-of-body", hexStr('[5,60,"a"]') + "e282");
  H("utf8/c1-c2-boundary", inStr("c1bfc280"));
  H("utf8/valid-4byte", inStr("f09f9880"));
  H("utf8/valid-max", inStr("f48fbfbf"));
  H("utf8/bom-prefix", "efbbbf" + hexStr("[5,1,2]"));
  H("utf8/double-bom", "efbbbfefbbbf" + hexStr("[5,1,2]"));
  H("utf8/space-then-bom", "20efbbbf" + hexStr("[5,1,2]"));
  H("utf8/bom-inside-string", inStr("efbbbf"));
  H("utf8/invalid-outside-string", hexStr("[5,1,") + "ff" + hexStr("2]"));
  H("utf8/invalid-in-key", hexStr('[5,1,{"k') + "ff" + hexStr('":1}]'));
  H("utf8/raw-nul-in-string", inStr("00"));
  H("utf8/raw-del-in-string", inStr("7f"));
  H("utf8/raw-u2028-in-string", inStr("e280a8"));
  H("utf8/latin1-e9", inStr("e9"));
  H("utf8/cesu-pair", inStr("eda0bdedb880"));
  return cases;
}
