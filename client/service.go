package client

import (
	"github.com/nexus-interop/nexus-go/remote"
)

// The daemon's services, results and references: the types of package
// remote, which the daemon package uses too for the services its clients
// provide.
type (
	// Service is a handle on one service of the daemon, the Go counterpart
	// of the proxy that nexus.create(Token) returns in JS (see
	// remote.Service).
	Service = remote.Service
	// Result is a decoded result (see remote.Result).
	Result = remote.Result
	// Ref is a reference to a daemon resource: a function or a nexus.ref
	// object (see remote.Ref).
	Ref = remote.Ref
)

// SplitPath splits a dotted path ("store.items.add") into segments (see
// remote.SplitPath).
func SplitPath(p string) []string { return remote.SplitPath(p) }

// AsRef wraps a reference found inside a decoded value (a
// *session.RemoteRef) as a *Ref (see remote.AsRef).
func AsRef(v any) (*Ref, bool) { return remote.AsRef(v) }
