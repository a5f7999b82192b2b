// Input value descriptions for values.json: named edge cases plus seeded random nested values.
import { mulberry32 } from "./prng.mjs";
import { numToHex, strDesc } from "./desc.mjs";
import { randomString } from "./scalars.mjs";

const U = { t: "undefined" };
const N = { t: "null" };
const B = (v) => ({ t: "bool", v });
const num = (x) => ({ t: "number", v: numToHex(x) });
const S = (s) => strDesc(s);
const BI = (v) => ({ t: "bigint", v: String(v) });
const A = (...v) => ({ t: "array", v });
const O = (...kv) => ({ t: "object", v: kv });
const M = (...kv) => ({ t: "map", v: kv });
const SET = (...v) => ({ t: "set", v });
const FN = { t: "function" };
const REF = (v) => ({ t: "localref", v });
const DATE = (v) => ({ t: "date", v });
const SYM = (v) => ({ t: "symbol", v });
const HOLE = { t: "hole" };

// JS enumeration order of own keys: integer-like keys ascending first, then insertion order; duplicates collapse.
export function canonical(d) {
  switch (d.t) {
    case "array":
      return { t: "array", v: d.v.map(canonical) };
    case "set":
      return { t: "set", v: d.v.map(canonical) };
    case "map":
      return { t: "map", v: d.v.map(([k, v]) => [canonical(k), canonical(v)]) };
    case "localref":
      return { t: "localref", v: canonical(d.v) };
    case "object": {
      const o = {};
      for (const [k, v] of d.v) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return { t: "object", v: Object.keys(o).map((k) => [k, canonical(o[k])]) };
    }
    default:
      return d;
  }
}

export function goRepresentable(d) {
  switch (d.t) {
    case "function":
    case "localref":
    case "date":
    case "symbol":
    case "hole":
      return false;
    case "array":
    case "set":
      return d.v.every(goRepresentable);
    case "map":
      return d.v.every(([k, v]) => goRepresentable(k) && goRepresentable(v));
    case "object":
      return d.v.every(([, v]) => goRepresentable(v));
    default:
      return true;
  }
}

export function namedValues() {
  const v = [];
  const add = (name, desc, note) => v.push(note ? { name, desc, note } : { name, desc });
  add("undefined", U);
  add("null", N);
  add("true", B(true));
  add("false", B(false));
  for (const [n, x] of [["0", 0], ["-0", -0], ["1", 1], ["-1", -1], ["1.5", 1.5], ["NaN", NaN], ["Infinity", Infinity],
    ["-Infinity", -Infinity], ["1e21", 1e21], ["1e-7", 1e-7], ["5e-324", 5e-324], ["max", Number.MAX_VALUE],
    ["2^53+2", 2 ** 53 + 2], ["2^60", 2 ** 60], ["0.1+0.2", 0.1 + 0.2], ["1e300", 1e300], ["-1e-300", -1e-300]])
    add(`number/${n}`, num(x));
  for (const [n, s] of [["empty", ""], ["plain", "plain"], ["u0003", "\u0003"], ["u0003U", "\u0003U"], ["u0003R", "\u0003R:res-1"],
    ["u0003M", "\u0003M:[]"], ["u0003Z-unknown", "\u0003Z:foo"], ["u0004", "\u0004"], ["u0004u0004x", "\u0004\u0004x"],
    ["u0004x", "\u0004x"], ["u0004u0003", "\u0004\u0003"], ["u0003-in-middle", "a\u0003b"], ["u0004-in-middle", "a\u0004U"],
    ["controls", "\u0000\u0001\u001f"], ["del", "\u007f"], ["u2028", "a\u2028b\u2029c"], ["lone-high", "x\ud800y"],
    ["lone-low", "\udc00"], ["lone-high-prefixed-u0003", "\u0003\ud800"], ["emoji", "\ud83d\ude00"], ["quotes", "\"\\'"],
    ["html", "<>&"], ["long", "z".repeat(3000)], ["nul", "\u0000"], ["bom", "\ufeff"]])
    add(`string/${n}`, S(s));
  for (const b of [0n, -5n, 12345678901234567890n, 2n ** 64n, -(2n ** 100n), 1n]) add(`bigint/${b}`, BI(b));
  add("array/empty", A());
  add("array/undefined", A(U));
  add("array/mixed", A(N, num(1), S("x"), U, B(true), BI(7)));
  add("array/nested", A(A(A(A(U)))));
  add("array/holes", A(HOLE, num(1), HOLE), "array holes become null");
  add("object/empty", O());
  add("object/undefined-value", O(["a", U]));
  add("object/nested-undefined", O(["n", O(["u", U], ["arr", A(U)])]));
  add("object/placeholder-key-untouched", O(["\u0003R:res-1", num(1)], ["\u0003U", S("\u0003U")]));
  add("object/integer-keys-first", O(["b", num(1)], ["2", num(2)], ["1", num(3)], ["a", num(4)], ["10", num(5)], ["01", num(6)], ["-1", num(7)], ["1.5", num(8)], ["4294967295", num(9)], ["4294967294", num(10)]));
  add("object/proto-key-primitive", O(["__proto__", num(1)], ["b", num(2)]), "own \"__proto__\" key: sanitize assigns it with [[Set]] on a fresh {}, so it is dropped");
  add("object/proto-key-object", O(["__proto__", O(["a", num(1)])], ["b", num(2)]), "own \"__proto__\" key with an object value becomes the prototype of the sanitized copy and vanishes");
  add("object/empty-key", O(["", S("")]));
  add("object/control-key", O(["a\u0000b", num(1)], ["\u2028", num(2)], ["\ud83d\ude00", num(3)]));
  add("object/bigint-values", O(["big", BI(12345678901234567890n)], ["neg", BI(-5)]));
  add("map/empty", M());
  add("map/basic", M([S("a"), num(1)], [num(2), S("b")]));
  add("map/undefined-value", M([S("u"), U]), "Map contents are JSON.stringify'd: undefined -> null");
  add("map/nested-map", M([S("k"), M([S("x"), num(1)])]), "nested Map -> {}");
  add("map/nested-set", M([S("k"), SET(num(1))]), "nested Set -> {}");
  add("map/object-key", M([O(["a", num(1)]), A(num(1), num(2))]));
  add("map/placeholder-strings-raw", M([S("\u0003U"), S("\u0004x")]), "strings inside Map payloads are not escaped");
  add("map/nan-negzero", M([num(NaN), num(-0)]));
  add("map/lone-surrogate", M([S("\ud800"), S("\udfff")]));
  add("map/array-value-with-undefined", M([S("a"), A(U, num(1))]));
  add("map/object-value-with-undefined", M([S("a"), O(["x", U], ["y", num(1)])]), "undefined-valued keys are omitted by JSON.stringify");
  add("map/function-value", M([S("f"), FN]));
  add("map/date-value", M([S("d"), DATE(0)]), "Date inside a Map -> ISO string");
  add("set/empty", SET());
  add("set/basic", SET(num(1), S("x")));
  add("set/mixed", SET(O(["a", num(1)]), A(num(1), num(2)), N, U));
  add("set/nested-map", SET(M([S("a"), num(1)])));
  add("nested/placeholders", O(["map", M([S("a"), num(1)])], ["set", SET(num(1))], ["big", BI(1)], ["undef", U], ["s", S("\u0003U")], ["arr", A(U, BI(-1), M())]));
  add("function/top-level", FN);
  add("function/nested", O(["a", FN], ["b", A(FN, FN)]));
  add("function/same-twice", A(FN, FN));
  add("localref/top-level", REF(O(["a", num(1)])));
  add("localref/nested", O(["r", REF(O())], ["f", FN]));
  add("localref/array-target", REF(A(num(1))));
  add("date/top-level", DATE(0), "top-level Date -> {}");
  add("date/nested", O(["d", DATE(86400000)]));
  add("symbol/top-level", SYM("s"), "Symbol passes sanitize untouched; JSON.stringify makes it null");
  add("symbol/in-object", O(["s", SYM("s")], ["t", num(1)]), "symbol-valued keys are omitted");
  add("symbol/in-array", A(SYM("s")));
  return v.map((c) => ({ ...c, desc: canonical(c.desc) }));
}

