// Error codes of the installed @nexus-js/core and @nexus-js/node-ipc, read from their dist files (no
// code of theirs runs). Output: compat/testdata/errcodes.json, one case per code (FORMAT.md).
//
// What counts as an error code: a string literal that is exactly "E_[A-Z0-9_]+" and stands in one of
// these places (found with a small JS tokenizer, so comments, template text and regex bodies never match):
//   field    `code = "E_X"` class field                          (class: the class)
//   assign   `this.code = "E_X"`                                  (class: the enclosing class)
//   default  `constructor(m, c = "E_X")` default parameter        (class: the class)
//   super    `super(m, "E_X", ...)` second argument               (class: the enclosing class)
//   new      `new X(m, "E_X", ...)` second argument               (class: X, resolved across chunks)
//   helper   `f(err, "E_X")` where f is a function of the same file that passes that parameter on to
//            `new X(...)` (node-ipc's `F(cause, code)` wrapper)   (class: X)
//   literal  `{ ..., code: "E_X" }` object literal property       (name: a sibling `name: "..."` literal,
//            or X for `Object.assign(new X(...), {code: "E_X"})`)
//   compare  `e.code === "E_X"` (or `t === "E_X"` with t = String(e.code): every E_ comparison in 1.2.0
//            compares an error's code; read in context)
// The literal may be one branch of a `?:` inside those positions. A code is "produced" when it has a use
// other than compare; E_TARGET_NO_MATCH is only compared (core's relay maps it) and core 1.2.0 never
// creates it, so it is listed with produced:false.
//
// Any other E_ literal makes the generator fail, as does a reviewed exclusion below that no longer
// matches: a new dist must be read again, not silently absorbed.
//
// Not codes, decided by reading the dist (none of them is an "E_..." string literal, so the tokenizer
// never even sees them as candidates; a raw `grep -o 'E_[A-Z0-9_]*'` does):
//   E_ACK, E_REQ, E_READY, E_REJECT  tails of the enum members HANDSHAKE_ACK/_REQ/_READY/_REJECT (packet types)
//   E_DIR                            tail of XDG_RUNTIME_DIR (node-ipc's default socket directory)
//   E_EFFECTS__                      tail of the bundler annotation /* @__NO_SIDE_EFFECTS__ */ (bundled zod)
//   E_INFINITY, E_INTEGER            tails of Number.POSITIVE_/NEGATIVE_INFINITY, Number.MAX_/MIN_SAFE_INTEGER
//   E_FAILED                         tail of "VIRTUAL_PORT_CLOSE_FAILED" and of E_HANDSHAKE_FAILED
//   E_ON_DISCONNECT, E_INVOKE_START, E_INVOKE_END, E_PROXY_SYMBOL, E_CONNECTION_DISCONNECT_SYMBOL,
//   E_CONNECTION_TARGET_STALE_SYMBOL tails of SERVICE_ON_DISCONNECT, SERVICE_INVOKE_START/_END,
//                                    RELEASE_PROXY_SYMBOL, NEXUS_SUBSCRIBE_CONNECTION_*_SYMBOL (symbol keys)
// Node's own codes (ENOENT, ECONNREFUSED, compared by node-ipc) and zod's issue codes ("too_big", ...)
// have no E_ prefix and are not Nexus codes. The virtual-port transport's errors carry codes without the
// E_ prefix ("VIRTUAL_PORT_PROTOCOL_INVALID", "..._CONNECT_FAILED", "..._LISTEN_FAILED",
// "..._CLOSE_FAILED"): they are out of scope here (in-process transport, not on the node-ipc wire).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

