package protocol

import (
	"strconv"

	"github.com/nexus-interop/nexus-go/compat"
)

// Type is a Nexus message type, the first element of every packet.
type Type uint8

// The message types of @nexus-js/core 1.2.0. There is no type 4.
const (
	TypeGet               Type = 1
	TypeSet               Type = 2
	TypeApply             Type = 3
	TypeRes               Type = 5
	TypeErr               Type = 6
	TypeRelease           Type = 7
	TypeBatch             Type = 8
	TypeBatchRes          Type = 9
	TypeHandshakeReq      Type = 10
	TypeHandshakeAck      Type = 11
	TypeHandshakeReject   Type = 12
	TypeIdentityUpdate    Type = 13
	TypeHandshakeReady    Type = 14
	TypeProviderAvailable Type = 15
	TypeChunkStart        Type = 16
	TypeChunkData         Type = 17
)

var typeNames = [...]string{
	TypeGet: "GET", TypeSet: "SET", TypeApply: "APPLY", TypeRes: "RES", TypeErr: "ERR",
	TypeRelease: "RELEASE", TypeBatch: "BATCH", TypeBatchRes: "BATCH_RES",
	TypeHandshakeReq: "HANDSHAKE_REQ", TypeHandshakeAck: "HANDSHAKE_ACK",
	TypeHandshakeReject: "HANDSHAKE_REJECT", TypeIdentityUpdate: "IDENTITY_UPDATE",
	TypeHandshakeReady: "HANDSHAKE_READY", TypeProviderAvailable: "PROVIDER_AVAILABLE",
	TypeChunkStart: "CHUNK_START", TypeChunkData: "CHUNK_DATA",
}

// String returns the JS name of the type ("APPLY"), or "TYPE(n)".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "TYPE(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is a message type of core 1.2.0.
func (t Type) Known() bool { return int(t) < len(typeNames) && typeNames[t] != "" }

// ID is a message id: null (the zero value, used by notifications), a
// number or a string. A reply must echo the id with the same JSON type: a JS
// caller does not match "1" with 1.
type ID struct {
	kind uint8 // 0 null, 1 number, 2 string
	num  float64
	str  string
}

// NullID is the null id of notifications.
var NullID = ID{}

// NumID returns a numeric id.
func NumID(n float64) ID { return ID{kind: 1, num: n} }

// StringID returns a string id.
func StringID(s string) ID { return ID{kind: 2, str: s} }

// IsNull reports whether the id is null.
func (id ID) IsNull() bool { return id.kind == 0 }

// Num returns the numeric value and whether the id is a number.
func (id ID) Num() (float64, bool) { return id.num, id.kind == 1 }

// Str returns the string value and whether the id is a string.
func (id ID) Str() (string, bool) { return id.str, id.kind == 2 }

// String formats the id as its JSON text.
func (id ID) String() string { return string(id.append(nil)) }

func (id ID) append(dst []byte) []byte {
	switch id.kind {
	case 1:
		return compat.AppendNumber(dst, id.num)
	case 2:
		return compat.AppendString(dst, id.str)
	}
	return append(dst, "null"...)
}

// Packet is one decoded Nexus message: one of the *XxxPacket types of this
// package. It is a closed set.
type Packet interface {
	// Type returns the message type.
	Type() Type
	// MessageID returns the message id.
	MessageID() ID
	packet()
}

// Call addressing shared by GET, SET and APPLY.
type Callee struct {
	// ResourceID is the resource the call targets; "" (null on the wire)
	// for a service call, whose Path then starts with the service token id.
	ResourceID string
	// Path is the property path. A nil Path is written as null.
	Path []string
	// Long selects the long form that carries InvocationService at index 4.
	// core 1.2.0 writes the short form and reads both.
	Long bool
	// InvocationService is the service name of the long form; "" is null.
	InvocationService string
}

// GetPacket reads a property: [1,id,resourceId,path] (short form) or
// [1,id,resourceId,path,invocationServiceName].
type GetPacket struct {
	// ID is the message id.
	ID ID
	Callee
}

// SetPacket writes a property: [2,id,resourceId,path,value] or
// [2,id,resourceId,path,invocationServiceName,value].
type SetPacket struct {
	// ID is the message id.
	ID ID
	Callee
	// Value is the payload-encoded value.
	Value Raw
}

// ApplyPacket calls a function: [3,id,resourceId,path,args] or
// [3,id,resourceId,path,invocationServiceName,args].
type ApplyPacket struct {
	// ID is the message id.
	ID ID
	Callee
	// Args is the payload-encoded argument array.
	Args Raw
}

// ResPacket is a successful reply: [5,id,result].
type ResPacket struct {
	// ID is the message id.
	ID ID
	// Result is the payload-encoded result.
	Result Raw
}

// ErrPacket is a failed reply: [6,id,error]. The error is a serialized
// error object (see RemoteError). Note that a JS caller RESOLVES a call
// answered with [6,id,null]; never send a null error.
type ErrPacket struct {
	// ID is the message id.
	ID ID
	// Error is the serialized error object.
	Error Raw
}

// ReleasePacket drops a resource: [7,id,resourceId]; id is null in 1.2.0.
type ReleasePacket struct {
	// ID is the message id.
	ID ID
	// ResourceID is the resource released.
	ResourceID string
}

// BatchPacket carries nested calls: [8,id,[call,...]]. 1.2.0 never sends
// it and ignores it.
type BatchPacket struct {
	// ID is the message id.
	ID ID
	// Calls are the nested packets; nil is null.
	Calls []Packet
}

// BatchResPacket answers a batch: [9,id,results]. 1.2.0 never sends it.
type BatchResPacket struct {
	// ID is the message id.
	ID ID
	// Results is the payload of the batch results.
	Results Raw
}

