// Child process: a real @nexus-js/node-ipc 0.6.0 daemon used by generate.mjs.
// argv: <socketPath> [authToken] [authTimeoutMs]
// Prints "READY" on stdout once listening.

// Deterministic stacks for errors created inside the engine (e.g. wrapping a thrown string):
// with no frames V8 renders only the "Name: message" header.
Error.stackTraceLimit = 0;

// Record which remote resource id belongs to each revived remote proxy. ProxyFactory registers
// a { resourceId } record with a FinalizationRegistry whose target carries the proxy's release
// function; the proxy exposes that same function under Symbol.for("nexus.proxy.release").
const releaseToId = new WeakMap();
const origRegister = FinalizationRegistry.prototype.register;
FinalizationRegistry.prototype.register = function (target, held, token) {
  if (held && typeof held === "object" && "resourceId" in held && target && typeof target.release === "function")
    releaseToId.set(target.release, held.resourceId);
  return origRegister.call(this, target, held, token);
};

const [sockPath, authToken, authTimeoutMs] = process.argv.slice(2);
const fs = await import("node:fs");
const core = await import("@nexus-js/core");
const { usingNodeIpcDaemon, NodeIpcError } = await import("@nexus-js/node-ipc");
const { describe, build } = await import("./desc.mjs");
const { nexus, Token } = core;

const STACK = (name, msg) => `${name}: ${msg}\n    at vectors (fixed.mjs:1:1)\n    at <anonymous>`;
const fixed = (e) => {
  e.stack = STACK(e.name, e.message);
  return e;
};
const withCode = (e, code) => {
  e.code = code;
  return fixed(e);
};

