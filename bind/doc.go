// Package bind maps Go values to what a Nexus peer calls, reads and
// writes, the same way for the client and the daemon:
//
//   - Object makes a service of a Go value (a pointer to a struct, a
//     map[string]any, or any value reachable from those): its methods are
//     callable, its exported fields are properties to get and set, nested
//     values are reached by longer paths, with core's error codes for
//     unsafe segments, SETs on the root and calls of what is not a
//     function. Ref does the same for a value that travels by reference
//     (nexus.ref in JS); Naming lets a type choose its members' JS names.
//   - Func makes a callable resource of a Go function, and CallFunc calls
//     one for a session.Call: an optional leading context.Context and
//     *session.Call, then parameters filled from the decoded arguments
//     (those that already have the parameter's type as they are, the
//     others by Assign, remote functions as Go functions by RemoteFunc),
//     and results of nothing, a value, an error, or a value and an error.
//   - Assign stores a decoded payload value into a Go variable.
//   - Resource turns whatever travels by reference into a
//     session.Invoker; it is the sessions' Config.Bind in client and
//     daemon.
//
// Go names become JS names by one rule (compat.JSName for methods and
// fields without a json tag, protocol.StructFields for struct fields),
// applied by the encoder, Assign, Object and Ref alike; docs/PROTOCOL.md
// ("Go names in JS") has the table.
package bind
