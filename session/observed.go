package session

import (
	"net"

	"golang.org/x/sys/unix"
)

// Observed is what one side saw of a connection before its session began:
// node-ipc's connection.observed ({socket, authenticated, authMethod}),
// plus the credentials of the process at the other end as the kernel
// reports them (SO_PEERCRED), which node-ipc leaves out. The daemon keeps
// one per client connection, a client one for its daemon.
type Observed struct {
	// Socket is the socket path.
	Socket string
	// Authenticated is true when pre-auth succeeded.
	Authenticated bool
	// AuthMethod is "shared-secret" or "none".
	AuthMethod string
	// PID, UID and GID are the peer's credentials at connect time; -1 when
	// the connection or the platform does not report them.
	PID, UID, GID int
}

// Observe returns the Observed of a connection on socket that has not been
// authenticated (yet), with the peer's credentials when nc is a Unix
// socket that reports them.
func Observe(nc net.Conn, socket string) Observed {
	o := Observed{Socket: socket, AuthMethod: "none", PID: -1, UID: -1, GID: -1}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return o
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return o
	}
	_ = raw.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err == nil {
			o.PID, o.UID, o.GID = int(cred.Pid), int(cred.Uid), int(cred.Gid)
		}
	})
	return o
}
