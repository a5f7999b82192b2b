package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/tidwall/gjson"

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

// lastMember returns the last value of key in a JSON object, as JSON.parse
// keeps the last of duplicated keys.
func lastMember(obj gjson.Result, key string) gjson.Result {
	var out gjson.Result
	obj.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			out = v
		}
		return true
	})
	return out
}

// ParseAuthRequest checks a client pre-auth line (without its newline) as
// the node-ipc daemon does — a JSON object whose last "type" is
// "nexus-ipc-auth", "version" the number 1 and "token" a string — and
// returns the token. Anything else is E_IPC_PROTOCOL_ERROR ("Malformed auth
// request"). The caller compares the token in constant time.
func ParseAuthRequest(line []byte) (string, error) {
	line = bytes.TrimRight(line, "\r")
	if !validJSON(line) {
		return "", errcode.New(errcode.IPCProtocolError, "Malformed auth request: invalid JSON")
	}
	obj := gjson.ParseBytes(line)
	if !obj.IsObject() {
		return "", errcode.New(errcode.IPCProtocolError, "Malformed auth request: not an object")
	}
	typ, ver, tok := lastMember(obj, "type"), lastMember(obj, "version"), lastMember(obj, "token")
	if typ.Type != gjson.String || typ.Str != AuthType || ver.Type != gjson.Number || ver.Num != AuthVersion || tok.Type != gjson.String {
		return "", errcode.New(errcode.IPCProtocolError, "Malformed auth request")
	}
	// gjson unescapes lone surrogates to U+FFFD; decode the token exactly.
	return decodeString([]byte(tok.Raw))
}

// ParseAuthOK checks a daemon's pre-auth reply line as the node-ipc client
// does: a JSON object whose "type" is "nexus-ipc-auth-ok". Anything else is
// E_IPC_PROTOCOL_ERROR ("Malformed auth response").
func ParseAuthOK(line []byte) error {
	line = bytes.TrimRight(line, "\r")
	if !validJSON(line) {
		return errcode.New(errcode.IPCProtocolError, "Malformed auth response: invalid JSON")
	}
	obj := gjson.ParseBytes(line)
	if !obj.IsObject() {
		return errcode.New(errcode.IPCProtocolError, "Malformed auth response: not an object")
	}
	if typ := lastMember(obj, "type"); typ.Type != gjson.String || typ.Str != AuthOKType {
		return errcode.New(errcode.IPCProtocolError, "Malformed auth response")
	}
	return nil
}

// validJSON reports whether b is one JSON text (with the depth limit).
func validJSON(b []byte) bool {
	s := scanner{data: b, maxDepth: DefaultMaxDepth}
	if s.skip() != nil {
		return false
	}
	s.ws()
	return s.pos == len(b)
}