// Reviewed E_ literals that are not codes of the library. Each must still match exactly once per run.
const EXCLUDED = [
  {
    pkg: "core",
    file: "dist/internal/serializer-benchmark.mjs",
    code: "E_REMOTE_CALL_FAILED",
    why: "sample ERR packet payload in the serializer benchmark fixtures; never thrown or sent",
  },
];
// E_ codes that appear only in comments: the NexusError JSDoc (`e.g., 'E_CONN_TIMEOUT', 'E_TARGET_NOT_FOUND'`)
// gives examples that 1.2.0 never uses. Checked so that a new comment-only code is noticed.
const COMMENT_ONLY = ["E_CONN_TIMEOUT", "E_TARGET_NOT_FOUND"];

const PACKAGES = [
  ["core", "@nexus-js/core"],
  ["node-ipc", "@nexus-js/node-ipc"],
];
const CODE_RE = /^E_[A-Z0-9_]+$/;
const CODE_ANY_RE = /\bE_[A-Z0-9_]+\b/g;

// ---------------------------------------------------------------- tokenizer

const PUNCT = [
  ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=",
  "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=",
  "&=", "|=", "^=", "**", "<<", ">>",
];
const REGEX_AFTER_WORD = new Set([
  "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else",
  "yield", "await",
]);
const isIdStart = (c) => /[A-Za-z_$\u0080-\uffff]/.test(c);
const isIdPart = (c) => /[\w$\u0080-\uffff]/.test(c);

// tokenize returns {tokens, comments}: tokens are {t: "id"|"str"|"tpl"|"num"|"re"|"p", v, line};
// "str" has v = the raw text between the quotes; "tpl" is a template chunk.
function tokenize(src, where) {
  const tokens = [];
  const comments = [];
  let i = 0;
  let line = 1;
  const tplBraces = []; // for each open `${`: the brace depth at which it closes
  let braces = 0;
  const fail = (msg) => {
    throw new Error(`${where}:${line}: tokenizer: ${msg}`);
  };
  const count = (s) => {
    for (const ch of s) if (ch === "\n") line++;
  };
  const regexAllowed = () => {
    const p = tokens[tokens.length - 1];
    if (!p) return true;
    if (p.t === "id") return REGEX_AFTER_WORD.has(p.v);
    if (p.t === "p") return !(p.v === ")" || p.v === "]" || p.v === "}" || p.v === "++" || p.v === "--");
    return false;
  };
  const template = () => {
    // at the char after ` or after the } closing a substitution
    const start = i;
    const l0 = line;
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "`") {
        const v = src.slice(start, i);
        count(v);
        tokens.push({ t: "tpl", v, line: l0 });
        i++;
        return;
      }
      if (c === "$" && src[i + 1] === "{") {
        const v = src.slice(start, i);
        count(v);
        tokens.push({ t: "tpl", v, line: l0 });
        i += 2;
        tplBraces.push(braces);
        return;
      }
      i++;
    }
    fail("unterminated template");
  };
  if (src.startsWith("#!")) while (i < src.length && src[i] !== "\n") i++;
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\ufeff" || c === "\u2028" || c === "\u2029") {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      comments.push({ v: src.slice(i, stop), line });
      i = stop;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) fail("unterminated comment");
      const v = src.slice(i, end + 2);
      comments.push({ v, line });
      count(v);
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") j++;
        else if (src[j] === "\n") fail("newline in string");
        j++;
      }
      if (j >= src.length) fail("unterminated string");
      tokens.push({ t: "str", v: src.slice(i + 1, j), line });
      i = j + 1;
      continue;
    }
    if (c === "`") {
      i++;
      template();
      continue;
    }
    if (c === "}" && tplBraces.length && tplBraces[tplBraces.length - 1] === braces) {
      tplBraces.pop();
      i++;
      template();
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < src.length && isIdPart(src[j])) j++;
      tokens.push({ t: "id", v: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1]))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)n?/.exec(src.slice(i, i + 64));
      if (!m || !m[0]) fail("bad number");
      tokens.push({ t: "num", v: m[0], line });
      i += m[0].length;
      continue;
    }
    if (c === "/" && regexAllowed()) {
      let j = i + 1;
      let cls = false;
      for (; j < src.length; j++) {
        const d = src[j];
        if (d === "\\") j++;
        else if (d === "\n") fail("newline in regex");
        else if (d === "[") cls = true;
        else if (d === "]") cls = false;
        else if (d === "/" && !cls) break;
      }
      j++;
      while (j < src.length && isIdPart(src[j])) j++;
      tokens.push({ t: "re", v: src.slice(i, j), line });
      i = j;
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i)) ?? c;
    if (p === "{") braces++;
    if (p === "}") braces--;
    tokens.push({ t: "p", v: p, line });
    i += p.length;
  }
  if (tplBraces.length) fail("unterminated template substitution");
  // Bracket matching: open[k] = index of the bracket enclosing token k (-1 at top level), match[] pairs.
  const open = new Array(tokens.length);
  const match = new Array(tokens.length).fill(-1);
  const stack = [];
  const pairs = { ")": "(", "]": "[", "}": "{" };
  tokens.forEach((tk, k) => {
    open[k] = stack.length ? stack[stack.length - 1] : -1;
    if (tk.t !== "p") return;
    if (tk.v === "(" || tk.v === "[" || tk.v === "{") stack.push(k);
    else if (pairs[tk.v]) {
      const o = stack.pop();
      if (o === undefined || tokens[o].v !== pairs[tk.v]) fail(`unbalanced ${tk.v} at token ${k}`);
      match[o] = k;
      match[k] = o;
      open[k] = stack.length ? stack[stack.length - 1] : -1;
    }
  });
  if (stack.length) fail("unclosed bracket");
  return { tokens, comments, open, match };
}