// HandshakeReqPacket opens a session:
// [10,id,metadata,assigns,capabilities]. A 0.x peer omits capabilities
// (Legacy).
type HandshakeReqPacket struct {
	// ID is the message id.
	ID ID
	// Metadata is the sender's identity object.
	Metadata Raw
	// Assigns is the identity the client asks the daemon to adopt (null if none).
	Assigns Raw
	// Capabilities are the sender's capabilities; nil is null.
	Capabilities []string
	// Legacy is the 0.x layout: four elements, no capabilities.
	Legacy bool
}

// HandshakeAckPacket accepts a session:
// [11,id,metadata,capabilities,providers]. A 0.x peer sends three elements
// (Legacy).
type HandshakeAckPacket struct {
	// ID is the message id.
	ID ID
	// Metadata is the sender's identity object.
	Metadata Raw
	// Capabilities are the sender's capabilities; nil is null.
	Capabilities []string
	// Providers are the sender's provided service token ids; nil is null.
	Providers []string
	// Legacy is the 0.x layout, without capabilities and providers.
	Legacy bool
}

// HandshakeRejectPacket refuses a session: [12,id,error].
type HandshakeRejectPacket struct {
	// ID is the message id.
	ID ID
	// Error is the serialized error object.
	Error Raw
}

// IdentityUpdatePacket changes the sender's metadata: [13,id,updates].
type IdentityUpdatePacket struct {
	// ID is the message id.
	ID ID
	// Updates are the identity fields that change.
	Updates Raw
}

// HandshakeReadyPacket completes a session:
// [14,id,capabilities,providers]. A 0.x peer sends [14,id] (Legacy).
type HandshakeReadyPacket struct {
	// ID is the message id.
	ID ID
	// Capabilities are the sender's capabilities; nil is null.
	Capabilities []string
	// Providers are the sender's provided service token ids; nil is null.
	Providers []string
	// Legacy is the 0.x layout, without capabilities and providers.
	Legacy bool
}

// ProviderAvailablePacket announces late providers: [15,id,providers].
type ProviderAvailablePacket struct {
	// ID is the message id.
	ID ID
	// Providers are the sender's provided service token ids; nil is null.
	Providers []string
}

// ChunkStartPacket starts a chunked message:
// [16,id,totalChunks,originalMessageId,originalMessageType]. 1.2.0 never
// sends it and ignores it.
type ChunkStartPacket struct {
	// ID is the message id.
	ID ID
	// TotalChunks is nil when null.
	TotalChunks *float64
	// OriginalMessageID is the id of the chunked message.
	OriginalMessageID ID
	// OriginalMessageType is nil when null.
	OriginalMessageType *float64
}

// ChunkDataPacket carries one chunk: [17,id,chunkIndex,chunkData].
type ChunkDataPacket struct {
	// ID is the message id.
	ID ID
	// ChunkIndex is nil when null.
	ChunkIndex *float64
	// ChunkData is this chunk's data.
	ChunkData Raw
}

// Type returns the message type.
func (*GetPacket) Type() Type { return TypeGet }

// Type returns the message type.
func (*SetPacket) Type() Type { return TypeSet }

// Type returns the message type.
func (*ApplyPacket) Type() Type { return TypeApply }

// Type returns the message type.
func (*ResPacket) Type() Type { return TypeRes }

// Type returns the message type.
func (*ErrPacket) Type() Type { return TypeErr }

// Type returns the message type.
func (*ReleasePacket) Type() Type { return TypeRelease }

// Type returns the message type.
func (*BatchPacket) Type() Type { return TypeBatch }

// Type returns the message type.
func (*BatchResPacket) Type() Type { return TypeBatchRes }

// Type returns the message type.
func (*HandshakeReqPacket) Type() Type { return TypeHandshakeReq }

// Type returns the message type.
func (*HandshakeAckPacket) Type() Type { return TypeHandshakeAck }

// Type returns the message type.
func (*HandshakeRejectPacket) Type() Type { return TypeHandshakeReject }

// Type returns the message type.
func (*IdentityUpdatePacket) Type() Type { return TypeIdentityUpdate }

// Type returns the message type.
func (*HandshakeReadyPacket) Type() Type { return TypeHandshakeReady }

// Type returns the message type.
func (*ProviderAvailablePacket) Type() Type { return TypeProviderAvailable }

// Type returns the message type.
func (*ChunkStartPacket) Type() Type { return TypeChunkStart }

// Type returns the message type.
func (*ChunkDataPacket) Type() Type { return TypeChunkData }

// MessageID returns the message id.
func (p *GetPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *SetPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ApplyPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ResPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ErrPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ReleasePacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *BatchPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *BatchResPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *HandshakeReqPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *HandshakeAckPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *HandshakeRejectPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *IdentityUpdatePacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *HandshakeReadyPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ProviderAvailablePacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ChunkStartPacket) MessageID() ID { return p.ID }

// MessageID returns the message id.
func (p *ChunkDataPacket) MessageID() ID { return p.ID }

func (*GetPacket) packet()               {}
func (*SetPacket) packet()               {}
func (*ApplyPacket) packet()             {}
func (*ResPacket) packet()               {}
func (*ErrPacket) packet()               {}
func (*ReleasePacket) packet()           {}
func (*BatchPacket) packet()             {}
func (*BatchResPacket) packet()          {}
func (*HandshakeReqPacket) packet()      {}
func (*HandshakeAckPacket) packet()      {}
func (*HandshakeRejectPacket) packet()   {}
func (*IdentityUpdatePacket) packet()    {}
func (*HandshakeReadyPacket) packet()    {}
func (*ProviderAvailablePacket) packet() {}
func (*ChunkStartPacket) packet()        {}
func (*ChunkDataPacket) packet()         {}
