// Package errcode defines the error codes that Nexus peers exchange and the
// coded error type that every nexus-go package returns.
//
// A Code is itself an error, so callers test for a kind of failure with
// errors.Is without matching strings:
//
//	if errors.Is(err, errcode.IPCProtocolError) { ... }
//
// An *Error carries a code, a message and an optional cause; its Is method
// compares codes, so errors.Is keeps working after an error has crossed the
// wire and been rebuilt from its code.
package errcode

import (
	"context"
	"errors"
)

// Code is a machine-readable Nexus error code such as "E_IPC_PROTOCOL_ERROR".
// The values are the strings the JavaScript packages use.
type Code string

// Error implements error so that a Code can be the target of errors.Is.
func (c Code) Error() string { return string(c) }

// Codes of @nexus-js/node-ipc 0.6.0.
const (
	IPCAddressInvalid           Code = "E_IPC_ADDRESS_INVALID"
	IPCAddressInUse             Code = "E_IPC_ADDRESS_IN_USE"
	IPCPathTooLong              Code = "E_IPC_PATH_TOO_LONG"
	IPCConnectFailed            Code = "E_IPC_CONNECT_FAILED"
	IPCAuthFailed               Code = "E_IPC_AUTH_FAILED"
	IPCProtocolError            Code = "E_IPC_PROTOCOL_ERROR"
	IPCStaleSocketCleanupFailed Code = "E_IPC_STALE_SOCKET_CLEANUP_FAILED"
)

// Codes of @nexus-js/core 1.2.0 that travel on the wire or reach users.
const (
	Unknown                   Code = "E_UNKNOWN"
	ProtocolError             Code = "E_PROTOCOL_ERROR"
	ProtocolIncompatible      Code = "E_PROTOCOL_INCOMPATIBLE"
	HandshakeRejected         Code = "E_HANDSHAKE_REJECTED"
	AuthConnectDenied         Code = "E_AUTH_CONNECT_DENIED"
	AuthCallDenied            Code = "E_AUTH_CALL_DENIED"
	RemoteException           Code = "E_REMOTE_EXCEPTION"
	ConnClosed                Code = "E_CONN_CLOSED"
	CallTimeout               Code = "E_CALL_TIMEOUT"
	TargetNotCallable         Code = "E_TARGET_NOT_CALLABLE"
	ResourceNotFound          Code = "E_RESOURCE_NOT_FOUND"
	ResourceAccessDenied      Code = "E_RESOURCE_ACCESS_DENIED"
	InvalidServicePath        Code = "E_INVALID_SERVICE_PATH"
	SetOnRoot                 Code = "E_SET_ON_ROOT"
	InvocationServiceMismatch Code = "E_INVOCATION_SERVICE_MISMATCH"
	UsageInvalid              Code = "E_USAGE_INVALID"
	ServiceAcquisitionTimeout Code = "E_SERVICE_ACQUISITION_TIMEOUT"
	// ServiceUnavailable is core's code for a service no connection
	// provides ("Service "x" is unavailable."); nexus-go also reports it
	// for an unknown service of a core 0.x daemon, which has no catalog
	// and answers E_RESOURCE_NOT_FOUND.
	ServiceUnavailable Code = "E_SERVICE_UNAVAILABLE"
)

// Error is an error with a Nexus code. The zero value is not useful; build
// one with New or Wrap.
type Error struct {
	// Code is the Nexus error code.
	Code Code
	// Message is a human-readable description, without the code.
	Message string
	// Cause is the underlying error, if any (an OS error, a parse error, ...).
	Cause error
}

// New returns an *Error with the given code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Wrap returns an *Error with the given code and message caused by cause.
func Wrap(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Cause: cause}
}

// Error formats the error as "CODE: message: cause".
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is the same code, either a Code or an *Error
// with an equal Code.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return e.Code == t
	case *Error:
		return e.Code == t.Code
	}
	return false
}

// MessageOf returns the message of the first *Error in err's chain,
// without its code (and without its cause), for text that shows the code
// elsewhere or not at all; err.Error() when the chain holds no *Error.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// Coded is an error that carries a Nexus code: an *Error, a Code, a
// remote error (protocol.RemoteError) or a user's error type. A code
// returned by a service method travels to the peer.
type Coded interface {
	error
	NexusCode() string
}

// NexusCode returns the code itself.
func (c Code) NexusCode() string { return string(c) }

// NexusCode returns e.Code.
func (e *Error) NexusCode() string { return string(e.Code) }

// CodeOf returns the code of the first error in err's chain that carries
// one (see Coded): a local *Error or Code, a remote error's code, a
// refused handshake's code; "" if none does.
func CodeOf(err error) Code {
	var c Coded
	if errors.As(err, &c) {
		return Code(c.NexusCode())
	}
	return ""
}

// FromContext is the error of a call whose context ended: an
// E_CALL_TIMEOUT ("call timed out" for a deadline, "call cancelled"
// otherwise) that wraps ctx.Err(), so errors.Is(err,
// context.DeadlineExceeded) holds too.
func FromContext(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Wrap(CallTimeout, "call timed out", ctx.Err())
	}
	return Wrap(CallTimeout, "call cancelled", ctx.Err())
}
