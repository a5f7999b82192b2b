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

// The Code constants, and JSCodes, are in codes.go.

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
