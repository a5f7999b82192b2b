package session

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// CapProviderCatalog is the capability that core 1.x peers require.
const CapProviderCatalog = "provider-catalog-v1"

// Hello is what a side announces in the handshake.
type Hello struct {
	// Metadata is the identity object, written with JSON.stringify rules
	// (for example a *protocol.Object or a struct).
	Metadata any
	// Providers are the service token ids this side provides (the daemon's
	// catalog in ACK; a client's in READY, usually none).
	Providers []string
}

// Peer is what the handshake learned about the other side.
type Peer struct {
	// Metadata is the peer's identity object as sent.
	Metadata protocol.Raw
	// Identity is Metadata decoded (nil if it is not an object).
	Identity *protocol.Object
	// Assigns is the identity the client asked the daemon to adopt (REQ
	// only), nil if none.
	Assigns protocol.Raw
	// Capabilities are the peer's capabilities.
	Capabilities []string
	// Providers are the peer's providers (from ACK or READY).
	Providers []string
}

// HandshakeError is a handshake that the peer refused (HANDSHAKE_REJECT)
// or that this side refused. Code is the remote or local code, such as
// E_PROTOCOL_INCOMPATIBLE or E_AUTH_CONNECT_DENIED.
type HandshakeError struct {
	// Remote is true when the peer sent the rejection.
	Remote bool
	// Err is the serialized rejection.
	Err *protocol.RemoteError
}

// Error describes the rejection.
func (e *HandshakeError) Error() string {
	who := "handshake refused locally: "
	if e.Remote {
		who = "handshake rejected by peer: "
	}
	return string(errcode.HandshakeRejected) + ": " + who + e.Err.Error()
}

// Is matches E_HANDSHAKE_REJECTED and the rejection's own code.
func (e *HandshakeError) Is(target error) bool {
	if c, ok := target.(errcode.Code); ok {
		return c == errcode.HandshakeRejected || string(c) == e.Err.Code
	}
	return false
}

// Unwrap returns the serialized rejection.
func (e *HandshakeError) Unwrap() error { return e.Err }

// bound makes the end of ctx interrupt reads and writes on rw, when rw
// has deadlines. The returned function, deferred with the handshake's
// error, undoes it and turns an error that the end of ctx caused into
// E_CALL_TIMEOUT wrapping ctx's error (also when ctx ended just as the
// handshake finished, since the deadline may have cut the connection).
func bound(ctx context.Context, rw io.ReadWriter) func(*error) {
	d, ok := rw.(interface{ SetDeadline(time.Time) error })
	if ctx.Done() == nil {
		return func(*error) {}
	}
	stop := func() bool { return true }
	if ok {
		stop = context.AfterFunc(ctx, func() { d.SetDeadline(time.Unix(1, 0)) })
	}
	return func(err *error) {
		// When the AfterFunc ran, the deadline may be set (or about to be):
		// the connection is unusable even if the handshake got through.
		if !stop() || (*err != nil && ctx.Err() != nil) {
			*err = errcode.FromContext(ctx)
		}
	}
}

func readPacket(fr *protocol.FrameReader) (protocol.Packet, error) {
	b, err := fr.ReadFrame()
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errcode.Wrap(errcode.ConnClosed, "connection closed during the handshake", err)
		}
		return nil, err
	}
	return protocol.DecodePacket(b, nil)
}

