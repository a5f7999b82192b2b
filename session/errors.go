package session

import (
	"errors"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// CodedError is implemented by errors that carry a Nexus code of their own
// (besides *errcode.Error and *protocol.RemoteError, which are recognised
// directly). The code travels to the peer.
type CodedError interface {
	error
	NexusCode() string
}

// ToRemoteError converts a Go error into the serialized error sent in an
// ERR: a *protocol.RemoteError goes as is (so errors are relayed unchanged);
// an *errcode.Error, a CodedError, or an error wrapping one keeps its code;
// anything else is {name:"Error", code:"E_UNKNOWN"}. The message is always
// err.Error() (minus the code prefix of errcode errors), so that a Node
// client's E_REMOTE_EXCEPTION message shows it.
func ToRemoteError(err error) *protocol.RemoteError {
	var re *protocol.RemoteError
	if errors.As(err, &re) {
		return re
	}
	var ce CodedError
	if errors.As(err, &ce) {
		return &protocol.RemoteError{Name: "Error", Code: ce.NexusCode(), Message: err.Error()}
	}
	var ee *errcode.Error
	if errors.As(err, &ee) {
		msg := ee.Message
		if ee.Cause != nil {
			msg += ": " + ee.Cause.Error()
		}
		if msg == "" {
			msg = string(ee.Code)
		}
		return &protocol.RemoteError{Name: "NexusError", Code: string(ee.Code), Message: msg}
	}
	return &protocol.RemoteError{Name: "Error", Code: string(errcode.Unknown), Message: err.Error()}
}

// coreError builds an error in the shape of a core 1.2.0 error (same code
// and name), with a message JS would not send but a user can read.
func coreError(code errcode.Code, name, msg string) error {
	return &protocol.RemoteError{Name: name, Code: string(code), Message: msg}
}
