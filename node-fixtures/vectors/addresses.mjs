// addresses.json: NodeIpcAddress from @nexus-js/node-ipc 0.6.0.
import { NodeIpcAddress as A, usingNodeIpcDaemon } from "@nexus-js/node-ipc";

function okOut(addr) {
  if (addr && addr.kind === "path") return { ok: addr.path };
  return { okAddress: { ...addr } }; // abstract (or odd) address: the whole normalized object
}
function errOut(e) {
  if (e && typeof e.code === "string" && e.name === "NodeIpcError") return { code: e.code, message: e.message };
  return { code: null, thrown: `${e?.name}: ${e?.message}` };
}
const fromResult = (r) => (r.isOk() ? okOut(r.value) : errOut(r.error));

function resolverFn(spec) {
  switch (spec.t) {
    case "none":
      return undefined;
    case "return":
      return () => (spec.v === undefined ? undefined : structuredClone(spec.v));
    case "return-undefined":
      return () => undefined;
    case "throw":
      return () => {
        throw new Error(spec.message);
      };
    case "template":
      // returns {kind:"path", path: prefix + appId + "/" + (instance ?? "default") + ".sock"}
      return (t) => ({ kind: "path", path: `${spec.prefix}${t.appId}/${t.instance ?? "default"}.sock` });
    default:
      throw new Error("bad resolver spec");
  }
}