func writePacket(w io.Writer, p protocol.Packet, max int) error {
	b, err := protocol.AppendPacketFrame(nil, p, max)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ClientHandshake runs the client side of the core 1.x handshake on a
// fresh connection: REQ with the client's metadata and the
// provider-catalog-v1 capability, then the daemon's ACK (or REJECT), then
// READY. When ctx ends first, the handshake stops (through the
// connection's deadlines, if it has them) and returns E_CALL_TIMEOUT
// wrapping ctx's error; the connection is then unusable. A 0.x daemon (an
// ACK without capabilities) is refused with E_PROTOCOL_INCOMPATIBLE, as a
// JS 1.x client does; a later version can accept it here.
func ClientHandshake(ctx context.Context, rw io.ReadWriter, fr *protocol.FrameReader, hello Hello, maxFrame int) (peer *Peer, err error) {
	defer bound(ctx, rw)(&err)
	meta, err := protocol.AppendJSON(nil, hello.Metadata)
	if err != nil {
		return nil, err
	}
	id := protocol.NumID(1)
	if err := writePacket(rw, &protocol.HandshakeReqPacket{ID: id, Metadata: meta, Capabilities: []string{CapProviderCatalog}}, maxFrame); err != nil {
		return nil, errcode.Wrap(errcode.ConnClosed, "could not send the handshake", err)
	}
	for {
		p, err := readPacket(fr)
		if err != nil {
			return nil, err
		}
		switch x := p.(type) {
		case *protocol.HandshakeRejectPacket:
			if x.ID != id {
				continue // JS 1.x ignores a REJECT for another id
			}
			re, perr := protocol.ParseRemoteError(x.Error)
			if perr != nil {
				re = &protocol.RemoteError{Code: string(errcode.HandshakeRejected), Message: string(x.Error)}
			}
			return nil, &HandshakeError{Remote: true, Err: re}
		case *protocol.HandshakeAckPacket:
			if x.ID != id {
				continue
			}
			if x.Legacy || !slices.Contains(x.Capabilities, CapProviderCatalog) {
				rej := &protocol.RemoteError{Code: string(errcode.ProtocolIncompatible), Name: "_e", Message: "the daemon does not speak " + CapProviderCatalog + " (a core 0.x peer?)"}
				b, _ := protocol.AppendRemoteError(nil, rej)
				_ = writePacket(rw, &protocol.HandshakeRejectPacket{ID: id, Error: b}, maxFrame)
				return nil, &HandshakeError{Err: rej}
			}
			peer = &Peer{Metadata: x.Metadata, Capabilities: x.Capabilities, Providers: x.Providers}
			if v, err := protocol.DecodeJSON(x.Metadata); err == nil {
				peer.Identity, _ = v.(*protocol.Object)
			}
			providers := hello.Providers
			if providers == nil {
				providers = []string{}
			}
			if err := writePacket(rw, &protocol.HandshakeReadyPacket{ID: id, Capabilities: []string{CapProviderCatalog}, Providers: providers}, maxFrame); err != nil {
				return nil, errcode.Wrap(errcode.ConnClosed, "could not send the handshake", err)
			}
			return peer, nil
		default:
			// Nothing else is expected before ACK; JS ignores it.
		}
	}
}

// Accept decides whether a client may connect, given its handshake. A
// non-nil error is sent as the HANDSHAKE_REJECT.
type Accept func(peer *Peer) *protocol.RemoteError

// ServerHandshake runs the daemon side: it waits for REQ, refuses a peer
// without provider-catalog-v1 exactly as a JS 1.2.0 daemon does
// ([12,id,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]), asks accept,
// sends ACK with the daemon's metadata and catalog, and waits for READY.
// Calls, and READY packets with another id, that arrive before READY are
// dropped, as JS drops them. ctx bounds
// it as it bounds ClientHandshake.
func ServerHandshake(ctx context.Context, rw io.ReadWriter, fr *protocol.FrameReader, hello Hello, accept Accept, maxFrame int) (_ *Peer, err error) {
	defer bound(ctx, rw)(&err)
	var req *protocol.HandshakeReqPacket
	for req == nil {
		p, err := readPacket(fr)
		if err != nil {
			return nil, err
		}
		req, _ = p.(*protocol.HandshakeReqPacket)
	}
	peer := &Peer{Metadata: req.Metadata, Assigns: req.Assigns, Capabilities: req.Capabilities}
	if v, err := protocol.DecodeJSON(req.Metadata); err == nil {
		peer.Identity, _ = v.(*protocol.Object)
	}
	reject := func(re *protocol.RemoteError, raw []byte) (*Peer, error) {
		if raw == nil {
			raw, _ = protocol.AppendRemoteError(nil, re)
		}
		_ = writePacket(rw, &protocol.HandshakeRejectPacket{ID: req.ID, Error: raw}, maxFrame)
		return nil, &HandshakeError{Err: re}
	}
	if req.Legacy || !slices.Contains(req.Capabilities, CapProviderCatalog) {
		return reject(&protocol.RemoteError{Code: string(errcode.ProtocolIncompatible), Name: "_e"},
			[]byte(`{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}`))
	}
	if peer.Identity == nil {
		return reject(&protocol.RemoteError{Code: string(errcode.ProtocolError), Name: "NexusProtocolError", Message: "handshake metadata is not an object"}, nil)
	}
	if accept != nil {
		if re := accept(peer); re != nil {
			return reject(re, nil)
		}
	}
	meta, err := protocol.AppendJSON(nil, hello.Metadata)
	if err != nil {
		return nil, err
	}
	providers := hello.Providers
	if providers == nil {
		providers = []string{}
	}
	if err := writePacket(rw, &protocol.HandshakeAckPacket{ID: req.ID, Metadata: meta, Capabilities: []string{CapProviderCatalog}, Providers: providers}, maxFrame); err != nil {
		return nil, errcode.Wrap(errcode.ConnClosed, "could not send the handshake", err)
	}
	for {
		p, err := readPacket(fr)
		if err != nil {
			return nil, err
		}
		// A READY for another id is dropped like a call: a JS daemon
		// waits for the one that answers its ACK.
		if r, ok := p.(*protocol.HandshakeReadyPacket); ok && r.ID == req.ID {
			peer.Providers = r.Providers
			return peer, nil
		}
	}
}