// ---------------------------------------------------------------- module structure

const is = (tk, v) => tk && tk.t === "p" && tk.v === v;
const isId = (tk, v) => tk && tk.t === "id" && (v === undefined || tk.v === v);

// Parses one file: classes, functions, imports, exports.
function analyze(mod) {
  const { tokens: T, match } = mod;
  mod.classes = new Map(); // local name -> {name, base, open, close, nameDef, ctor:{paramsOpen, bodyOpen}}
  mod.functions = new Map(); // local name -> {params:[names], open, close}
  mod.imports = new Map(); // local -> {spec, imported}
  mod.exports = new Map(); // exported -> {local} | {spec, imported}
  mod.classAt = []; // [open, close, class]
  for (let k = 0; k < T.length; k++) {
    const tk = T[k];
    if (isId(tk, "class") && !is(T[k - 1], ".")) {
      let j = k + 1;
      let name = null;
      if (isId(T[j]) && T[j].v !== "extends") name = T[j++].v;
      let base = null;
      if (isId(T[j], "extends")) {
        j++;
        if (isId(T[j]) && is(T[j + 1], "{")) base = T[j++].v;
        else while (j < T.length && !is(T[j], "{")) j++;
      }
      if (!is(T[j], "{")) continue;
      if (!name && is(T[k - 1], "=") && isId(T[k - 2])) name = T[k - 2].v;
      const cls = { name, base, open: j, close: match[j], nameDef: null, ctor: null };
      // members at depth 0 of the body
      for (let m = j + 1; m < cls.close; m++) {
        if (is(T[m], "{") || is(T[m], "(") || is(T[m], "[")) {
          m = match[m];
          continue;
        }
        if (isId(T[m], "name") && is(T[m + 1], "=") && T[m + 2]?.t === "str" && !is(T[m - 1], "."))
          cls.nameDef ??= { lit: T[m + 2].v };
        if (isId(T[m], "constructor") && is(T[m + 1], "(") && is(T[match[m + 1] + 1], "{")) {
          cls.ctor = { paramsOpen: m + 1, bodyOpen: match[m + 1] + 1 };
          const b = cls.ctor.bodyOpen;
          for (let q = b + 1; q < match[b]; q++) {
            if (!(isId(T[q], "this") && is(T[q + 1], ".") && isId(T[q + 2], "name") && is(T[q + 3], "="))) continue;
            if (T[q + 4]?.t === "str") cls.nameDef = { lit: T[q + 4].v };
            else if (isId(T[q + 4], "this") && isId(T[q + 6], "constructor") && isId(T[q + 8], "name"))
              cls.nameDef = { ctorName: true };
          }
        }
      }
      if (name) mod.classes.set(name, cls);
      mod.classAt.push([cls.open, cls.close, cls]);
    }
    // function NAME(params) {   |   NAME = (params) => ...   |   NAME = function (params)
    let fname = null;
    let po = -1;
    if (isId(tk, "function") && isId(T[k + 1]) && is(T[k + 2], "(")) {
      fname = T[k + 1].v;
      po = k + 2;
    } else if (isId(tk) && is(T[k + 1], "=") && !is(T[k - 1], ".") && is(T[k + 2], "(") && is(T[match[k + 2] + 1], "=>")) {
      fname = tk.v;
      po = k + 2;
    }
    if (fname) {
      const params = [];
      for (let q = po + 1; q < match[po]; q++) {
        if (isId(T[q]) && (is(T[q - 1], "(") || is(T[q - 1], ",")) && T[q - 1] && (q - 1 === po || is(T[q - 1], ","))) params.push(T[q].v);
        if (is(T[q], "(") || is(T[q], "[") || is(T[q], "{")) q = match[q];
      }
      let end = match[po] + 1;
      if (is(T[end], "=>")) end++;
      let close;
      if (is(T[end], "{")) close = match[end];
      else {
        close = end;
        while (close < T.length && !is(T[close], ",") && !is(T[close], ";") && !(is(T[close], ")") || is(T[close], "]") || is(T[close], "}"))) {
          if (is(T[close], "(") || is(T[close], "[") || is(T[close], "{")) close = match[close];
          close++;
        }
      }
      mod.functions.set(fname, { params, open: po, close });
    }
    // import { a as b, c } from "spec"   |   export { a as b } [from "spec"]
    if ((isId(tk, "import") || isId(tk, "export")) && is(T[k + 1], "{") && (k === 0 || !is(T[k - 1], "."))) {
      const close = match[k + 1];
      const specTok = isId(T[close + 1], "from") ? T[close + 2] : null;
      const spec = specTok?.t === "str" ? specTok.v : null;
      for (let q = k + 2; q < close; q++) {
        if (!isId(T[q]) || !(is(T[q - 1], "{") || is(T[q - 1], ","))) continue;
        const inner = T[q].v;
        const outer = isId(T[q + 1], "as") ? T[q + 2].v : inner;
        if (tk.v === "import") mod.imports.set(outer, { spec, imported: inner });
        else mod.exports.set(outer, spec ? { spec, imported: inner } : { local: inner });
      }
    }
  }
}