export function addressCases() {
  const cases = [];
  const u16len = (s) => s.length;
  const u8len = (s) => Buffer.byteLength(s, "utf8");

  // ---- default resolution: NodeIpcAddress.defaultResolve(target, {env, uid})
  const def = (name, target, env, uid) => {
    const r = A.defaultResolve(target, { env, uid });
    const c = { name: `default/${name}`, kind: "default", target, env, uid, ...fromResult(r) };
    if (c.ok !== undefined) Object.assign(c, { okUtf16Len: u16len(c.ok), okUtf8Len: u8len(c.ok) });
    cases.push(c);
  };
  const T = (appId, instance) => {
    const t = { context: "node-ipc-daemon", appId };
    if (instance !== undefined) t.instance = instance;
    return t;
  };
  const XDG = { XDG_RUNTIME_DIR: "/run/user/1000" };
  def("xdg-set/default-instance", T("myapp"), XDG, 1000);
  def("xdg-set/explicit-instance", T("myapp", "main"), XDG, 1000);
  def("xdg-set/instance-null-means-default", { context: "node-ipc-daemon", appId: "myapp", instance: null }, XDG, 1000);
  def("xdg-unset/uid-1000", T("myapp"), {}, 1000);
  def("xdg-unset/uid-0", T("myapp"), {}, 0);
  def("xdg-empty/uid-1000", T("myapp"), { XDG_RUNTIME_DIR: "" }, 1000);
  def("xdg-empty/instance", T("myapp", "w2"), { XDG_RUNTIME_DIR: "" }, 4294967294);
  def("xdg-unnormalized", T("myapp"), { XDG_RUNTIME_DIR: "/run//user/./1000/" }, 1000);
  def("xdg-dotdot", T("myapp"), { XDG_RUNTIME_DIR: "/run/user/../x" }, 1000);
  def("xdg-above-root", T("myapp"), { XDG_RUNTIME_DIR: "/../../r" }, 1000);
  def("xdg-root", T("myapp"), { XDG_RUNTIME_DIR: "/" }, 1000);
  def("xdg-relative", T("myapp"), { XDG_RUNTIME_DIR: "rel/dir" }, 1000);
  def("xdg-dot", T("myapp"), { XDG_RUNTIME_DIR: "." }, 1000);
  def("xdg-space", T("myapp"), { XDG_RUNTIME_DIR: " " }, 1000);
  def("xdg-backslash", T("myapp"), { XDG_RUNTIME_DIR: "/run\\user" }, 1000);
  def("appId/non-ascii-and-space", T("my app \u00e9"), {}, 1000);
  def("appId/emoji", T("\ud83d\ude00"), XDG, 1000);
  def("appId/dots-ok", T("..."), XDG, 1000);
  def("appId/dot-prefix-ok", T(".hidden"), XDG, 1000);
  def("appId/nul-accepted", T("a\u0000b"), XDG, 1000);
  def("appId/newline-accepted", T("a\nb"), XDG, 1000);
  def("appId/colon-accepted", T("a:b"), XDG, 1000);
  for (const [n, seg] of [["empty", ""], ["dot", "."], ["dotdot", ".."], ["slash", "a/b"], ["leading-slash", "/a"], ["backslash", "a\\b"], ["only-backslash", "\\"], ["trailing-slash", "a/"]]) {
    def(`unsafe-appId/${n}`, T(seg), XDG, 1000);
    def(`unsafe-instance/${n}`, T("myapp", seg), XDG, 1000);
  }
  def("unsafe/both-appId-reported-first", T("..", ".."), XDG, 1000);
  def("target/wrong-context", { context: "node-ipc-client", appId: "myapp" }, XDG, 1000);
  def("target/no-context", { appId: "myapp" }, XDG, 1000);
  def("target/missing-appId", { context: "node-ipc-daemon" }, XDG, 1000);
  def("target/extra-fields-ignored", { context: "node-ipc-daemon", appId: "myapp", instance: "i", pid: 5, x: [1] }, XDG, 1000);

  // Length limit (UTF-16 units): XDG=/x, path = /x/nexus/<appId>/default.sock = 22 + appId length
  const base = "/x/nexus/".length + "/default.sock".length;
  for (const total of [106, 107, 108, 109]) def(`length/ascii-${total}`, T("a".repeat(total - base)), { XDG_RUNTIME_DIR: "/x" }, 1000);
  // \u00e9: 1 UTF-16 unit, 2 UTF-8 bytes -> 107 units passes although it is >107 bytes
  for (const total of [107, 108]) def(`length/latin1-${total}-units`, T("\u00e9".repeat(total - base)), { XDG_RUNTIME_DIR: "/x" }, 1000);
  // emoji: 2 UTF-16 units, 4 UTF-8 bytes
  def("length/emoji-107-units", T("b" + "\ud83d\ude00".repeat((107 - base - 1) / 2)), { XDG_RUNTIME_DIR: "/x" }, 1000);
  def("length/emoji-108-units", T("\ud83d\ude00".repeat((108 - base) / 2)), { XDG_RUNTIME_DIR: "/x" }, 1000);
  // no-XDG fallback /tmp/nexus-<uid>/<appId>/<instance>.sock
  const base2 = "/tmp/nexus-1000/".length + "/default.sock".length;
  for (const total of [107, 108]) def(`length/fallback-${total}`, T("c".repeat(total - base2)), {}, 1000);
  // Long XDG whose un-normalized form is longer than 107 but joined (normalized) form is 107
  def("length/xdg-normalized-by-join-107", T("d".repeat(107 - base - 2)), { XDG_RUNTIME_DIR: "/x/./y//" }, 1000);

  // ---- explicit daemon address: usingNodeIpcDaemon({address, configure:false}) (validate, then normalize)
  const exp = (name, address) => {
    let c;
    try {
      const cfg = usingNodeIpcDaemon({ appId: "vectors", address, configure: false });
      c = { name: `explicit/${name}`, kind: "explicit", address, ...okOut(cfg.endpoint.implementation.address) };
    } catch (e) {
      c = { name: `explicit/${name}`, kind: "explicit", address, ...errOut(e) };
    }
    if (address.kind === "path" && typeof address.path === "string") c.inputUtf16Len = u16len(address.path);
    cases.push(c);
  };
  const P = (path) => ({ kind: "path", path });
  exp("plain", P("/run/nexus/app.sock"));
  exp("double-slash", P("/tmp//a//b.sock"));
  exp("leading-double-slash", P("//tmp/a.sock"));
  exp("dot-segments", P("/tmp/./a/./b.sock"));
  exp("dotdot-segments", P("/tmp/a/../b.sock"));
  exp("dotdot-above-root", P("/../../x.sock"));
  exp("trailing-slash-kept", P("/tmp/a/"));
  exp("trailing-dot", P("/tmp/a/."));
  exp("trailing-dotdot", P("/tmp/a/b/.."));
  exp("root", P("/"));
  exp("only-slashes", P("///"));
  exp("relative", P("rel.sock"));
  exp("relative-dot", P("./rel.sock"));
  exp("relative-dotdot", P("../rel.sock"));
  exp("tilde-is-relative", P("~/x.sock"));
  exp("empty-path", P(""));
  exp("backslash-is-a-normal-char", P("/tmp/a\\b.sock"));
  exp("nul-accepted", P("/tmp/a\u0000b.sock"));
  exp("non-ascii", P("/tmp/\u00e9\u4e2d\ud83d\ude00.sock"));
  exp("extra-fields-dropped", { kind: "path", path: "/tmp/x.sock", mode: 438 });
  exp("abstract-accepted-at-config-time", { kind: "abstract", name: "nexus-x" });
  exp("abstract-extra-fields-dropped", { kind: "abstract", name: "n", path: "/tmp/y.sock" });
  for (const total of [106, 107, 108]) exp(`length/ascii-${total}`, P("/tmp/" + "e".repeat(total - 10) + ".sock"));
  exp("length/108-raw-normalizes-to-107", P("/tmp//" + "f".repeat(107 - 10) + ".sock"));
  exp("length/107-raw-normalizes-shorter", P("/tmp/./" + "g".repeat(107 - 12) + ".sock"));
  exp("length/107-units-latin1", P("/tmp/" + "\u00e9".repeat(107 - 10) + ".sock"));
  exp("length/108-units-latin1", P("/tmp/" + "\u00e9".repeat(108 - 10) + ".sock"));
  exp("length/107-units-emoji", P("/tmp/h" + "\ud83d\ude00".repeat((107 - 11) / 2) + ".sock"));
  exp("length/108-units-emoji", P("/tmp/" + "\ud83d\ude00".repeat((108 - 10) / 2) + ".sock"));
  exp("length/relative-long-reports-relative", P("r".repeat(200)));

  // ---- client target resolution: NodeIpcAddress.resolve(target, resolver)
  const tgt = (name, target, resolver, env) => {
    const saved = process.env.XDG_RUNTIME_DIR;
    if (env) process.env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_DIR;
    let out;
    try {
      out = fromResult(A.resolve(target, resolverFn(resolver)));
    } catch (e) {
      out = errOut(e);
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
    const c = { name: `target/${name}`, kind: "target", target, resolver };
    if (env) c.env = env;
    cases.push({ ...c, ...out });
  };
  const TT = T;
  tgt("no-resolver/default-xdg", TT("myapp"), { t: "none" }, XDG);
  tgt("no-resolver/default-xdg-instance", TT("myapp", "i2"), { t: "none" }, XDG);
  tgt("no-resolver/unsafe-instance", TT("myapp", ".."), { t: "none" }, XDG);
  tgt("wrong-context", { context: "node-ipc-client", appId: "myapp" }, { t: "return", v: P("/tmp/x.sock") });
  tgt("missing-appId-resolver-not-called", { context: "node-ipc-daemon" }, { t: "return", v: P("/tmp/x.sock") });
  tgt("empty-appId", { context: "node-ipc-daemon", appId: "" }, { t: "return", v: P("/tmp/x.sock") });
  tgt("unsafe-appId-not-checked-with-resolver", TT(".."), { t: "return", v: P("/tmp/x.sock") });
  tgt("returns-path", TT("myapp"), { t: "return", v: P("/var/run/my-daemons/myapp/default.sock") });
  tgt("returns-unnormalized", TT("myapp"), { t: "return", v: P("/var//run/./x/../y.sock") });
  tgt("returns-relative", TT("myapp"), { t: "return", v: P("rel.sock") });
  tgt("returns-108", TT("myapp"), { t: "return", v: P("/tmp/" + "e".repeat(98) + ".sock") });
  tgt("returns-107", TT("myapp"), { t: "return", v: P("/tmp/" + "e".repeat(97) + ".sock") });
  tgt("returns-template", TT("app1", "blue"), { t: "template", prefix: "/var/run/d/" });
  tgt("returns-null", TT("myapp"), { t: "return", v: null });
  tgt("returns-undefined", TT("myapp"), { t: "return-undefined" });
  tgt("returns-false", TT("myapp"), { t: "return", v: false });
  tgt("returns-empty-string", TT("myapp"), { t: "return", v: "" });
  tgt("returns-string", TT("myapp"), { t: "return", v: "/tmp/x.sock" });
  tgt("throws", TT("myapp"), { t: "throw", message: "resolver exploded" });
  tgt("returns-abstract", TT("myapp"), { t: "return", v: { kind: "abstract", name: "nexus-myapp" } });
  tgt("returns-abstract-no-name", TT("myapp"), { t: "return", v: { kind: "abstract" } });
  tgt("returns-abstract-with-path", TT("myapp"), { t: "return", v: { kind: "abstract", name: "n", path: "/tmp/y.sock" } });
  tgt("returns-path-missing-path", TT("myapp"), { t: "return", v: { kind: "path" } });
  tgt("returns-unknown-kind", TT("myapp"), { t: "return", v: { kind: "bogus", path: "/tmp/x.sock" } });
  tgt("returns-no-kind", TT("myapp"), { t: "return", v: { path: "/tmp/x.sock" } });
  tgt("returns-no-kind-relative", TT("myapp"), { t: "return", v: { path: "rel" } });
  tgt("returns-path-number", TT("myapp"), { t: "return", v: { kind: "path", path: 5 } });
  tgt("returns-empty-object", TT("myapp"), { t: "return", v: {} });
  return cases;
}
