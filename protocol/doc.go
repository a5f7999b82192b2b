// Package protocol converts between bytes and typed Nexus messages: frames,
// pre-auth lines, the 16 message types of @nexus-js/core 1.2.0 (numbered 1
// to 17: there is no type 4), payload
// values with their placeholders, and serialized errors, and writes frames
// for concurrent senders (FrameWriter). It dials and listens nowhere, and
// its only goroutine is a FrameWriter's drain, which Wait joins; the
// session layer drives it.
//
// # Frames and pre-auth
//
// A frame is a 4-byte big-endian length and a UTF-8 JSON body of 1 to
// DefaultMaxFrameSize bytes (FrameReader, AppendFrame, AppendPacketFrame).
// Before the first frame a client may send a pre-auth line
// (AppendAuthRequest, ReadAuthLine, ParseAuthRequest, ParseAuthOK).
//
// # Packets
//
// DecodePacket turns a frame body into one of the *XxxPacket types;
// AppendPacket writes one exactly as core 1.2.0 does. Payload fields stay
// Raw JSON so that routing a packet never decodes its payload.
//
// # Payload values
//
// DecodeValue and AppendValue convert payloads. Conversion rules, Go ↔ JS ↔
// wire:
//
//	Go                         JS              wire
//	nil                        null            null
//	bool                       boolean         true / false
//	float64, ints, uints       number          ECMAScript number text; NaN, ±Inf → null
//	float32                    number          its shortest decimal, as a float64
//	string (WTF-8)             string          JSON string; starts with U+0003/U+0004 → U+0004 prefix
//	[]any, slices, arrays      Array           JSON array
//	*Object, structs, maps     plain object    JSON object (struct fields in order, named by
//	                                            StructFields; Go map keys sorted)
//	[]byte                     string          base64, as encoding/json
//	Undefined{}                undefined       "\u0003U"
//	*Map                       Map             "\u0003M:" + JSON.stringify(entries)
//	*Set                       Set             "\u0003S:" + JSON.stringify(values)
//	*big.Int                   BigInt          "\u0003N:" + decimal
//	Ref, func, Resource        remote proxy    "\u0003R:" + resource id
//	json.Marshaler             (its JSON)      re-written JSON.stringify-exact
//	encoding.TextMarshaler     string          JSON string
//
// Decoding yields nil, bool, float64, string, []any, *Object, Undefined,
// *Map, *Set, *big.Int and Ref. The contents of Maps and Sets are plain JSON:
// JS does not sanitize them, so strings there are never placeholders, a
// nested Map or Set is written as {} and a BigInt inside one is an error.
//
// Every decoding error is an *errcode.Error with code E_IPC_PROTOCOL_ERROR
// and a message that says what was wrong; errors.Is(err,
// errcode.IPCProtocolError) tests for it.
package protocol
