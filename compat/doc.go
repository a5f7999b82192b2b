// Package compat holds every JavaScript rule that nexus-go must follow to be
// byte-for-byte compatible with @nexus-js/core 1.2.0 and @nexus-js/node-ipc
// 0.6.0 peers, in one place:
//
//   - JSON text as JSON.stringify writes it: AppendString (escaping, lone
//     surrogates, no HTML escaping) and AppendNumber (ECMAScript
//     Number::toString); AppendUnquoted and ParseNumber read JSON as
//     JSON.parse over a TextDecoder-decoded frame does.
//   - Strings: JS strings are UTF-16 and may hold lone surrogates. In Go they
//     are carried as WTF-8 (DecodeRune, FromUTF16, ToUTF16, UTF16Len). A Go
//     string that is not valid WTF-8 is written with U+FFFD for each maximal
//     invalid subpart — exactly what a JS peer's TextDecoder would make of
//     the raw bytes — so the text on the wire is always well-formed UTF-8.
//   - Addresses: the default socket path (RuntimeRoot, DefaultSocketPath),
//     segment and path validation (CheckSegment, ValidateSocketPath) with the
//     E_IPC_* codes, and Node's path.posix.normalize and join.
//   - Other JS value rules: array-index key order of objects (IsArrayIndex)
//     and BigInt(string) (ParseBigInt).
//
// Everything here is checked against golden vectors that
// node-fixtures/vectors generates from the real JS packages
// (compat/testdata, see FORMAT.md there).
package compat
