package protocol

import (
	"github.com/nexus-interop/nexus-go/errcode"
)

// RemoteError is a serialized error as it travels in ERR and
// HANDSHAKE_REJECT packets: a JSON object {name, code, message, stack?,
// cause?}. JS peers are loose about it: an Error with a string code arrives
// as its own enumerable properties only ({"code":"E_APP"}: no name, no
// message), and core errors add "context". Absent strings are "".
//
// RemoteError implements error; errors.Is(err, errcode.Code(...)) matches
// its Code.
type RemoteError struct {
	// Name is the error's name ("Error", "TypeError", a class name).
	Name string
	// Code is the Nexus code ("E_APP", "E_UNKNOWN", ...).
	Code string
	// Message is the human-readable message.
	Message string
	// Stack is the peer's stack trace, when it sent one.
	Stack string
	// Cause is the serialized cause, if any. A core 0.x error that wraps
	// another ({"code":"E_REMOTE_EXCEPTION","context":{"remoteError":
	// {…}},"name":"CallProcessorRemoteError"}, without "cause") gets the
	// wrapped error here too, so that errors.Is and errors.As reach it in
	// both generations.
	Cause *RemoteError
	// Context is the core "context" member, decoded as plain JSON; nil when
	// absent.
	Context any

	// causeInContext is set when Cause was read from
	// context.remoteError: the error is written back without "cause", as
	// it arrived.
	causeInContext bool
}

// Error formats the error as "CODE: message" (or the name when there is no
// message).
func (e *RemoteError) Error() string {
	code := e.Code
	if code == "" {
		code = string(errcode.Unknown)
	}
	msg := e.Message
	if msg == "" {
		msg = e.Name
	}
	if msg == "" {
		return code
	}
	return code + ": " + msg
}

// NexusCode returns the remote code (E_UNKNOWN when the peer sent none),
// so that errcode.CodeOf sees it.
func (e *RemoteError) NexusCode() string {
	if e.Code == "" {
		return string(errcode.Unknown)
	}
	return e.Code
}

// Is matches an errcode.Code or *errcode.Error with the same code as
// NexusCode (so an error without a code is E_UNKNOWN here too).
func (e *RemoteError) Is(target error) bool {
	switch t := target.(type) {
	case errcode.Code:
		return e.NexusCode() == string(t)
	case *errcode.Error:
		return e.NexusCode() == string(t.Code)
	}
	return false
}

// Unwrap returns the cause, so errors.As reaches nested remote errors.
func (e *RemoteError) Unwrap() error {
	if e.Cause == nil {
		return nil
	}
	return e.Cause
}

// AppendRemoteError appends e as JSON: name (left out when empty), code,
// message, then stack and
// cause when present, then context when non-nil — the member order of
// @nexus-js/core's error serializer (which drops context; nexus-go keeps it
// for the JS-compatible core error codes that carry one).
func AppendRemoteError(dst []byte, e *RemoteError) ([]byte, error) {
	return AppendJSON(dst, e.object())
}

func (e *RemoteError) object() *Object {
	o := &Object{}
	if e.Name != "" {
		o.Set("name", e.Name)
	}
	o.Set("code", e.Code)
	o.Set("message", e.Message)
	if e.Stack != "" {
		o.Set("stack", e.Stack)
	}
	if e.Cause != nil && !e.causeInContext {
		o.Set("cause", e.Cause.object())
	}
	if e.Context != nil {
		o.Set("context", e.Context)
	}
	return o
}

// ParseRemoteError decodes a serialized error. A JSON object gives its
// string members; a string is taken as the message of an E_UNKNOWN error;
// null and other values are E_IPC_PROTOCOL_ERROR (a JS caller would treat
// [6,id,null] as a success).
func ParseRemoteError(raw Raw) (*RemoteError, error) {
	v, err := DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return remoteErrorFrom(v, 0)
}

func remoteErrorFrom(v any, depth int) (*RemoteError, error) {
	switch x := v.(type) {
	case *Object:
		e := &RemoteError{}
		str := func(k string) string {
			if s, ok := Get(x, k).(string); ok {
				return s
			}
			return ""
		}
		e.Name, e.Code, e.Message, e.Stack = str("name"), str("code"), str("message"), str("stack")
		if c, ok := x.Get("context"); ok {
			e.Context = c
		}
		if c, ok := x.Get("cause"); ok && c != nil && depth < 32 {
			if cause, err := remoteErrorFrom(c, depth+1); err == nil {
				e.Cause = cause
			}
		}
		if ctx, ok := e.Context.(*Object); ok && e.Cause == nil && depth < 32 {
			if inner, ok := ctx.Get("remoteError"); ok && inner != nil {
				if cause, err := remoteErrorFrom(inner, depth+1); err == nil {
					e.Cause, e.causeInContext = cause, true
				}
			}
		}
		return e, nil
	case string:
		return &RemoteError{Name: "UnknownError", Code: string(errcode.Unknown), Message: x}, nil
	}
	return nil, errcode.New(errcode.IPCProtocolError, "serialized error is not an object")
}

// Get returns the member key of o, or nil when o is nil or lacks it.
func Get(o *Object, key string) any {
	if o == nil {
		return nil
	}
	v, _ := o.Get(key)
	return v
}

// DecodeValue decodes a payload value (a SET value, a RES result, an APPLY
// argument array, ...): placeholders become Undefined, Ref, *Map, *Set and
// *big.Int, escaped strings lose their U+0004, objects become *Object, arrays
// []any, numbers float64. Bad JSON and bad placeholders are
// E_IPC_PROTOCOL_ERROR. Strings of 1 KiB or more without escapes share
// raw's memory instead of being copied: raw must not be modified afterwards
// (frames from FrameReader never are).
func DecodeValue(raw []byte) (any, error) { return decode(raw, true) }

// DecodeJSON decodes plain JSON (handshake metadata, errors) the way
// JSON.parse does, without placeholders. Like DecodeValue, big strings may
// share raw's memory.
func DecodeJSON(raw []byte) (any, error) { return decode(raw, false) }

// DecodeArgs decodes the args field of an APPLY as core 1.2.0 does: an
// absent field is one undefined argument, an array is the argument list,
// and any other value (null included) is a single argument.
func DecodeArgs(raw Raw) ([]any, error) {
	if raw == nil {
		return []any{Undefined{}}, nil
	}
	s := scanner{data: raw, maxDepth: DefaultMaxDepth}
	s.ws()
	if s.pos < len(raw) && raw[s.pos] == '[' {
		// The usual case: decode the list straight into the result.
		a, err := s.array(true)
		if err != nil {
			return nil, err
		}
		s.ws()
		if s.pos != len(raw) {
			return nil, s.errorf("unexpected data after the value")
		}
		return a, nil
	}
	v, err := DecodeValue(raw)
	if err != nil {
		return nil, err
	}
	return []any{v}, nil
}

func decode(raw []byte, revive bool) (any, error) {
	s := scanner{data: raw, maxDepth: DefaultMaxDepth}
	v, err := s.value(revive)
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.pos != len(raw) {
		return nil, s.errorf("unexpected data after the value")
	}
	return v, nil
}
