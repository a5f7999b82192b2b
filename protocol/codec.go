package protocol

import (
	"math"
	"strconv"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
)

// AppendPacket appends the JSON text of p to dst exactly as core 1.2.0's
// serializer writes it: a positional array with every field of the type's
// schema, absent ones (nil Raw, nil slices, "" resource ids) as null.
func AppendPacket(dst []byte, p Packet) ([]byte, error) {
	dst = append(dst, '[')
	dst = strconv.AppendUint(dst, uint64(p.Type()), 10)
	dst = append(dst, ',')
	dst = p.MessageID().append(dst)
	var err error
	switch x := p.(type) {
	case *GetPacket:
		dst = x.Callee.append(dst)
	case *SetPacket:
		dst = x.Callee.append(dst)
		dst = appendRaw(dst, x.Value)
	case *ApplyPacket:
		dst = x.Callee.append(dst)
		dst = appendRaw(dst, x.Args)
	case *ResPacket:
		dst = appendRaw(dst, x.Result)
	case *ErrPacket:
		dst = appendRaw(dst, x.Error)
	case *ReleasePacket:
		dst = appendNullString(append(dst, ','), x.ResourceID)
	case *BatchPacket:
		dst = append(dst, ',')
		if x.Calls == nil {
			dst = append(dst, "null"...)
			break
		}
		dst = append(dst, '[')
		for i, c := range x.Calls {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = AppendPacket(dst, c); err != nil {
				return dst, err
			}
		}
		dst = append(dst, ']')
	case *BatchResPacket:
		dst = appendRaw(dst, x.Results)
	case *HandshakeReqPacket:
		dst = appendRaw(dst, x.Metadata)
		dst = appendRaw(dst, x.Assigns)
		if !x.Legacy {
			dst = appendStrings(append(dst, ','), x.Capabilities)
		}
	case *HandshakeAckPacket:
		dst = appendRaw(dst, x.Metadata)
		if !x.Legacy {
			dst = appendStrings(append(dst, ','), x.Capabilities)
			dst = appendStrings(append(dst, ','), x.Providers)
		}
	case *HandshakeRejectPacket:
		dst = appendRaw(dst, x.Error)
	case *IdentityUpdatePacket:
		dst = appendRaw(dst, x.Updates)
	case *HandshakeReadyPacket:
		if !x.Legacy {
			dst = appendStrings(append(dst, ','), x.Capabilities)
			dst = appendStrings(append(dst, ','), x.Providers)
		}
	case *ProviderAvailablePacket:
		dst = appendStrings(append(dst, ','), x.Providers)
	case *ChunkStartPacket:
		dst = appendOptNumber(append(dst, ','), x.TotalChunks)
		dst = x.OriginalMessageID.append(append(dst, ','))
		dst = appendOptNumber(append(dst, ','), x.OriginalMessageType)
	case *ChunkDataPacket:
		dst = appendOptNumber(append(dst, ','), x.ChunkIndex)
		dst = appendRaw(dst, x.ChunkData)
	default:
		return dst, errcode.New(errcode.ProtocolError, "unknown packet type")
	}
	return append(dst, ']'), nil
}

// MarshalPacket is AppendPacket into a new slice.
func MarshalPacket(p Packet) ([]byte, error) { return AppendPacket(nil, p) }

func (t *Callee) append(dst []byte) []byte {
	dst = appendNullString(append(dst, ','), t.ResourceID)
	dst = appendStrings(append(dst, ','), t.Path)
	if t.Long {
		dst = appendNullString(append(dst, ','), t.InvocationService)
	}
	return dst
}

func appendRaw(dst []byte, r Raw) []byte {
	dst = append(dst, ',')
	if r == nil {
		return append(dst, "null"...)
	}
	return append(dst, r...)
}

func appendOptNumber(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return compat.AppendNumber(dst, *f)
}

func appendNullString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return compat.AppendString(dst, s)
}

func appendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = compat.AppendString(dst, s)
	}
	return append(dst, ']')
}

// DecodeOptions bounds packet decoding. The zero value uses the defaults.
type DecodeOptions struct {
	// MaxDepth bounds JSON nesting; 0 means DefaultMaxDepth.
	MaxDepth int
}

// maxFields is the longest schema of 1.2.0 (SET/APPLY long form): type, id
// and four fields.
const maxFields = 6

