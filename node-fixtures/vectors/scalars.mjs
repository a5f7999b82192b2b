// numbers.json and strings.json: JSON.stringify of numbers and strings.
import { mulberry32 } from "./prng.mjs";
import { numToHex, hexToNum, strDesc } from "./desc.mjs";

const nextUp = (x) => {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const b = dv.getBigUint64(0);
  if (x === 0) return 5e-324;
  dv.setBigUint64(0, x > 0 ? b + 1n : b - 1n);
  return dv.getFloat64(0);
};
const nextDown = (x) => -nextUp(-x);

export function numberCases() {
  const cases = [];
  const seen = new Set();
  const addBits = (name, bits) => {
    if (seen.has(bits)) return;
    seen.add(bits);
    cases.push({ name, bits, json: JSON.stringify(hexToNum(bits)) });
  };
  const add = (name, x) => addBits(name, numToHex(x));

  const edges = [
    ["zero", 0], ["neg-zero", -0], ["one", 1], ["neg-one", -1], ["0.1", 0.1], ["0.2", 0.2], ["0.1+0.2", 0.1 + 0.2],
    ["0.5", 0.5], ["1.5", 1.5], ["1/3", 1 / 3], ["2/3", 2 / 3], ["-1/3", -1 / 3], ["10", 10], ["100", 100], ["1e6", 1e6],
    ["123.456", 123.456], ["-123.456", -123.456], ["0.000123", 0.000123], ["1e20", 1e20], ["1e21", 1e21], ["1e22", 1e22],
    ["-1e21", -1e21], ["1.2345678901234568e20", 123456789012345680000], ["999999999999999900000", 999999999999999900000],
    ["1e-6", 1e-6], ["1e-7", 1e-7], ["1.5e-7", 1.5e-7], ["-1e-7", -1e-7], ["9.999999999999999e-7", 9.999999999999999e-7],
    ["1e-5", 1e-5], ["5e-324", 5e-324], ["-5e-324", -5e-324], ["1e-323", 1e-323], ["min-normal", 2.2250738585072014e-308],
    ["max-subnormal", 2.225073858507201e-308], ["max-double", Number.MAX_VALUE], ["neg-max-double", -Number.MAX_VALUE],
    ["max-safe", Number.MAX_SAFE_INTEGER], ["min-safe", Number.MIN_SAFE_INTEGER], ["2^53", 2 ** 53],
    ["2^53+1-literal", 9007199254740993], ["2^53+2", 2 ** 53 + 2], ["2^60", 2 ** 60], ["2^63", 2 ** 63], ["2^64", 2 ** 64],
    ["2^31-1", 2 ** 31 - 1], ["2^31", 2 ** 31], ["-2^31", -(2 ** 31)], ["2^32", 2 ** 32], ["2^32+1", 2 ** 32 + 1],
    ["1e300", 1e300], ["1e308", 1e308], ["1e-300", 1e-300], ["pi", Math.PI], ["e", Math.E], ["-pi", -Math.PI],
    ["sqrt2", Math.SQRT2], ["epsilon", Number.EPSILON], ["1+epsilon", 1 + Number.EPSILON], ["0.3", 0.3],
    ["1.7976931348623157e308", 1.7976931348623157e308], ["4.35", 4.35], ["0.07", 0.07], ["5e-7", 5e-7], ["1.1e-6", 1.1e-6],
    ["100e-9", 100e-9], ["12345678.9", 12345678.9], ["0.000001234", 0.000001234], ["1.23e-7", 1.23e-7],
    ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity],
  ];
  for (const [n, x] of edges) add(`edge:${n}`, x);
  for (const bits of ["7ff8000000000001", "fff8000000000000", "7ff0000000000001", "7fffffffffffffff", "ffffffffffffffff", "7ff4000000000000"])
    addBits(`edge:nan-bits-${bits}`, bits);
  for (let i = -20; i <= 20; i++) add(`int:${i}`, i);
  for (let e = -30; e <= 30; e++) {
    const x = Number(`1e${e}`);
    add(`pow10:1e${e}`, x);
    add(`pow10-up:1e${e}`, nextUp(x));
    add(`pow10-down:1e${e}`, nextDown(x));
  }
  for (let e = -1074; e <= 1023; e += 37) add(`pow2:2^${e}`, 2 ** e);
  for (const e of [-1074, -1073, -1023, -1022, -1021, 52, 53, 54, 69, 70, 1022, 1023]) add(`pow2:2^${e}`, 2 ** e);

  const rng = mulberry32(0x5eed0001);
  for (let i = 0; i < 200; i++) {
    const hi = rng.u32().toString(16).padStart(8, "0");
    const lo = rng.u32().toString(16).padStart(8, "0");
    addBits(`rand-bits:${i}`, hi + lo);
  }
  for (let i = 0; i < 150; i++) {
    const digits = 1 + rng.int(17);
    let m = String(1 + rng.int(9));
    for (let k = 1; k < digits; k++) m += String(rng.int(10));
    const exp = rng.int(61) - 30;
    const sign = rng.bool() ? "-" : "";
    const text = `${sign}${m[0]}.${m.slice(1) || "0"}e${exp}`;
    add(`rand-dec:${text}`, parseFloat(text));
  }
  for (let i = 0; i < 50; i++) {
    const x = (rng.u32() % 2 ** 21) * 2 ** 32 + rng.u32();
    add(`rand-int:${i}`, rng.bool() ? x : -x);
  }
  for (let i = 0; i < 50; i++) add(`rand-small:${i}`, Math.round(rng.float() * 1e6) / 1000);
  return cases;
}

