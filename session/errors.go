package session

import (
	"errors"
	"strconv"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// CodedError is errcode.Coded: an error that carries a Nexus code of its
// own, which travels to the peer.
type CodedError = errcode.Coded

// ToRemoteError converts a Go error into the serialized error sent in an
// ERR: a *protocol.RemoteError goes as is (so errors are relayed
// unchanged); otherwise the first error in the chain that carries a code
// (an *errcode.Error, an errcode.Code, a CodedError) gives it; anything
// else is {name:"Error", code:"E_UNKNOWN"}. The message is err.Error()
// (for errcode errors without their code prefix), so that a Node client's
// E_REMOTE_EXCEPTION message shows it.
func ToRemoteError(err error) *protocol.RemoteError {
	var re *protocol.RemoteError
	if errors.As(err, &re) {
		return re
	}
	var c errcode.Coded
	if !errors.As(err, &c) {
		return &protocol.RemoteError{Name: "Error", Code: string(errcode.Unknown), Message: err.Error()}
	}
	switch x := c.(type) {
	case *errcode.Error:
		msg := x.Message
		if x.Cause != nil {
			msg += ": " + x.Cause.Error()
		}
		if msg == "" {
			msg = string(x.Code)
		}
		return &protocol.RemoteError{Name: "NexusError", Code: string(x.Code), Message: msg}
	case errcode.Code:
		return &protocol.RemoteError{Name: "NexusError", Code: string(x), Message: err.Error()}
	}
	return &protocol.RemoteError{Name: "Error", Code: c.NexusCode(), Message: err.Error()}
}

// coreError builds an error in the shape of a core 1.2.0 error (same code
// and name), with a message JS would not send but a user can read.
func coreError(code errcode.Code, name, msg string) error {
	return &protocol.RemoteError{Name: name, Code: string(code), Message: msg}
}

// resourceService is the service name core expects in the long form of a
// call on a local resource: the service it came from, or "resource:<id>".
func resourceService(id, service string) string {
	if service == "" {
		return "resource:" + id
	}
	return service
}

// mismatchError is core's answer to a long-form call on a resource whose
// invocationServiceName (null, "" here, never matches) is not want.
func mismatchError(t protocol.Callee, want string) error {
	var got any
	if t.InvocationService != "" {
		got = t.InvocationService
	}
	return &protocol.RemoteError{Name: "MessageResourceError", Code: string(errcode.InvocationServiceMismatch),
		Message: "Resource invocation service mismatch for resource " + strconv.Quote(t.ResourceID) + ".",
		Context: protocol.NewObject("resourceId", t.ResourceID, "expectedServiceName", want, "receivedServiceName", got)}
}

// ResourceError is an error about the callee of call in the shape core
// 1.2.0 gives it (name MessageResourceError, context {resourceId, path},
// the path including the service for a service call), with code and msg.
func (call *Call) ResourceError(code errcode.Code, msg string) error {
	var rid any
	if call.ResourceID != "" {
		rid = call.ResourceID
	}
	full := call.Path
	if call.ResourceID == "" {
		full = append([]string{call.Service}, call.Path...)
	}
	return &protocol.RemoteError{Name: "MessageResourceError", Code: string(code), Message: msg,
		Context: protocol.NewObject("resourceId", rid, "path", full)}
}