// DecodePacket decodes one packet body (the bytes of a frame). It checks the
// JSON fully and the types of the routed fields, and keeps payload fields
// (values, args, results, errors, metadata) as Raw slices of data, which
// must therefore not be modified while the packet is in use.
//
// Missing trailing elements are absent fields and extra elements are
// ignored, as in JS. Everything else that JS would choke on later (a non-
// array, an unknown type, an id that is neither number, string nor null, a
// path that is not an array of strings, ...) is an E_IPC_PROTOCOL_ERROR whose
// message says what was wrong.
func DecodePacket(data []byte, opts *DecodeOptions) (Packet, error) {
	// JS decodes frames with TextDecoder, which drops a leading BOM.
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:]
	}
	s := scanner{data: data, maxDepth: DefaultMaxDepth}
	if opts != nil && opts.MaxDepth > 0 {
		s.maxDepth = opts.MaxDepth
	}
	p, err := s.packet()
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.pos != len(data) {
		return nil, s.errorf("unexpected data after the packet")
	}
	return p, nil
}

func protoErr(t Type, msg string) error {
	return errcode.New(errcode.IPCProtocolError, t.String()+" packet: "+msg)
}

// packet decodes the array at s.pos.
func (s *scanner) packet() (Packet, error) {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '[' {
		if err := s.skip(); err != nil {
			return nil, err
		}
		return nil, errcode.New(errcode.IPCProtocolError, "packet is not a JSON array")
	}
	if empty, err := s.open(']'); err != nil {
		return nil, err
	} else if empty {
		return nil, errcode.New(errcode.IPCProtocolError, "packet is an empty array")
	}
	var spans [maxFields][]byte
	n := 0
	for more := true; more; {
		s.ws()
		start := s.pos
		if err := s.skipField(); err != nil {
			return nil, err
		}
		if n < maxFields {
			spans[n] = s.data[start:s.pos]
		}
		n++
		var err error
		if more, err = s.next(']'); err != nil {
			return nil, err
		}
	}
	f := fields{spans: spans[:min(n, maxFields)]}
	tf, ok := f.number(0)
	if !ok {
		return nil, errcode.New(errcode.IPCProtocolError, "message type is not a number: "+string(spans[0]))
	}
	if tf != math.Trunc(tf) || tf < 0 || tf > 255 || !Type(tf).Known() {
		return nil, errcode.New(errcode.IPCProtocolError, "unknown message type "+string(spans[0]))
	}
	t := Type(tf)
	f.t = t
	id, err := f.id(1)
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeGet, TypeSet, TypeApply:
		var tg Callee
		if tg.ResourceID, err = f.nullString(2, "resourceId"); err != nil {
			return nil, err
		}
		if tg.Path, err = f.strings(3, "path"); err != nil {
			return nil, err
		}
		// Short forms: GET with 4 elements, SET/APPLY with 5 (or fewer).
		long := (t == TypeGet && n >= 5) || (t != TypeGet && n >= 6)
		payloadAt := 4
		if long {
			tg.Long = true
			if tg.InvocationService, err = f.nullString(4, "invocationServiceName"); err != nil {
				return nil, err
			}
			payloadAt = 5
		}
		switch t {
		case TypeGet:
			return &GetPacket{ID: id, Callee: tg}, nil
		case TypeSet:
			return &SetPacket{ID: id, Callee: tg, Value: f.raw(payloadAt)}, nil
		default:
			return &ApplyPacket{ID: id, Callee: tg, Args: f.raw(payloadAt)}, nil
		}
	case TypeRes:
		return &ResPacket{ID: id, Result: f.raw(2)}, nil
	case TypeErr:
		return &ErrPacket{ID: id, Error: f.raw(2)}, nil
	case TypeRelease:
		rid, err := f.nullString(2, "resourceId")
		if err != nil {
			return nil, err
		}
		return &ReleasePacket{ID: id, ResourceID: rid}, nil
	case TypeBatch:
		raw := f.raw(2)
		if raw == nil || raw[0] != '[' {
			return nil, protoErr(t, "calls is not an array")
		}
		sub := scanner{data: raw, maxDepth: s.maxDepth, depth: s.depth + 1}
		calls, err := sub.batchCalls()
		if err != nil {
			return nil, err
		}
		return &BatchPacket{ID: id, Calls: calls}, nil
	case TypeBatchRes:
		return &BatchResPacket{ID: id, Results: f.raw(2)}, nil
	case TypeHandshakeReq:
		p := &HandshakeReqPacket{ID: id, Metadata: f.raw(2), Assigns: f.raw(3), Legacy: n == 4}
		if p.Capabilities, err = f.strings(4, "capabilities"); err != nil {
			return nil, err
		}
		return p, nil
	case TypeHandshakeAck:
		p := &HandshakeAckPacket{ID: id, Metadata: f.raw(2), Legacy: n == 3}
		if p.Capabilities, err = f.strings(3, "capabilities"); err != nil {
			return nil, err
		}
		if p.Providers, err = f.strings(4, "providers"); err != nil {
			return nil, err
		}
		return p, nil
	case TypeHandshakeReject:
		return &HandshakeRejectPacket{ID: id, Error: f.raw(2)}, nil
	case TypeIdentityUpdate:
		return &IdentityUpdatePacket{ID: id, Updates: f.raw(2)}, nil
	case TypeHandshakeReady:
		p := &HandshakeReadyPacket{ID: id, Legacy: n == 2}
		if p.Capabilities, err = f.strings(2, "capabilities"); err != nil {
			return nil, err
		}
		if p.Providers, err = f.strings(3, "providers"); err != nil {
			return nil, err
		}
		return p, nil
	case TypeProviderAvailable:
		p := &ProviderAvailablePacket{ID: id}
		if p.Providers, err = f.strings(2, "providers"); err != nil {
			return nil, err
		}
		return p, nil
	case TypeChunkStart:
		p := &ChunkStartPacket{ID: id}
		var ok bool
		if p.TotalChunks, ok = f.optNumber(2); !ok {
			return nil, protoErr(t, "totalChunks is not a number")
		}
		if p.OriginalMessageID, err = f.id(3); err != nil {
			return nil, err
		}
		if p.OriginalMessageType, ok = f.optNumber(4); !ok {
			return nil, protoErr(t, "originalMessageType is not a number")
		}
		return p, nil
	case TypeChunkData:
		p := &ChunkDataPacket{ID: id, ChunkData: f.raw(3)}
		var ok bool
		if p.ChunkIndex, ok = f.optNumber(2); !ok {
			return nil, protoErr(t, "chunkIndex is not a number")
		}
		return p, nil
	}
	return nil, errcode.New(errcode.IPCProtocolError, "unknown message type "+t.String())
}

