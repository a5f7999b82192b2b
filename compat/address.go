package compat

import (
	"os"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/errcode"
)

// Identity contexts of @nexus-js/node-ipc.
const (
	// DaemonContext is the "context" of a node-ipc daemon's identity.
	DaemonContext = "node-ipc-daemon"
	// ClientContext is the "context" of a node-ipc client's identity.
	ClientContext = "node-ipc-client"
	// DefaultInstance is the instance name JS uses when none is given.
	DefaultInstance = "default"
	// MaxSocketPath is the longest Unix socket path node-ipc accepts,
	// counted by JS in UTF-16 code units (sun_path is 108 bytes with NUL).
	MaxSocketPath = 107
)

// Env is the part of the process environment that default socket paths
// depend on.
type Env struct {
	// XDGRuntimeDir is $XDG_RUNTIME_DIR; empty means unset, as in JS.
	XDGRuntimeDir string
	// UID is the user id used in the /tmp/nexus-<uid> fallback.
	UID int
}

// OSEnv returns the Env of the current process.
func OSEnv() Env {
	return Env{XDGRuntimeDir: os.Getenv("XDG_RUNTIME_DIR"), UID: os.Getuid()}
}

// RuntimeRoot returns the directory under which default sockets live:
// $XDG_RUNTIME_DIR/nexus when XDG_RUNTIME_DIR is set and non-empty, else
// /tmp/nexus-<uid>. Like JS it is joined and normalized, not validated.
func RuntimeRoot(env Env) string {
	if env.XDGRuntimeDir != "" {
		return JoinPath(env.XDGRuntimeDir, "nexus")
	}
	return JoinPath("/tmp", "nexus-"+strconv.Itoa(env.UID))
}

// CheckTarget applies node-ipc's rule for a connection target: the context
// must be "node-ipc-daemon" and the appId non-empty.
func CheckTarget(context, appID string) error {
	if context != DaemonContext || appID == "" {
		return errcode.New(errcode.IPCAddressInvalid, "Target does not identify a node-ipc daemon")
	}
	return nil
}

// CheckSegment applies node-ipc's rule for an appId or instance used as a
// path segment: it must not be empty, ".", "..", or contain '/' or '\'.
func CheckSegment(seg string) error {
	if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, `/\`) {
		return errcode.New(errcode.IPCAddressInvalid, "Unix socket path segment is unsafe: "+seg)
	}
	return nil
}

// DefaultSocketPath returns the socket path of a daemon as node-ipc 0.6.0
// derives it: RuntimeRoot(env)/<appID>/<instance>.sock, validated with
// ValidateSocketPath. The instance is taken as given: pass DefaultInstance
// where JS would use its default (an explicit "" is unsafe in JS too).
func DefaultSocketPath(appID, instance string, env Env) (string, error) {
	if err := CheckSegment(appID); err != nil {
		return "", err
	}
	if err := CheckSegment(instance); err != nil {
		return "", err
	}
	return ValidateSocketPath(JoinPath(RuntimeRoot(env), appID, instance+".sock"))
}

// ValidateSocketPath applies node-ipc's rules to an explicit socket path and
// returns it normalized (Node's path.normalize):
//   - it must be absolute, else E_IPC_ADDRESS_INVALID;
//   - as given (before normalization, as JS checks it) it must be at most
//     MaxSocketPath UTF-16 code units, else E_IPC_PATH_TOO_LONG.
//
// nexus-go adds two checks JS lacks, so that a bad path fails here with a
// clear code instead of later in bind or connect: the normalized path must fit
// in MaxSocketPath bytes (JS counts code units, so a non-ASCII path can pass
// its check and still be too long for the kernel), and it must not contain
// NUL (E_IPC_ADDRESS_INVALID).
//
// An abstract address (written, as Go's net package writes it, with a
// leading "@" or NUL) is E_IPC_ADDRESS_INVALID: node-ipc 0.6.0 reserves
// abstract sockets without implementing them.
func ValidateSocketPath(p string) (string, error) {
	if strings.HasPrefix(p, "@") || strings.HasPrefix(p, "\x00") {
		return "", errcode.New(errcode.IPCAddressInvalid, "Abstract sockets are reserved but not implemented")
	}
	if !strings.HasPrefix(p, "/") {
		return "", errcode.New(errcode.IPCAddressInvalid, "Unix socket path must be absolute: "+p)
	}
	if UTF16Len(p) > MaxSocketPath {
		return "", errcode.New(errcode.IPCPathTooLong, "Unix socket path is too long: "+p)
	}
	n := NormalizePath(p)
	if len(n) > MaxSocketPath {
		return "", errcode.New(errcode.IPCPathTooLong, "Unix socket path is too long in bytes: "+p)
	}
	if strings.IndexByte(n, 0) >= 0 {
		return "", errcode.New(errcode.IPCAddressInvalid, "Unix socket path contains a NUL byte")
	}
	return n, nil
}

// NormalizePath is Node's path.posix.normalize: "" becomes ".", runs of '/'
// collapse, "." segments vanish, ".." removes the previous segment (and is
// dropped at the root of an absolute path, kept at the start of a relative
// one), and a trailing '/' is kept.
func NormalizePath(p string) string {
	if p == "" {
		return "."
	}
	abs := p[0] == '/'
	trailing := p[len(p)-1] == '/'
	segs := make([]string, 0, 8)
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 && segs[len(segs)-1] != ".." {
				segs = segs[:len(segs)-1]
			} else if !abs {
				segs = append(segs, "..")
			}
		default:
			segs = append(segs, s)
		}
	}
	out := strings.Join(segs, "/")
	if out == "" && !abs {
		out = "."
	}
	if out != "" && trailing {
		out += "/"
	}
	if abs {
		return "/" + out
	}
	return out
}

// JoinPath is Node's path.posix.join: the non-empty parts joined with '/'
// and normalized; "." when nothing is left.
func JoinPath(parts ...string) string {
	nonEmpty := make([]string, 0, len(parts))
	for _, s := range parts {
		if s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if len(nonEmpty) == 0 {
		return "."
	}
	return NormalizePath(strings.Join(nonEmpty, "/"))
}