function failure(kind) {
  switch (kind) {
    case "plain":
      return fixed(new Error("plain error"));
    case "empty-message":
      return fixed(new Error(""));
    case "unicode-message":
      return fixed(new Error("bad \u2028 line \u00e9 \ud83d\ude00 \"q\" \\ \u0001\u001f\u007f tab\t nl\n"));
    case "string-code":
      return withCode(new Error("has a code"), "E_APP");
    case "string-code-detail": {
      const e = withCode(new Error("with detail"), "E_APP");
      e.detail = { x: 1, list: [1, "two", null] };
      return e;
    }
    case "string-code-empty-message":
      return withCode(new Error(""), "E_EMPTY");
    case "numeric-code": {
      const e = fixed(new Error("num"));
      e.code = 42;
      return e;
    }
    case "null-code": {
      const e = fixed(new Error("nullcode"));
      e.code = null;
      return e;
    }
    case "extra-props-no-code": {
      const e = fixed(new Error("extras"));
      e.detail = "dropped";
      e.status = 500;
      return e;
    }
    case "cause-error":
      return fixed(new Error("outer", { cause: fixed(new Error("inner")) }));
    case "cause-chain-3":
      return fixed(new Error("l1", { cause: fixed(new Error("l2", { cause: fixed(new TypeError("l3")) })) }));
    case "cause-self": {
      const e = fixed(new Error("self"));
      e.cause = e;
      return e;
    }
    case "cause-cycle-2": {
      const a = fixed(new Error("a"));
      const b = fixed(new Error("b"));
      a.cause = b;
      b.cause = a;
      return a;
    }
    case "cause-string":
      return fixed(new Error("x", { cause: "because" }));
    case "cause-number":
      return fixed(new Error("x", { cause: 42 }));
    case "cause-zero":
      return fixed(new Error("x", { cause: 0 }));
    case "cause-empty-string":
      return fixed(new Error("x", { cause: "" }));
    case "cause-plain-object":
      return fixed(new Error("x", { cause: { foo: 1 } }));
    case "cause-error-like-object":
      return fixed(new Error("x", { cause: { name: "Remote", code: "E_REMOTE", message: "remote said no", extra: [1] } }));
    case "cause-coded-error":
      return fixed(new Error("x", { cause: withCode(new Error("inner coded"), "E_INNER") }));
    case "cause-null":
      return fixed(new Error("x", { cause: null }));
    case "coded-with-assigned-cause": {
      const e = withCode(new Error("coded"), "E_OUTER");
      e.cause = fixed(new Error("inner"));
      return e;
    }
    case "coded-with-option-cause":
      return withCode(new Error("coded", { cause: fixed(new Error("inner")) }), "E_OUTER");
    case "type-error": {
      try {
        null.x;
      } catch (e) {
        return fixed(e);
      }
      return null;
    }
    case "range-error":
      return fixed(new RangeError("out of range"));
    case "syntax-error": {
      try {
        JSON.parse("{bad");
      } catch (e) {
        return fixed(e);
      }
      return null;
    }
    case "custom-class": {
      class MyError extends Error {
        name = "MyError";
      }
      return fixed(new MyError("mine"));
    }
    case "custom-class-coded": {
      class MyError extends Error {
        name = "MyError";
      }
      return withCode(new MyError("mine"), "E_MINE");
    }
    case "assigned-name-coded": {
      const e = new Error("renamed");
      e.name = "Renamed";
      return withCode(e, "E_RENAMED");
    }
    case "non-string-name-coded": {
      const e = withCode(new Error("odd name"), "E_ODD");
      e.name = 5;
      return e;
    }
    case "aggregate-error":
      return fixed(new AggregateError([fixed(new Error("one")), fixed(new Error("two"))], "many"));
    case "node-ipc-error":
      return fixed(new NodeIpcError("ipc failed", "E_IPC_CONNECT_FAILED"));
    case "nexus-error":
      return fixed(new core.NexusError("core failure", "E_CUSTOM", { context: { a: 1, b: "two" } }));
    case "nexus-error-no-context":
      return fixed(new core.NexusError("core failure", "E_CUSTOM"));
    case "nexus-usage-error":
      return fixed(new core.NexusUsageError("bad usage"));
    case "nexus-remote-error":
      return fixed(new core.NexusRemoteError("remote failed", "E_REMOTE_EXCEPTION", { remoteError: { name: "Error", code: "E_CB", message: "cb failed" } }));
    case "nexus-disconnected-error":
      return fixed(new core.NexusDisconnectedError("gone", "E_CONN_CLOSED", { connectionId: "conn-x" }));
    case "fs-enoent": {
      try {
        fs.readFileSync("/nonexistent-nexus-vectors/file");
      } catch (e) {
        return fixed(e);
      }
      return null;
    }
    default:
      return fixed(new Error(`unknown kind ${kind}`));
  }
}

// id of a revived remote proxy; null when the placeholder had no payload ("\u0003R" without ':')
const refIdOf = (rel) => (releaseToId.has(rel) ? (releaseToId.get(rel) ?? null) : undefined);

const service = {
  make(descJSON) {
    return build(JSON.parse(descJSON), { ref: (o) => nexus.ref(o) });
  },
  describe(x) {
    return JSON.stringify(describe(x, refIdOf));
  },
  describeArgs(...args) {
    return JSON.stringify(describe(args, refIdOf));
  },
  fail(kind) {
    throw failure(kind);
  },
  async failAsync(kind) {
    await null;
    throw failure(kind);
  },
  throwValue(descJSON) {
    throw build(JSON.parse(descJSON));
  },
  circular() {
    const o = { a: 1 };
    o.self = o;
    return o;
  },
  bigintInMap() {
    return new Map([["a", 1n]]);
  },
  notFn: 5,
  nested: { deep: { fn: (x) => `deep:${x}` } },
};

const opts = { appId: "vectors", address: { kind: "path", path: sockPath } };
if (authToken) opts.authToken = authToken;
if (authTimeoutMs) opts.authTimeoutMs = Number(authTimeoutMs);
const app = usingNodeIpcDaemon(opts);
app.provide(new Token("vectors"), service);
app.provide(new Token("denied"), { hello: () => "hi" }, { policy: { canCall: () => false } });
await app.ready();
process.stdout.write("READY\n");
