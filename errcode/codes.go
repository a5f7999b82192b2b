package errcode

import "slices"

// The codes below are every E_ code that @nexus-js/core 1.2.0 and
// @nexus-js/node-ipc 0.6.0 use, as listed in compat/testdata/errcodes.json
// (generated from their dist files by node-fixtures/vectors/errcodes.mjs);
// codes_test.go fails when the two lists differ. The name of a constant is
// its code without "E_" in CamelCase, "IPC" kept upper case. JS class names
// in the comments are the exported names; instances carry the minified
// runtime name listed in errcodes.json.

// Codes of @nexus-js/node-ipc 0.6.0, all thrown as NodeIpcError.
const (
	// IPCAddressInvalid means a target or address that names no usable Unix socket
	// (unresolvable, relative path, unsafe segment, abstract socket) or an
	// unsafe runtime directory (symlink, foreign owner, permissions too broad).
	IPCAddressInvalid Code = "E_IPC_ADDRESS_INVALID"
	// IPCAddressInUse means a live daemon already listens on the socket path.
	IPCAddressInUse Code = "E_IPC_ADDRESS_IN_USE"
	// IPCPathTooLong means the socket path is longer than 107 characters (sun_path).
	IPCPathTooLong Code = "E_IPC_PATH_TOO_LONG"
	// IPCConnectFailed means connecting to the socket failed, or (daemon side)
	// listening on it failed.
	IPCConnectFailed Code = "E_IPC_CONNECT_FAILED"
	// IPCAuthFailed means the auth token was empty or wrong, or the auth exchange
	// failed or timed out.
	IPCAuthFailed Code = "E_IPC_AUTH_FAILED"
	// IPCProtocolError means a malformed frame (zero or too large length, bad
	// length prefix) or a malformed or oversized auth line.
	IPCProtocolError Code = "E_IPC_PROTOCOL_ERROR"
	// IPCStaleSocketCleanupFailed means a stale socket file could not be removed,
	// or the path holds a file that is not a socket.
	IPCStaleSocketCleanupFailed Code = "E_IPC_STALE_SOCKET_CLEANUP_FAILED"
)

// Codes of @nexus-js/core 1.2.0 that travel on the wire or reach users.
const (
	// Unknown means an error without a string code (or a thrown non-Error) when
	// serialized into an ERR, or a connection error core could not classify.
	Unknown Code = "E_UNKNOWN"
	// ProtocolError means a packet core cannot decode or a payload value it cannot
	// serialize (NexusProtocolError, PayloadProcessorUnsupportedTypeError).
	ProtocolError Code = "E_PROTOCOL_ERROR"
	// ProtocolIncompatible means the peer's protocol version cannot be used
	// (NexusProtocolIncompatibleError).
	ProtocolIncompatible Code = "E_PROTOCOL_INCOMPATIBLE"
	// HandshakeFailed means the handshake did not complete (timed out, or the
	// connection closed before attachment); surfaced as a NexusHandshakeError.
	HandshakeFailed Code = "E_HANDSHAKE_FAILED"
	// HandshakeRejected means the peer refused the handshake with HANDSHAKE_REJECT
	// (NexusHandshakeError's default code).
	HandshakeRejected Code = "E_HANDSHAKE_REJECTED"
	// AuthConnectDenied means the policy's canConnect refused the connection.
	AuthConnectDenied Code = "E_AUTH_CONNECT_DENIED"
	// AuthCallDenied means the service policy's canCall refused the call.
	AuthCallDenied Code = "E_AUTH_CALL_DENIED"
	// RemoteException means the remote method threw or rejected (NexusRemoteError).
	RemoteException Code = "E_REMOTE_EXCEPTION"
	// ConnClosed means the connection closed before the call was answered, or a
	// message could not be sent (NexusDisconnectedError).
	ConnClosed Code = "E_CONN_CLOSED"
	// CallTimeout means no answer arrived within the call timeout.
	CallTimeout Code = "E_CALL_TIMEOUT"
	// TargetNotCallable means APPLY on a path whose value is not a function.
	TargetNotCallable Code = "E_TARGET_NOT_CALLABLE"
	// ResourceNotFound means the service or resource id of a request is unknown.
	ResourceNotFound Code = "E_RESOURCE_NOT_FOUND"
	// ResourceAccessDenied means a resource owned by another connection, or a
	// proxy already released (NexusResourceError).
	ResourceAccessDenied Code = "E_RESOURCE_ACCESS_DENIED"
	// InvalidServicePath means a request path that does not start with a service
	// name or has a forbidden segment ("__proto__", "prototype", "constructor").
	InvalidServicePath Code = "E_INVALID_SERVICE_PATH"
	// SetOnRoot means SET with an empty path, on a service or resource itself.
	SetOnRoot Code = "E_SET_ON_ROOT"
	// InvocationServiceMismatch means a resource call names a service other than
	// the one that created the resource.
	InvocationServiceMismatch Code = "E_INVOCATION_SERVICE_MISMATCH"
	// UsageInvalid means invalid use of the API (bad arguments, wrong lifecycle
	// state, unknown message type); NexusUsageError's default code.
	UsageInvalid Code = "E_USAGE_INVALID"
	// ServiceAcquisitionTimeout means acquiring a service proxy did not finish
	// within the acquisition timeout.
	ServiceAcquisitionTimeout Code = "E_SERVICE_ACQUISITION_TIMEOUT"
	// ServiceUnavailable is core's code for a service no connection
	// provides ("Service "x" is unavailable."); nexus-go also reports it
	// for an unknown service of a core 0.x daemon, which has no catalog
	// and answers E_RESOURCE_NOT_FOUND.
	ServiceUnavailable Code = "E_SERVICE_UNAVAILABLE"
)

