package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
)

const (
	// DefaultAuthTimeout is how long node-ipc waits for a pre-auth line.
	DefaultAuthTimeout = 5 * time.Second
	// DefaultMaxAuthLine is node-ipc's limit on buffered pre-auth bytes,
	// the newline included.
	DefaultMaxAuthLine = 8 * 1024
	// AuthType is the "type" of the client's pre-auth request.
	AuthType = "nexus-ipc-auth"
	// AuthOKType is the "type" of the daemon's pre-auth acceptance.
	AuthOKType = "nexus-ipc-auth-ok"
	// AuthVersion is the only pre-auth version.
	AuthVersion = 1
)

// AuthOKLine is the daemon's acceptance line, exactly as node-ipc writes it.
const AuthOKLine = `{"type":"nexus-ipc-auth-ok"}` + "\n"

// AppendAuthRequest appends the client's pre-auth line for token, exactly
// as node-ipc writes it: {"type":"nexus-ipc-auth","version":1,"token":...}\n.
func AppendAuthRequest(dst []byte, token string) []byte {
	dst = append(dst, `{"type":"nexus-ipc-auth","version":1,"token":`...)
	dst = compat.AppendString(dst, token)
	return append(dst, '}', '\n')
}

// ReadAuthLine reads one pre-auth line from r, newline included, and
// returns it without the newline. The line may be at most max bytes with
// its newline (DefaultMaxAuthLine when max <= 0); a longer one is an
// E_IPC_PROTOCOL_ERROR without reading further. The end of the stream before
// a newline is E_IPC_AUTH_FAILED.
//
// Bytes after the newline stay in r. node-ipc's peers discard bytes that
// arrive in the same read as the newline; nexus-go keeps them as the start
// of the frame stream, and never sends anything behind its own auth line
// before the answer, so both rules meet on the wire.
func ReadAuthLine(r *bufio.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxAuthLine
	}
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, errcode.New(errcode.IPCProtocolError, "auth line exceeds the maximum line size")
		}
		line = append(line, chunk...)
		if err == nil {
			return line[:len(line)-1], nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, errcode.New(errcode.IPCAuthFailed, "IPC authentication failed: connection closed")
		}
		return nil, errcode.Wrap(errcode.IPCAuthFailed, "IPC authentication failed", err)
	}
}

// ParseAuthRequest checks a client pre-auth line (without its newline) as
// the node-ipc daemon does — a JSON object whose last "type" is
// "nexus-ipc-auth", "version" the number 1 and "token" a string — and
// returns the token. Anything else is E_IPC_PROTOCOL_ERROR ("Malformed auth
// request"). The caller compares the token in constant time.
func ParseAuthRequest(line []byte) (string, error) {
	obj, err := authObject(line)
	if err != nil {
		return "", errcode.New(errcode.IPCProtocolError, "Malformed auth request: "+err.Error())
	}
	typ, _ := obj.Get("type")
	ver, _ := obj.Get("version")
	tok, _ := obj.Get("token")
	token, isStr := tok.(string)
	if typ != AuthType || ver != float64(AuthVersion) || !isStr {
		return "", errcode.New(errcode.IPCProtocolError, "Malformed auth request")
	}
	return token, nil
}

// ParseAuthOK checks a daemon's pre-auth reply line as the node-ipc client
// does: a JSON object whose "type" is "nexus-ipc-auth-ok". Anything else is
// E_IPC_PROTOCOL_ERROR ("Malformed auth response").
func ParseAuthOK(line []byte) error {
	obj, err := authObject(line)
	if err != nil {
		return errcode.New(errcode.IPCProtocolError, "Malformed auth response: "+err.Error())
	}
	if typ, _ := obj.Get("type"); typ != AuthOKType {
		return errcode.New(errcode.IPCProtocolError, "Malformed auth response")
	}
	return nil
}

// authObject parses a pre-auth line (without its newline; a trailing CR
// is dropped) in one pass, as JSON.parse does: a repeated key keeps its
// last value, strings keep lone surrogates.
func authObject(line []byte) (*Object, error) {
	v, err := DecodeJSON(bytes.TrimRight(line, "\r"))
	if err != nil {
		return nil, errors.New("invalid JSON")
	}
	obj, ok := v.(*Object)
	if !ok {
		return nil, errors.New("not an object")
	}
	return obj, nil
}
