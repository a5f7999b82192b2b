package daemon

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
)

// Mode bits the runtime-directory checks look at.
const (
	modeSticky   = 0o1000
	modeGroupOth = 0o077
	modeGOWrite  = 0o022
)

func statOwner(fi fs.FileInfo) (uid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}

func permBits(fi fs.FileInfo) uint32 {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return uint32(fi.Mode().Perm())
	}
	return st.Mode & 0o7777
}

func invalid(msg string, cause error) error {
	return errcode.Wrap(errcode.IPCAddressInvalid, msg, cause)
}

// checkAncestors applies node-ipc's rules to every existing ancestor of
// the runtime directory dir, from the root down, stopping at the first that
// does not exist: none may be a symlink or a non-directory; each must be
// owned by us and not group/other-writable, unless it is owned by root and
// either sticky (like /tmp) or not world-writable.
func checkAncestors(dir string) error {
	uid := uint32(os.Getuid())
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	cur := "/"
	for i := 0; i < len(parts)-1; i++ {
		if parts[i] == "" {
			continue
		}
		cur = filepath.Join(cur, parts[i])
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return invalid("Could not inspect Unix socket runtime directory "+cur, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return invalid("Unix socket runtime directory must not contain symlinks: "+cur, nil)
		}
		if !fi.IsDir() {
			return invalid("Unix socket runtime path is not a directory: "+cur, nil)
		}
		owner, _ := statOwner(fi)
		mode := permBits(fi)
		rootSticky := mode&modeSticky != 0 && owner == 0
		rootSafe := owner == 0 && mode&0o002 == 0
		if !rootSticky && !rootSafe {
			if owner != uid {
				return invalid("Unix socket runtime directory is not owned by the current user: "+cur, nil)
			}
			if mode&modeGOWrite != 0 {
				return invalid("Unix socket runtime directory permissions are too broad: "+cur, nil)
			}
		}
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return invalid("Could not inspect Unix socket runtime directory "+dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return invalid("Unix socket runtime directory must not contain symlinks: "+dir, nil)
	}
	if !fi.IsDir() {
		return invalid("Unix socket runtime path is not a directory: "+dir, nil)
	}
	return nil
}

// checkRuntimeDir applies node-ipc's rules to the directory that holds the
// socket: a real directory, owned by us (or root-owned and sticky), with no
// group or other permission bits.
func checkRuntimeDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return invalid("Could not secure Unix socket runtime directory "+dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return invalid("Unix socket runtime directory must not be a symlink: "+dir, nil)
	}
	if !fi.IsDir() {
		return invalid("Unix socket runtime path is not a directory: "+dir, nil)
	}
	owner, _ := statOwner(fi)
	mode := permBits(fi)
	if !(mode&modeSticky != 0 && owner == 0) && owner != uint32(os.Getuid()) {
		return invalid("Unix socket runtime directory is not owned by the current user: "+dir, nil)
	}
	if mode&modeGroupOth != 0 {
		return invalid("Unix socket runtime directory permissions are too broad: "+dir, nil)
	}
	return nil
}

// clearStale handles an existing file at the socket path as node-ipc does:
// nothing there is fine; a non-socket (a regular file, a symlink, ...) is
// never removed (E_IPC_STALE_SOCKET_CLEANUP_FAILED); a socket someone
// accepts on is E_IPC_ADDRESS_IN_USE; a socket nobody accepts on is stale
// and removed.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return invalid("Could not inspect socket path", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return errcode.New(errcode.IPCStaleSocketCleanupFailed, "Refusing to remove non-socket file at Unix socket path "+path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return errcode.New(errcode.IPCAddressInUse, "Unix socket address is already in use: "+path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT) {
		return invalid("Could not probe existing socket "+path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errcode.Wrap(errcode.IPCStaleSocketCleanupFailed, "Could not remove stale socket "+path, err)
	}
	return nil
}

// listenUnix prepares the runtime directory and the path and binds the
// socket, with node-ipc's checks and codes.
func listenUnix(path string) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if err := checkAncestors(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, invalid("Could not create Unix socket runtime directory "+dir, err)
	}
	if err := checkRuntimeDir(dir); err != nil {
		return nil, err
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, errcode.Wrap(errcode.IPCAddressInUse, "Unix socket address is already in use: "+path, err)
		}
		return nil, errcode.Wrap(errcode.IPCConnectFailed, "Could not listen on Unix socket "+path, err)
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}
