package session

import (
	"context"
	"strings"

	"github.com/nexus-interop/nexus-go/errcode"
)

// Func is the plainest callable: it receives the decoded arguments (Refs
// revived into *RemoteRef) and returns a result to encode.
type Func func(ctx context.Context, args []any) (any, error)

// Invoke calls f for an APPLY on the resource itself (an empty path).
func (f Func) Invoke(ctx context.Context, call *Call) (any, error) {
	if call.Op != OpApply || len(call.Path) != 0 {
		return nil, call.ResourceError(errcode.TargetNotCallable, "a function resource only supports being called")
	}
	return f(ctx, call.Args)
}

// NexusResource marks Func as a resource.
func (Func) NexusResource() {}

// Methods returns a service table that dispatches an APPLY on
// SERVICE.NAME (any service) to methods[NAME]; everything else is
// E_TARGET_NOT_CALLABLE. It is a small helper for tests and examples;
// package bind adapts any Go value.
func Methods(methods map[string]Func) Handler { return methodTable(methods) }

type methodTable map[string]Func

func (m methodTable) Invoke(ctx context.Context, call *Call) (any, error) {
	if len(call.Path) == 1 && call.Op == OpApply {
		if fn, ok := m[call.Path[0]]; ok {
			return fn(ctx, call.Args)
		}
	}
	return nil, call.ResourceError(errcode.TargetNotCallable, "not callable: "+strings.Join(call.Path, "."))
}