// Resolves an identifier of mod to {mod, cls} (a class), or {global: name} for an unresolved name.
function resolveClass(mods, mod, local, seen = new Set()) {
  const key = `${mod.key}#${local}`;
  if (seen.has(key)) return { global: local };
  seen.add(key);
  if (mod.classes.has(local)) return { mod, cls: mod.classes.get(local) };
  const imp = mod.imports.get(local);
  if (imp && imp.spec && imp.spec.startsWith(".")) {
    const target = mods.get(path.join(path.dirname(mod.abs), imp.spec));
    if (target) return resolveExport(mods, target, imp.imported, seen);
  }
  return { global: local };
}
function resolveExport(mods, mod, exported, seen) {
  const ex = mod.exports.get(exported);
  if (!ex) return { global: exported };
  if (ex.local) return resolveClass(mods, mod, ex.local, seen);
  const target = mods.get(path.join(path.dirname(mod.abs), ex.spec));
  return target ? resolveExport(mods, target, ex.imported, seen) : { global: exported };
}

// The `name` property of an instance of the resolved class: the nearest own or inherited definition;
// `this.name = this.constructor.name` gives the (minified) identifier of the instantiated class.
function runtimeName(mods, r) {
  const start = r;
  for (let depth = 0; depth < 20 && r; depth++) {
    if (r.global) return r.global;
    const d = r.cls.nameDef;
    if (d?.lit !== undefined) return d.lit;
    if (d?.ctorName) return start.cls.name;
    if (!r.cls.base) return "Error"; // a class without extends: no Error subclass, keep it visible
    r = resolveClass(mods, r.mod, r.cls.base);
  }
  return null;
}
function isErrorClass(mods, r) {
  for (let depth = 0; depth < 20 && r; depth++) {
    if (r.global) return /Error$/.test(r.global);
    if (!r.cls.base) return false;
    r = resolveClass(mods, r.mod, r.cls.base);
  }
  return false;
}

