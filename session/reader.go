package session

import (
	"errors"
	"io"
	"math"
	"unicode/utf8"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// The reader: it decodes frames and routes them to pending calls, to the
// resource table and to serving.

// readLoop is the reader: it decodes frames and dispatches them. The
// reader role can move to a new goroutine while this one runs a call (see
// inline.go); the goroutine that loses it returns, and the one that meets
// the end of the stream ends the session.
func (c *Conn) readLoop() {
	for {
		if !c.fr.FrameReady() {
			c.flush() // about to wait for the peer: send what cork held back
		}
		if c.overBudget() {
			if err := c.waitBudget(); err != nil {
				c.readerExit(err)
				return
			}
		}
		b, err := c.fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				c.readerExit(errcode.New(errcode.ConnClosed, "connection closed by peer"))
			} else if errcode.CodeOf(err) == errcode.IPCProtocolError {
				c.readerExit(errcode.Wrap(errcode.ConnClosed, "peer broke the protocol", err))
			} else {
				c.readerExit(errcode.Wrap(errcode.ConnClosed, "connection lost", err))
			}
			return
		}
		p, err := protocol.DecodePacket(b, nil)
		if err != nil {
			c.readerExit(errcode.Wrap(errcode.ConnClosed, "peer broke the protocol", err))
			return
		}
		c.frameLen = len(b)
		if err := c.dispatch(p); err != nil {
			if err == errHandedOff {
				return
			}
			// The session ends with E_CONN_CLOSED (Err's promise), wrapping
			// why (such as an IDENTITY_UPDATE that policy refused).
			if errcode.CodeOf(err) != errcode.ConnClosed {
				err = errcode.Wrap(errcode.ConnClosed, "session closed", err)
			}
			c.readerExit(err)
			return
		}
	}
}

// readerExit ends the session from the reader, which is the only sender on
// c.tasks: closing it lets idle workers exit.
func (c *Conn) readerExit(cause error) {
	c.shutdown(cause)
	close(c.tasks)
	close(c.readDone)
}

// clipText is b as text, cut to at most n bytes (at a UTF-8 boundary) with
// "…" when longer.
func clipText(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// replyID converts a reply id to the numeric id we sent; JS matches ids
// strictly, so a string "1" never answers call 1.
func replyID(id protocol.ID) (uint64, bool) {
	n, ok := id.Num()
	if !ok || n < 1 || n != math.Trunc(n) || n > 1<<53 {
		return 0, false
	}
	return uint64(n), true
}

func (c *Conn) dispatch(p protocol.Packet) error {
	switch x := p.(type) {
	case *protocol.ResPacket:
		c.complete(x.ID, reply{result: x.Result}, x.Result)
	case *protocol.ErrPacket:
		var err error
		if falsy(x.Error) {
			// A JS caller resolves a call whose error is falsy (with
			// null); do the same.
			c.complete(x.ID, reply{result: protocol.Raw("null")}, nil)
			return nil
		}
		re, perr := protocol.ParseRemoteError(x.Error)
		if perr != nil {
			// Not an error object (or too deep to read): its text,
			// clipped (it may be 16 MiB), is the message.
			re = &protocol.RemoteError{Code: string(errcode.Unknown), Message: clipText(x.Error, 256)}
		}
		err = re
		c.complete(x.ID, reply{err: err}, nil)
	case *protocol.GetPacket:
		return c.serve(x.ID, OpGet, x.Callee, nil)
	case *protocol.SetPacket:
		return c.serve(x.ID, OpSet, x.Callee, x.Value)
	case *protocol.ApplyPacket:
		return c.serve(x.ID, OpApply, x.Callee, x.Args)
	case *protocol.ReleasePacket:
		c.local.remove(x.ResourceID)
	case *protocol.ProviderAvailablePacket:
		if c.cfg.OnProviders != nil {
			if err := c.cfg.OnProviders(x.Providers); err != nil {
				return err
			}
		}
	case *protocol.IdentityUpdatePacket:
		if c.cfg.OnIdentityUpdate != nil {
			if err := c.cfg.OnIdentityUpdate(x.Updates); err != nil {
				return err
			}
		}
	default:
		// BATCH, BATCH_RES and CHUNK_* are ignored, as core 1.2.0 does;
		// handshake packets after the handshake too.
	}
	return nil
}

// falsy reports whether a JS peer would treat the error field as falsy.
func falsy(raw protocol.Raw) bool {
	if raw == nil {
		return true
	}
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return false
	}
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0 || math.IsNaN(x)
	case string:
		return x == ""
	}
	return false
}

// complete hands a reply to its waiting caller. A reply nobody waits for
// (cancelled, unknown id) is dropped, and resources in it are released so
// the peer can free them.
func (c *Conn) complete(id protocol.ID, r reply, result protocol.Raw) {
	n, ok := replyID(id)
	var ch chan reply
	if ok {
		ch = c.calls.take(n)
	}
	if ch != nil {
		ch <- r
		return
	}
	if result != nil {
		if v, err := protocol.DecodeValue(result); err == nil {
			walkRefs(v, func(ref protocol.Ref) { _ = c.Release(ref.ID) })
		}
	}
}

// walkRefs calls f for every resource reference in a decoded value.
func walkRefs(v any, f func(protocol.Ref)) {
	switch x := v.(type) {
	case protocol.Ref:
		f(x)
	case []any:
		for _, e := range x {
			walkRefs(e, f)
		}
	case *protocol.Object:
		for i := 0; i < x.Len(); i++ {
			_, e := x.At(i)
			walkRefs(e, f)
		}
	}
}
