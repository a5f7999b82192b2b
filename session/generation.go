package session

import "github.com/nexus-interop/nexus-go/protocol"

// Generation is the protocol generation a session speaks, settled by its
// handshake.
type Generation uint8

const (
	// Core1 is @nexus-js/core 1.x (node-ipc 0.4 and later): the handshake
	// carries the provider-catalog-v1 capability and provider catalogs.
	Core1 Generation = iota
	// Core0 is @nexus-js/core 0.x (node-ipc 0.3.x), the legacy
	// generation: [10,id,meta,assigns] / [11,id,meta] / [14,id], with no
	// capabilities and no provider catalog. Everything after the
	// handshake is as in 1.x, except that a 0.x peer cannot take
	// PROVIDER_AVAILABLE (it closes the connection), BATCH, BATCH_RES,
	// CHUNK_* or a second handshake.
	Core0
)

// String returns "1.x" or "0.x".
func (g Generation) String() string {
	if g == Core0 {
		return "0.x"
	}
	return "1.x"
}

// Legacy reports whether g is the 0.x generation.
func (g Generation) Legacy() bool { return g == Core0 }

// legacyRefuses reports whether a 0.x peer cannot take packets of type t
// after its handshake: it closes the connection on PROVIDER_AVAILABLE and
// answers the others with E_USAGE_INVALID.
func legacyRefuses(t protocol.Type) bool {
	switch t {
	case protocol.TypeProviderAvailable, protocol.TypeBatch, protocol.TypeBatchRes,
		protocol.TypeChunkStart, protocol.TypeChunkData,
		protocol.TypeHandshakeReq, protocol.TypeHandshakeAck, protocol.TypeHandshakeReady, protocol.TypeHandshakeReject:
		return true
	}
	return false
}