// ---------------------------------------------------------------- classification

function enclosingClass(mod, k) {
  let best = null;
  for (const [o, c, cls] of mod.classAt) if (o < k && k < c && (!best || o > best.open)) best = cls;
  return best;
}
// Index of the argument (depth-0 comma count) that token k is in, inside the bracket at o.
function argIndex(mod, o, k) {
  const { tokens: T, match } = mod;
  let n = 0;
  for (let q = o + 1; q < k; q++) {
    if (is(T[q], "(") || is(T[q], "[") || is(T[q], "{")) q = match[q];
    else if (is(T[q], ",")) n++;
  }
  return n;
}
// Start of the depth-0 segment (after `,` or the open bracket) containing k.
function segmentStart(mod, o, k) {
  const { tokens: T, match } = mod;
  let s = o + 1;
  for (let q = o + 1; q < k; q++) {
    if (is(T[q], "(") || is(T[q], "[") || is(T[q], "{")) q = match[q];
    else if (is(T[q], ",") || is(T[q], ";")) s = q + 1;
  }
  return s;
}
const COMPARE = new Set(["===", "!==", "==", "!="]);

// classify returns {kind, target} (target: a resolved class, or {lit} for a literal name) or {kind:"other"}.
function classify(mods, mod, k) {
  const { tokens: T, open } = mod;
  const prev = T[k - 1];
  const next = T[k + 1];
  if ((prev?.t === "p" && COMPARE.has(prev.v)) || (next?.t === "p" && COMPARE.has(next.v))) return { kind: "compare" };
  const o = open[k];
  if (is(prev, "=") && isId(T[k - 2], "code")) {
    if (is(T[k - 3], ".")) {
      const cls = isId(T[k - 4], "this") ? enclosingClass(mod, k) : null;
      return { kind: "assign", target: cls ? { mod, cls } : null };
    }
    const cls = enclosingClass(mod, k);
    if (cls && o === cls.open) return { kind: "field", target: { mod, cls } };
  }
  if (o < 0) return { kind: "other" };
  // default parameter of a constructor
  if (is(prev, "=") && isId(T[k - 2]) && is(T[o], "(") && isId(T[o - 1], "constructor")) {
    const cls = enclosingClass(mod, k);
    if (cls && cls.ctor?.paramsOpen === o) return { kind: "default", target: { mod, cls } };
  }
  if (is(T[o], "{")) {
    const s = segmentStart(mod, o, k);
    const key = T[s];
    if ((isId(key, "code") || (key?.t === "str" && key.v === "code")) && is(T[s + 1], ":")) {
      let target = null;
      // sibling name: "..." in the same object literal
      for (let q = o + 1; q < mod.match[o]; q++) {
        if (is(T[q], "(") || is(T[q], "[") || is(T[q], "{")) q = mod.match[q];
        else if ((is(T[q - 1], "{") || is(T[q - 1], ",")) && isId(T[q], "name") && is(T[q + 1], ":") && T[q + 2]?.t === "str" && (is(T[q + 3], ",") || is(T[q + 3], "}")))
          target = { lit: T[q + 2].v };
      }
      // Object.assign(new X(...), { code: "E_X" })
      const po = open[o];
      if (!target && po >= 0 && is(T[po], "(") && isId(T[po - 1], "assign") && isId(T[po - 3], "Object") && isId(T[po + 1], "new") && isId(T[po + 2]))
        target = resolveClass(mods, mod, T[po + 2].v);
      return { kind: "literal", target };
    }
    return { kind: "other" };
  }
  if (!is(T[o], "(")) return { kind: "other" };
  const arg = argIndex(mod, o, k);
  if (isId(T[o - 1], "super")) {
    const cls = enclosingClass(mod, k);
    return arg === 1 && cls ? { kind: "super", target: { mod, cls } } : { kind: "other" };
  }
  if (isId(T[o - 1]) && isId(T[o - 2], "new")) {
    const target = resolveClass(mods, mod, T[o - 1].v);
    return arg === 1 && isErrorClass(mods, target) ? { kind: "new", target } : { kind: "other" };
  }
  if (isId(T[o - 1]) && !is(T[o - 2], ".") && mod.functions.has(T[o - 1].v)) {
    const fn = mod.functions.get(T[o - 1].v);
    const param = fn.params[arg];
    // new X(..., param, ...) in the function's body
    for (let q = fn.open; q < fn.close; q++) {
      if (!(isId(T[q], "new") && isId(T[q + 1]) && is(T[q + 2], "("))) continue;
      const po = q + 2;
      for (let a = po + 1; a < mod.match[po]; a++)
        if (isId(T[a], param) && (is(T[a - 1], ",") || a === po + 1) && (is(T[a + 1], ",") || is(T[a + 1], ")")) && argIndex(mod, po, a) === 1) {
          const target = resolveClass(mods, mod, T[q + 1].v);
          if (isErrorClass(mods, target)) return { kind: "helper", target };
        }
    }
  }
  return { kind: "other" };
}