// Codes of @nexus-js/core 1.2.0 raised locally by the JS API: service
// acquisition, targeting, endpoints, configuration and bootstrap.
const (
	// Aborted means service acquisition was aborted through its AbortSignal.
	Aborted Code = "E_ABORTED"
	// ServiceAmbiguous means several providers match a token that must resolve to one.
	ServiceAmbiguous Code = "E_SERVICE_AMBIGUOUS"
	// ServiceNoMatch means no provider matches the token.
	ServiceNoMatch Code = "E_SERVICE_NO_MATCH"
	// ServiceWaitTimeout means no matching provider appeared within the wait timeout.
	ServiceWaitTimeout Code = "E_SERVICE_WAIT_TIMEOUT"
	// TargetRequired means no target given, neither by the call, the token's
	// defaultTarget nor the endpoint's defaultTarget.
	TargetRequired Code = "E_TARGET_REQUIRED"
	// TargetConstraintFailed means the target's connection failed its constraint
	// (the service-level form of ConnectionConstraintFailed).
	TargetConstraintFailed Code = "E_TARGET_CONSTRAINT_FAILED"
	// TargetUnexpectedCount means a unicast call got other than exactly one result
	// (NexusTargetingError).
	TargetUnexpectedCount Code = "E_TARGET_UNEXPECTED_COUNT"
	// TargetNoMatch is not produced by core 1.2.0; its relay only recognizes it
	// (with TargetUnexpectedCount) and maps it to RelayUpstreamTargetNotFound.
	TargetNoMatch Code = "E_TARGET_NO_MATCH"
	// ConnectionConstraintFailed means a connection does not satisfy the requested
	// target constraint (NexusConnectionConstraintFailedError).
	ConnectionConstraintFailed Code = "E_CONNECTION_CONSTRAINT_FAILED"
	// EndpointConnectFailed means an endpoint adapter could not connect to a
	// target (NexusEndpointConnectError).
	EndpointConnectFailed Code = "E_ENDPOINT_CONNECT_FAILED"
	// EndpointListenFailed means an endpoint adapter could not start listening
	// (NexusEndpointListenError).
	EndpointListenFailed Code = "E_ENDPOINT_LISTEN_FAILED"
	// EndpointCapabilityMismatch means an endpoint adapter lacks a capability the
	// configuration needs (NexusEndpointCapabilityError).
	EndpointCapabilityMismatch Code = "E_ENDPOINT_CAPABILITY_MISMATCH"
	// EndpointSourceConflict means both configure({endpoint}) and @Endpoint, or
	// two @Endpoint decorators, define the endpoint.
	EndpointSourceConflict Code = "E_ENDPOINT_SOURCE_CONFLICT"
	// ConfigurationInvalid means the Nexus configuration is incomplete or invalid
	// (e.g. no endpoint implementation and meta); the configuration error's
	// default code.
	ConfigurationInvalid Code = "E_CONFIGURATION_INVALID"
	// DuplicateProvider means a provider for the token id is already registered
	// on this Nexus instance.
	DuplicateProvider Code = "E_DUPLICATE_PROVIDER"
	// ProviderDuplicateToken means a provider registration repeats token ids
	// already registered.
	ProviderDuplicateToken Code = "E_PROVIDER_DUPLICATE_TOKEN"
	// ProviderBatchInvalid means a batch provider registration failed validation.
	ProviderBatchInvalid Code = "E_PROVIDER_BATCH_INVALID"
	// NexusBootstrappingLocked means configure() or provider registration while
	// the instance is bootstrapping.
	NexusBootstrappingLocked Code = "E_NEXUS_BOOTSTRAPPING_LOCKED"
	// NexusAlreadyReady means a structural configure() after the instance is ready.
	NexusAlreadyReady Code = "E_NEXUS_ALREADY_READY"
	// NexusBootstrapFailed means bootstrapping the Nexus instance failed (wraps
	// the cause).
	NexusBootstrapFailed Code = "E_NEXUS_BOOTSTRAP_FAILED"
	// UsageDefaultCreateConflict means a Token's defaultTarget is not a plain
	// object.
	UsageDefaultCreateConflict Code = "E_USAGE_DEFAULT_CREATE_CONFLICT"
)

