// Value descriptions ("desc") shared by the generator and the child daemon.
// See compat/testdata/FORMAT.md for the tag table.

const RELEASE = Symbol.for("nexus.proxy.release");

export function numToHex(x) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, false);
  let s = "";
  for (let i = 0; i < 8; i++) s += dv.getUint8(i).toString(16).padStart(2, "0");
  return s;
}

export function hexToNum(h) {
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 8; i++) dv.setUint8(i, parseInt(h.slice(2 * i, 2 * i + 2), 16));
  return dv.getFloat64(0, false);
}

export function isWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

export function strDesc(s) {
  if (isWellFormed(s)) return { t: "string", v: s };
  const u16 = [];
  for (let i = 0; i < s.length; i++) u16.push(s.charCodeAt(i));
  return { t: "string", u16 };
}

export function descString(d) {
  if (d.u16) return String.fromCharCode(...d.u16);
  return d.v;
}

// describe(x, refIdOf): refIdOf(releaseFn) returns the resource id of a remote proxy, or undefined.
export function describe(x, refIdOf = () => undefined) {
  switch (typeof x) {
    case "undefined":
      return { t: "undefined" };
    case "boolean":
      return { t: "bool", v: x };
    case "number":
      return { t: "number", v: numToHex(x) };
    case "string":
      return strDesc(x);
    case "bigint":
      return { t: "bigint", v: x.toString() };
    case "symbol":
      return { t: "symbol", v: x.description ?? "" };
    case "function": {
      let rel;
      try {
        rel = x[RELEASE];
      } catch {
        rel = undefined;
      }
      const id = typeof rel === "function" ? refIdOf(rel) : undefined;
      return id !== undefined ? { t: "ref", v: id } : { t: "function" };
    }
  }
  if (x === null) return { t: "null" };
  if (Array.isArray(x)) {
    const v = [];
    for (let i = 0; i < x.length; i++) v.push(i in x ? describe(x[i], refIdOf) : { t: "hole" });
    return { t: "array", v };
  }
  if (x instanceof Map) return { t: "map", v: [...x.entries()].map(([k, v]) => [describe(k, refIdOf), describe(v, refIdOf)]) };
  if (x instanceof Set) return { t: "set", v: [...x.values()].map((v) => describe(v, refIdOf)) };
  if (x instanceof Date) return { t: "date", v: x.getTime() };
  const v = [];
  for (const k of Object.keys(x)) v.push([k, describe(x[k], refIdOf)]);
  return { t: "object", v };
}

// build(desc, hooks): hooks.ref(obj) wraps with nexus.ref (daemon only).
export function build(d, hooks = {}) {
  switch (d.t) {
    case "undefined":
      return undefined;
    case "null":
      return null;
    case "bool":
      return d.v;
    case "number":
      return hexToNum(d.v);
    case "string":
      return descString(d);
    case "bigint":
      return BigInt(d.v);
    case "symbol":
      return Symbol(d.v);
    case "function":
      return function vectorFn() {};
    case "date":
      return new Date(d.v);
    case "array": {
      const a = new Array(d.v.length);
      d.v.forEach((e, i) => {
        if (e.t !== "hole") a[i] = build(e, hooks);
      });
      return a;
    }
    case "object": {
      const o = {};
      for (const [k, e] of d.v)
        Object.defineProperty(o, k, { value: build(e, hooks), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case "map":
      return new Map(d.v.map(([k, e]) => [build(k, hooks), build(e, hooks)]));
    case "set":
      return new Set(d.v.map((e) => build(e, hooks)));
    case "localref":
      if (!hooks.ref) throw new Error("localref needs a ref hook");
      return hooks.ref(build(d.v, hooks));
    default:
      throw new Error(`cannot build desc tag ${d.t}`);
  }
}
