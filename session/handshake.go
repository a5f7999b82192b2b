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
	// catalog in ACK; a client's in READY, usually none). A 0.x handshake
	// has no catalog: they are not sent to a 0.x peer.
	Providers []string
	// AcceptLegacy accepts a core 0.x peer (see Core0): a daemon's
	// ServerHandshake answers a REQ without capabilities with the 0.x ACK
	// [11,id,meta], and a client's ClientHandshake answers a 0.x ACK with
	// [14,id]. When false, a 0.x peer is refused with
	// E_PROTOCOL_INCOMPATIBLE, in the bytes core 1.2.0 sends.
	AcceptLegacy bool
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
	// Providers are the peer's providers (from ACK or READY); none for a
	// 0.x peer, which has no catalog.
	Providers []string
	// Generation is the protocol generation the handshake settled on.
	Generation Generation
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

// ClientHandshake runs the client side of the handshake on a fresh
// connection: REQ with the client's metadata and the provider-catalog-v1
// capability (which a 0.x daemon ignores), then the daemon's ACK (or
// REJECT), then READY. A 1.x ACK (with capabilities) is answered with the
// 1.x READY. A 0.x ACK ([11,id,meta], without capabilities) is answered
// with [14,id] when hello.AcceptLegacy is set (Peer.Generation is then
// Core0), and otherwise refused with E_PROTOCOL_INCOMPATIBLE, as a JS 1.x
// client refuses it. An ACK whose capabilities lack provider-catalog-v1
// is always refused. When ctx ends first, the handshake stops (through
// the connection's deadlines, if it has them) and returns E_CALL_TIMEOUT
// wrapping ctx's error; the connection is then unusable. accept, if not
// nil, decides on the daemon's ACK as a JS client's canConnect does: its
// error is sent as the HANDSHAKE_REJECT instead of READY and returned as a
// local *HandshakeError.
func ClientHandshake(ctx context.Context, rw io.ReadWriter, fr *protocol.FrameReader, hello Hello, accept Accept, maxFrame int) (peer *Peer, err error) {
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
			gen, ok := negotiate(x.Capabilities, hello.AcceptLegacy)
			legacy := gen == Core0
			if !ok {
				msg := "the daemon does not speak " + CapProviderCatalog
				if legacy {
					msg += " (a core 0.x daemon, and legacy peers are refused)"
				}
				// On the wire, the bytes of a JS 1.2.0 client; the local
				// error says why.
				_ = writePacket(rw, &protocol.HandshakeRejectPacket{ID: id, Error: protocol.Raw(incompatible)}, maxFrame)
				return nil, &HandshakeError{Err: &protocol.RemoteError{Code: string(errcode.ProtocolIncompatible), Name: "_e", Message: msg}}
			}
			peer = &Peer{Metadata: x.Metadata, Capabilities: x.Capabilities, Providers: x.Providers, Generation: gen}
			if v, err := protocol.DecodeJSON(x.Metadata); err == nil {
				peer.Identity, _ = v.(*protocol.Object)
			}
			if accept != nil {
				if re := accept(peer); re != nil {
					raw, _ := protocol.AppendRemoteError(nil, re)
					_ = writePacket(rw, &protocol.HandshakeRejectPacket{ID: id, Error: raw}, maxFrame)
					return nil, &HandshakeError{Err: re}
				}
			}
			var ready *protocol.HandshakeReadyPacket
			if legacy {
				ready, peer.Providers = &protocol.HandshakeReadyPacket{ID: id, Legacy: true}, nil
			} else {
				ready = &protocol.HandshakeReadyPacket{ID: id, Capabilities: []string{CapProviderCatalog}, Providers: orEmpty(hello.Providers)}
			}
			if err := writePacket(rw, ready, maxFrame); err != nil {
				return nil, errcode.Wrap(errcode.ConnClosed, "could not send the handshake", err)
			}
			return peer, nil
		default:
			// Nothing else is expected before ACK; JS ignores it.
		}
	}
}

// Accept decides whether a peer may connect, given its handshake: a
// daemon's verdict on a client's REQ, or a client's on the daemon's ACK. A
// non-nil error is sent as the HANDSHAKE_REJECT.
type Accept func(peer *Peer) *protocol.RemoteError

// ServerHandshake runs the daemon side: it waits for REQ, asks accept,
// sends ACK with the daemon's metadata and catalog, and waits for READY.
// A REQ without a capability array (a core 0.x client: [10,id,meta,
// assigns]) opens a Core0 session when hello.AcceptLegacy is set: the ACK
// is then [11,id,meta] and READY [14,id]. A REQ whose capabilities lack
// provider-catalog-v1, or a 0.x REQ when legacy peers are not accepted, is
// refused exactly as a JS 1.2.0 daemon refuses it
// ([12,id,{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}]). Calls, and
// READY packets with another id, that arrive before READY are dropped, as
// JS drops them; a REJECT from the client after the ACK ends the
// handshake with a remote *HandshakeError, as both JS daemons close then.
// ctx bounds it as it bounds ClientHandshake.
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
	gen, ok := negotiate(req.Capabilities, hello.AcceptLegacy)
	peer.Generation = gen
	legacy := gen == Core0
	if !ok {
		return reject(&protocol.RemoteError{Code: string(errcode.ProtocolIncompatible), Name: "_e"}, []byte(incompatible))
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
	ack := &protocol.HandshakeAckPacket{ID: req.ID, Metadata: meta, Legacy: true}
	if !legacy {
		ack = &protocol.HandshakeAckPacket{ID: req.ID, Metadata: meta, Capabilities: []string{CapProviderCatalog}, Providers: orEmpty(hello.Providers)}
	}
	if err := writePacket(rw, ack, maxFrame); err != nil {
		return nil, errcode.Wrap(errcode.ConnClosed, "could not send the handshake", err)
	}
	for {
		p, err := readPacket(fr)
		if err != nil {
			return nil, err
		}
		// A READY for another id is dropped like a call: a JS daemon
		// waits for the one that answers its ACK.
		switch r := p.(type) {
		case *protocol.HandshakeReadyPacket:
			if r.ID == req.ID {
				if !legacy {
					peer.Providers = r.Providers
				}
				return peer, nil
			}
		case *protocol.HandshakeRejectPacket:
			// The client refuses our ACK: both JS daemons close at once.
			re, perr := protocol.ParseRemoteError(r.Error)
			if perr != nil {
				re = &protocol.RemoteError{Code: string(errcode.HandshakeRejected), Message: clipText(r.Error, 256)}
			}
			return nil, &HandshakeError{Remote: true, Err: re}
		}
	}
}

// incompatible is the HANDSHAKE_REJECT error both JS 1.2.0 sides send to
// a peer without provider-catalog-v1.
const incompatible = `{"code":"E_PROTOCOL_INCOMPATIBLE","name":"_e"}`

// negotiate settles the generation from the capabilities of the peer's REQ
// or ACK: none at all (absent or null) is a core 0.x peer, accepted when
// acceptLegacy is set; a capability array must hold provider-catalog-v1.
// ok is false when the peer must be refused with E_PROTOCOL_INCOMPATIBLE.
func negotiate(caps []string, acceptLegacy bool) (gen Generation, ok bool) {
	if caps == nil {
		return Core0, acceptLegacy
	}
	return Core1, slices.Contains(caps, CapProviderCatalog)
}

// orEmpty is ss, or an empty list (sent as []) when ss is nil.
func orEmpty(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