// Codes of @nexus-js/core/relay 1.2.0 (RelayError).
const (
	// RelayOperationUnsupported means an operation the relay does not forward
	// (SET).
	RelayOperationUnsupported Code = "E_RELAY_OPERATION_UNSUPPORTED"
	// RelayPayloadUnsupported means a relayed payload holds a capability-bearing
	// value (function, ref, proxy).
	RelayPayloadUnsupported Code = "E_RELAY_PAYLOAD_UNSUPPORTED"
	// RelayPolicyDenied means the relay policy refused the call or store
	// operation, or the caller is not trusted or not the action's owner.
	RelayPolicyDenied Code = "E_RELAY_POLICY_DENIED"
	// RelayUpstreamDisconnected means the upstream connection is closed or stale.
	RelayUpstreamDisconnected Code = "E_RELAY_UPSTREAM_DISCONNECTED"
	// RelayUpstreamFailure means the upstream call failed for another reason, or
	// the relay has no invocation context.
	RelayUpstreamFailure Code = "E_RELAY_UPSTREAM_FAILURE"
	// RelayUpstreamTargetNotFound means the upstream target could not be resolved.
	RelayUpstreamTargetNotFound Code = "E_RELAY_UPSTREAM_TARGET_NOT_FOUND"
)

// Codes of @nexus-js/core/state 1.2.0 (the Nexus store).
const (
	// StoreConnect means connecting to a remote store failed
	// (NexusStoreConnectError).
	StoreConnect Code = "E_STORE_CONNECT"
	// StoreDisconnected means the store's connection closed
	// (NexusStoreDisconnectedError).
	StoreDisconnected Code = "E_STORE_DISCONNECTED"
	// StoreAction means a store action failed (NexusStoreActionError).
	StoreAction Code = "E_STORE_ACTION"
	// StoreProtocol means a malformed store message or an unclassified store
	// failure (NexusStoreProtocolError).
	StoreProtocol Code = "E_STORE_PROTOCOL"
)

// jsCodes are the codes that @nexus-js/core 1.2.0 and @nexus-js/node-ipc
// 0.6.0 can produce, sorted: every constant above but TargetNoMatch.
var jsCodes = []Code{
	Aborted,
	AuthCallDenied,
	AuthConnectDenied,
	CallTimeout,
	ConfigurationInvalid,
	ConnectionConstraintFailed,
	ConnClosed,
	DuplicateProvider,
	EndpointCapabilityMismatch,
	EndpointConnectFailed,
	EndpointListenFailed,
	EndpointSourceConflict,
	HandshakeFailed,
	HandshakeRejected,
	InvalidServicePath,
	InvocationServiceMismatch,
	IPCAddressInvalid,
	IPCAddressInUse,
	IPCAuthFailed,
	IPCConnectFailed,
	IPCPathTooLong,
	IPCProtocolError,
	IPCStaleSocketCleanupFailed,
	NexusAlreadyReady,
	NexusBootstrappingLocked,
	NexusBootstrapFailed,
	ProtocolError,
	ProtocolIncompatible,
	ProviderBatchInvalid,
	ProviderDuplicateToken,
	RelayOperationUnsupported,
	RelayPayloadUnsupported,
	RelayPolicyDenied,
	RelayUpstreamDisconnected,
	RelayUpstreamFailure,
	RelayUpstreamTargetNotFound,
	RemoteException,
	ResourceAccessDenied,
	ResourceNotFound,
	ServiceAcquisitionTimeout,
	ServiceAmbiguous,
	ServiceNoMatch,
	ServiceUnavailable,
	ServiceWaitTimeout,
	SetOnRoot,
	StoreAction,
	StoreConnect,
	StoreDisconnected,
	StoreProtocol,
	TargetConstraintFailed,
	TargetNotCallable,
	TargetRequired,
	TargetUnexpectedCount,
	Unknown,
	UsageDefaultCreateConflict,
	UsageInvalid,
}

// JSCodes returns the codes that @nexus-js/core 1.2.0 and
// @nexus-js/node-ipc 0.6.0 can produce, sorted by value. The slice is a
// copy. TargetNoMatch, which core only recognizes, is not in it.
func JSCodes() []Code { return slices.Clone(jsCodes) }