const KEY_POOL = ["a", "b", "key", "0", "1", "10", "01", "-1", "1.5", "", " ", "\u00e9", "\ud83d\ude00", "\u0003U", "\u0004", "x y", "\"", "\\", "\n", "constructor", "toString", "length"];

function randNumber(rng) {
  const r = rng.int(4);
  if (r === 0) return rng.pick([0, -0, 1, -1, NaN, Infinity, -Infinity, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, 2 ** 53, 2 ** 60]);
  if (r === 1) {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setUint32(0, rng.u32());
    dv.setUint32(4, rng.u32());
    return dv.getFloat64(0);
  }
  if (r === 2) return (rng.u32() % 100000) - 50000;
  return Math.round(rng.float() * 1e9) / 1e4;
}

function randString(rng) {
  let s = randomString(rng, 8);
  const r = rng.int(10);
  if (r === 0) s = "\u0003" + rng.pick(["U", "R:res-9", "M:[]", "S:[1]", "N:5", "Z:x", ""]) + s;
  else if (r === 1) s = "\u0004" + s;
  return s;
}

// inJson: inside a Map/Set payload (no BigInt, which would throw; anything else is allowed)
function randDesc(rng, depth, inJson) {
  const leafKinds = inJson ? ["undefined", "null", "bool", "number", "string"] : ["undefined", "null", "bool", "number", "string", "bigint"];
  const kinds = depth <= 0 ? leafKinds : [...leafKinds, "array", "object", "array", "object", "map", "set"];
  switch (rng.pick(kinds)) {
    case "undefined":
      return U;
    case "null":
      return N;
    case "bool":
      return B(rng.bool());
    case "number":
      return num(randNumber(rng));
    case "string":
      return S(randString(rng));
    case "bigint": {
      let s = String(rng.u32()) + String(rng.u32());
      s = s.replace(/^0+(?=\d)/, "");
      return BI(rng.bool() ? "-" + s : s);
    }
    case "array": {
      const n = rng.int(5);
      return A(...Array.from({ length: n }, () => randDesc(rng, depth - 1, inJson)));
    }
    case "object": {
      const n = rng.int(5);
      return O(...Array.from({ length: n }, () => [rng.bool() ? rng.pick(KEY_POOL) : randomString(rng, 4).replace(/[\ud800-\udfff]/g, "s"), randDesc(rng, depth - 1, inJson)]));
    }
    case "map": {
      const n = rng.int(4);
      return M(...Array.from({ length: n }, () => [randDesc(rng, depth - 1, true), randDesc(rng, depth - 1, true)]));
    }
    case "set": {
      const n = rng.int(4);
      return SET(...Array.from({ length: n }, () => randDesc(rng, depth - 1, true)));
    }
  }
}

export function randomValues(count) {
  const rng = mulberry32(0x5eed0003);
  const out = [];
  for (let i = 0; i < count; i++) out.push({ name: `random/${i}`, desc: canonical(randDesc(rng, 1 + rng.int(3), false)) });
  return out;
}