// ---------------------------------------------------------------- files

function distFiles(pkgDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(mjs|js)$/.test(e.name)) out.push(p);
    }
  };
  walk(path.join(pkgDir, "dist"));
  // Prefer ESM: a .js next to a .mjs of the same name is the UMD/CJS duplicate (node-ipc's index.js).
  // It is checked to hold the same E_ literals, then skipped.
  const dups = out.filter((p) => p.endsWith(".js") && out.includes(p.slice(0, -3) + ".mjs"));
  return { files: out.filter((p) => !dups.includes(p)), dups };
}

const codeLiterals = (mod) => [...new Set(mod.tokens.filter((t) => t.t === "str" && CODE_RE.test(t.v)).map((t) => t.v))].sort();

export function errcodeCases(nodeModules = path.join(here, "..", "node_modules")) {
  const mods = new Map();
  const order = [];
  for (const [pkg, name] of PACKAGES) {
    const pkgDir = path.join(nodeModules, name);
    const { files, dups } = distFiles(pkgDir);
    for (const abs of files) {
      const rel = path.relative(pkgDir, abs).split(path.sep).join("/");
      const mod = { pkg, rel, abs, key: `${pkg}/${rel}`, ...tokenize(fs.readFileSync(abs, "utf8"), `${name}/${rel}`) };
      analyze(mod);
      mods.set(abs, mod);
      order.push(mod);
    }
    for (const abs of dups) {
      const rel = path.relative(pkgDir, abs).split(path.sep).join("/");
      const dup = tokenize(fs.readFileSync(abs, "utf8"), `${name}/${rel}`);
      const esm = mods.get(abs.slice(0, -3) + ".mjs");
      const a = codeLiterals(dup).join(","), b = codeLiterals(esm).join(",");
      if (a !== b) throw new Error(`errcodes: ${name}/${rel} (skipped as a duplicate) has E_ literals ${a}, its .mjs has ${b}`);
    }
  }
  // Public names: exports of the packages' "import" entry points.
  const publicNames = new Map(); // cls -> Set(names)
  for (const [, name] of PACKAGES) {
    const pkgDir = path.join(nodeModules, name);
    const pj = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    for (const ent of Object.values(pj.exports ?? {})) {
      const mod = typeof ent?.import === "string" ? mods.get(path.join(pkgDir, ent.import)) : null;
      if (!mod) continue;
      for (const exported of mod.exports.keys()) {
        const r = resolveExport(mods, mod, exported, new Set());
        if (r.cls) {
          if (!publicNames.has(r.cls)) publicNames.set(r.cls, new Set());
          publicNames.get(r.cls).add(exported);
        }
      }
    }
  }

  const codes = new Map();
  const excludedHits = new Map(EXCLUDED.map((e) => [e, 0]));
  const problems = [];
  for (const mod of order) {
    mod.tokens.forEach((tk, k) => {
      if ((tk.t === "str" || tk.t === "tpl") && !CODE_RE.test(tk.v) && CODE_ANY_RE.test(tk.v)) {
        CODE_ANY_RE.lastIndex = 0;
        problems.push(`${mod.key}:${tk.line}: E_ code inside a longer string or template: ${JSON.stringify(tk.v.slice(0, 80))}`);
      }
      CODE_ANY_RE.lastIndex = 0;
      if (tk.t !== "str" || !CODE_RE.test(tk.v)) return;
      const ex = EXCLUDED.find((e) => e.pkg === mod.pkg && e.file === mod.rel && e.code === tk.v);
      if (ex) {
        excludedHits.set(ex, excludedHits.get(ex) + 1);
        return;
      }
      const c = classify(mods, mod, k);
      if (c.kind === "other") {
        problems.push(`${mod.key}:${tk.line}: ${tk.v} in an unreviewed context`);
        return;
      }
      if (!codes.has(tk.v)) codes.set(tk.v, { packages: new Set(), uses: new Set(), names: new Set(), classes: new Set(), sites: [] });
      const e = codes.get(tk.v);
      e.packages.add(mod.pkg);
      e.uses.add(c.kind);
      const site = `${mod.key}:${tk.line}`;
      if (!e.sites.includes(site)) e.sites.push(site);
      const t = c.target;
      if (t?.lit !== undefined) e.names.add(t.lit);
      else if (t) {
        const n = runtimeName(mods, t);
        if (n) e.names.add(n);
        for (const p of (t.cls && publicNames.get(t.cls)) ?? []) e.classes.add(p);
      }
    });
  }
  for (const [ex, n] of excludedHits) if (n !== 1) problems.push(`reviewed exclusion ${ex.code} in ${ex.pkg}/${ex.file} matched ${n} times (expected 1): read the dist again`);
  const inComments = new Set();
  for (const mod of order) for (const cm of mod.comments) for (const m of cm.v.matchAll(CODE_ANY_RE)) if (!codes.has(m[0])) inComments.add(m[0]);
  const commentOnly = [...inComments].sort();
  if (commentOnly.join(",") !== [...COMMENT_ONLY].sort().join(","))
    problems.push(`codes mentioned only in comments: ${commentOnly.join(", ")}; reviewed: ${COMMENT_ONLY.join(", ")}`);
  if (problems.length) throw new Error(`errcodes: review needed:\n  ${problems.join("\n  ")}`);

  const sorted = (s) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted(codes.keys()).map((code) => {
    const e = codes.get(code);
    const uses = sorted(e.uses);
    return {
      name: code,
      code,
      packages: PACKAGES.map(([p]) => p).filter((p) => e.packages.has(p)),
      produced: uses.some((u) => u !== "compare"),
      uses,
      names: sorted(e.names),
      classes: sorted(e.classes),
      sites: e.sites,
    };
  });
}