// batchCalls decodes the array of nested packets at s.pos.
func (s *scanner) batchCalls() ([]Packet, error) {
	calls := []Packet{}
	if empty, err := s.open(']'); err != nil {
		return nil, err
	} else if empty {
		return calls, nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '[' {
			if err := s.skip(); err != nil {
				return nil, err
			}
			return nil, protoErr(TypeBatch, "nested call is not an array")
		}
		c, err := s.packet()
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
		if more, err := s.next(']'); err != nil {
			return nil, err
		} else if !more {
			return calls, nil
		}
	}
}

// fields gives typed access to the validated element spans of a packet.
type fields struct {
	t     Type
	spans [][]byte
}

func (f *fields) get(i int) []byte {
	if i < len(f.spans) {
		return f.spans[i]
	}
	return nil
}

// raw returns field i as Raw: nil when absent, "null" when null.
func (f *fields) raw(i int) Raw {
	if b := f.get(i); b != nil {
		return Raw(b)
	}
	return nil
}

func (f *fields) number(i int) (float64, bool) {
	b := f.get(i)
	if len(b) == 0 || !(b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		return 0, false
	}
	return compat.ParseNumber(b), true
}

// optNumber accepts a number, or null/absent as nil.
func (f *fields) optNumber(i int) (*float64, bool) {
	b := f.get(i)
	if b == nil || string(b) == "null" {
		return nil, true
	}
	v, ok := f.number(i)
	return &v, ok
}

func (f *fields) id(i int) (ID, error) {
	b := f.get(i)
	switch {
	case b == nil || string(b) == "null":
		return NullID, nil
	case b[0] == '"':
		str, err := decodeString(b)
		return StringID(str), err
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		return NumID(compat.ParseNumber(b)), nil
	}
	return NullID, protoErr(f.t, "id is not a number, string or null: "+clip(b))
}

func (f *fields) nullString(i int, name string) (string, error) {
	b := f.get(i)
	if b == nil || string(b) == "null" {
		return "", nil
	}
	if b[0] != '"' {
		return "", protoErr(f.t, name+" is not a string or null: "+clip(b))
	}
	return decodeString(b)
}

func (f *fields) strings(i int, name string) ([]string, error) {
	b := f.get(i)
	if b == nil || string(b) == "null" {
		return nil, nil
	}
	if b[0] != '[' {
		return nil, protoErr(f.t, name+" is not an array: "+clip(b))
	}
	s := scanner{data: b, pos: 1, maxDepth: 2}
	s.ws()
	if s.data[s.pos] == ']' {
		return []string{}, nil
	}
	out := make([]string, 0, 4) // paths are short: one allocation
	for {
		s.ws()
		if s.data[s.pos] != '"' {
			return nil, protoErr(f.t, name+" element "+strconv.Itoa(len(out))+" is not a string")
		}
		str, err := s.name()
		if err != nil {
			return nil, err
		}
		out = append(out, str)
		s.ws()
		if s.data[s.pos] == ']' {
			return out, nil
		}
		s.pos++ // ','
	}
}

func decodeString(b []byte) (string, error) {
	s := scanner{data: b, maxDepth: 1}
	return s.str()
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