export function randomString(rng, maxLen) {
  const len = rng.int(maxLen + 1);
  const units = [];
  for (let i = 0; i < len; i++) {
    const r = rng.int(100);
    if (r < 40) units.push(0x20 + rng.int(0x5f));
    else if (r < 50) units.push(rng.int(0x20));
    else if (r < 55) units.push(rng.pick([0x22, 0x5c, 0x2f, 0x7f, 0x3c, 0x3e, 0x26, 0x27, 0x03, 0x04]));
    else if (r < 65) units.push(0x80 + rng.int(0x780));
    else if (r < 80) units.push(0x800 + rng.int(0xd800 - 0x800));
    else if (r < 85) units.push(0xe000 + rng.int(0x2000));
    else if (r < 90) units.push(0xd800 + rng.int(0x800)); // lone or accidental pair surrogate
    else if (r < 95) {
      const cp = 0x10000 + rng.int(0x100000);
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else units.push(rng.pick([0x2028, 0x2029, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x85, 0xa0]));
  }
  return String.fromCharCode(...units);
}

export function stringCases() {
  const cases = [];
  const add = (name, s) => cases.push({ name, s: strDesc(s), json: JSON.stringify(s) });
  for (let c = 0; c < 0x20; c++) add(`control:${c.toString(16).padStart(2, "0")}`, String.fromCharCode(c));
  for (let c = 0; c < 0x20; c++) add(`control-embedded:${c.toString(16).padStart(2, "0")}`, `a${String.fromCharCode(c)}b`);
  for (let c = 0x7f; c <= 0x9f; c++) add(`c1:${c.toString(16)}`, String.fromCharCode(c));
  const named = [
    ["empty", ""], ["plain", "hello world"], ["quote", '"'], ["backslash", "\\"], ["slash", "/"], ["lt-gt-amp", "<>&"],
    ["html", "<script>alert('x')</script>"], ["apostrophe", "'"], ["u2028", "\u2028"], ["u2029", "\u2029"],
    ["u2028-embedded", "a\u2028b\u2029c"], ["lone-high-d800", "\ud800"], ["lone-high-dbff", "\udbff"],
    ["lone-low-dc00", "\udc00"], ["lone-low-dfff", "\udfff"], ["reversed-pair", "\udc00\ud800"],
    ["high-at-end", "abc\ud83d"], ["low-at-start", "\ude00abc"], ["two-highs", "\ud800\ud800"],
    ["high-then-ascii", "x\ud800y"], ["pair-10000", "\ud800\udc00"], ["pair-10ffff", "\udbff\udfff"],
    ["emoji", "\ud83d\ude00"], ["emoji-mixed", "a\ud83d\ude00b\ud83c\udf89c"], ["pair-then-lone", "\ud83d\ude00\ud83d"],
    ["fffd", "\ufffd"], ["bom", "\ufeff"], ["ffff", "\uffff"], ["fffe", "\ufffe"], ["e-acute", "\u00e9"],
    ["combining", "e\u0301"], ["nul", "\u0000"], ["u0003U", "\u0003U"], ["u0004", "\u0004"], ["del", "\u007f"],
    ["nbsp", "\u00a0"], ["cjk", "\u4e2d\u6587"], ["rtl", "\u05e9\u05dc\u05d5\u05dd"], ["zwj", "\u200d"],
    ["all-escapes", "\"\\\b\f\n\r\t"], ["printable-ascii", Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")],
    ["long-ascii-5000", "x".repeat(5000)], ["long-mixed", "\u00e9\ud83d\ude00\u0001\"".repeat(500)],
    ["surrogate-range-edges", "\ud7ff\ue000"],
  ];
  for (const [n, s] of named) add(n, s);
  const rng = mulberry32(0x5eed0002);
  for (let i = 0; i < 200; i++) add(`rand:${i}`, randomString(rng, 24));
  return cases;
}
