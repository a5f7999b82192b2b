package cli

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/internal/jsonform"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// pretty formats a decoded payload value the way a JS console would:
// Map(1) {"a" => 1}, Set(2) {1, 2}, 12n, undefined, ƒ res-3.
func pretty(v any) string {
	var b strings.Builder
	prettyTo(&b, v, 0)
	return b.String()
}

func prettyTo(b *strings.Builder, v any, depth int) {
	if depth > 20 {
		b.WriteString("…")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case protocol.Undefined:
		b.WriteString("undefined")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		if x != x {
			b.WriteString("NaN")
		} else {
			b.WriteString(compat.FormatNumber(x))
		}
	case string:
		if len(x) > 200 {
			b.Write(compat.AppendString(nil, x[:120]))
			b.WriteString("…(" + strconv.Itoa(len(x)) + " bytes)")
			return
		}
		b.Write(compat.AppendString(nil, x))
	case *big.Int:
		b.WriteString(x.String() + "n")
	case protocol.Ref:
		b.WriteString("ƒ " + x.ID)
	case *session.RemoteRef:
		b.WriteString("ƒ " + x.ID())
	case []any:
		b.WriteString("[")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			prettyTo(b, e, depth+1)
		}
		b.WriteString("]")
	case *protocol.Object:
		b.WriteString("{")
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if i > 0 {
				b.WriteString(", ")
			}
			if identRE.MatchString(k) {
				b.WriteString(k)
			} else {
				b.Write(compat.AppendString(nil, k))
			}
			b.WriteString(": ")
			prettyTo(b, e, depth+1)
		}
		b.WriteString("}")
	case *protocol.Map:
		b.WriteString("Map(" + strconv.Itoa(x.Len()) + ") {")
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			if i > 0 {
				b.WriteString(", ")
			}
			prettyTo(b, k, depth+1)
			b.WriteString(" => ")
			prettyTo(b, e, depth+1)
		}
		b.WriteString("}")
	case *protocol.Set:
		b.WriteString("Set(" + strconv.Itoa(x.Len()) + ") {")
		for i, e := range x.Values() {
			if i > 0 {
				b.WriteString(", ")
			}
			prettyTo(b, e, depth+1)
		}
		b.WriteString("}")
	default:
		b.WriteString("?")
	}
}

// prettyRaw decodes a payload and formats it; undecodable payloads are
// shown raw.
func prettyRaw(raw protocol.Raw, plain bool) string {
	if raw == nil {
		return "(absent)"
	}
	var v any
	var err error
	if plain {
		v, err = protocol.DecodeJSON(raw)
	} else {
		v, err = protocol.DecodeValue(raw)
	}
	if err != nil {
		return string(raw) + " (undecodable: " + err.Error() + ")"
	}
	return pretty(v)
}

func pathOf(t protocol.Callee) string {
	p := strings.Join(t.Path, ".")
	if t.ResourceID != "" {
		if p == "" {
			return t.ResourceID
		}
		return t.ResourceID + "." + p
	}
	return p
}

// describePacket is the one-line readable form of a packet.
func describePacket(p protocol.Packet) string {
	id := "id=" + p.MessageID().String()
	switch x := p.(type) {
	case *protocol.GetPacket:
		return id + " " + pathOf(x.Callee)
	case *protocol.SetPacket:
		return id + " " + pathOf(x.Callee) + " = " + prettyRaw(x.Value, false)
	case *protocol.ApplyPacket:
		if d := stateDeliveryOf(x); d != nil {
			return id + " " + d.text()
		}
		args := "()"
		if x.Args != nil {
			if v, err := protocol.DecodeArgs(x.Args); err == nil {
				s := pretty(v)
				args = "(" + s[1:len(s)-1] + ")"
			} else {
				args = "(" + string(x.Args) + " undecodable)"
			}
		}
		return id + " " + pathOf(x.Callee) + args
	case *protocol.ResPacket:
		return id + " → " + prettyRaw(x.Result, false)
	case *protocol.ErrPacket:
		if re, err := protocol.ParseRemoteError(x.Error); err == nil {
			return id + " ✗ " + firstNonEmpty(re.Code, "E_UNKNOWN") + ": " + firstNonEmpty(re.Message, "(no message)")
		}
		return id + " ✗ " + string(x.Error)
	case *protocol.ReleasePacket:
		return x.ResourceID
	case *protocol.BatchPacket:
		parts := make([]string, len(x.Calls))
		for i, c := range x.Calls {
			parts[i] = packetType(c) + " " + describePacket(c)
		}
		return id + " [" + strings.Join(parts, "; ") + "]"
	case *protocol.HandshakeReqPacket:
		s := id + " " + prettyRaw(x.Metadata, true)
		if x.Capabilities == nil {
			return s + " (0.x: no capabilities)"
		}
		return s + " caps=" + strings.Join(x.Capabilities, ",")
	case *protocol.HandshakeAckPacket:
		s := id + " " + prettyRaw(x.Metadata, true)
		if x.Capabilities == nil {
			return s + " (0.x: no capabilities)"
		}
		return s + " caps=" + strings.Join(x.Capabilities, ",") + providerList(x.Providers)
	case *protocol.HandshakeReadyPacket:
		if x.Capabilities == nil {
			return id + " (0.x: no capabilities)"
		}
		return id + " caps=" + strings.Join(x.Capabilities, ",") + providerList(x.Providers)
	case *protocol.HandshakeRejectPacket:
		return id + " " + prettyRaw(x.Error, true)
	case *protocol.IdentityUpdatePacket:
		return prettyRaw(x.Updates, true)
	case *protocol.ProviderAvailablePacket:
		return strings.Join(x.Providers, ",")
	}
	return id
}

// providerList is the providers of a handshake packet as the monitor
// prints them: " providers=a,b", or " (no providers)".
func providerList(ps []string) string {
	if len(ps) == 0 {
		return " (no providers)"
	}
	return " providers=" + strings.Join(ps, ",")
}

// packetType is the packet's type as the monitor prints it: STATE for a
// Nexus State delivery, else the packet type.
func packetType(p protocol.Packet) string {
	if a, ok := p.(*protocol.ApplyPacket); ok && stateDeliveryOf(a) != nil {
		return "STATE"
	}
	return p.Type().String()
}

// stateDelivery is a Nexus State delivery seen on the wire: a store's
// call of a mirror's onSync callback with an init, snapshot or terminal.
type stateDelivery struct {
	typ, instance string
	version       any // the delivery's version (lastKnownVersion for a terminal)
	state         any
	actions       []string
	reason        string
}

// stateDeliveryOf recognises an APPLY of a callback whose one argument
// is an object with "type" init, snapshot or terminal and a string
// "storeInstanceId"; nil for any other packet.
func stateDeliveryOf(a *protocol.ApplyPacket) *stateDelivery {
	if a.Callee.ResourceID == "" || len(a.Callee.Path) != 0 || a.Args == nil {
		return nil
	}
	args, err := protocol.DecodeArgs(a.Args)
	if err != nil || len(args) != 1 {
		return nil
	}
	env, ok := args[0].(*protocol.Object)
	if !ok {
		return nil
	}
	typ, _ := protocol.Get(env, "type").(string)
	instance, ok := protocol.Get(env, "storeInstanceId").(string)
	if !ok || (typ != "init" && typ != "snapshot" && typ != "terminal") {
		return nil
	}
	d := &stateDelivery{typ: typ, instance: instance, version: protocol.Get(env, "version"), state: protocol.Get(env, "state")}
	switch typ {
	case "init":
		d.actions = []string{}
		if acts, ok := protocol.Get(env, "actions").(*protocol.Object); ok {
			d.actions = acts.Keys()
		}
	case "terminal":
		d.version, d.state = protocol.Get(env, "lastKnownVersion"), nil
		d.reason, _ = protocol.Get(env, "reason").(string)
	}
	return d
}

// text is the delivery as the monitor prints it:
//
//	init store=1a2b3c4d v0 state={count: 0} actions=increment,fail
//	snapshot v3 state={count: 5}
//	terminal v3 reason=provider-shutdown
func (d *stateDelivery) text() string {
	v := "v" + pretty(d.version)
	if n, ok := d.version.(float64); ok {
		v = "v" + compat.FormatNumber(n)
	}
	switch d.typ {
	case "init":
		id := d.instance
		if len(id) > 8 {
			id = id[:8]
		}
		return "init store=" + id + " " + v + " state=" + pretty(d.state) + " actions=" + strings.Join(d.actions, ",")
	case "snapshot":
		return "snapshot " + v + " state=" + pretty(d.state)
	}
	return "terminal " + v + " reason=" + firstNonEmpty(d.reason, "(none)")
}

// summary is the delivery for the monitor's --json "state" field, with
// the state in nexusctl's JSON form.
func (d *stateDelivery) summary() *protocol.Object {
	o := protocol.NewObject("type", d.typ, "storeInstanceId", d.instance, "version", d.version)
	switch d.typ {
	case "init":
		o.Set("state", jsonValue(d.state))
		o.Set("actions", toAny(d.actions))
	case "snapshot":
		o.Set("state", jsonValue(d.state))
	case "terminal":
		o.Set("reason", d.reason)
	}
	return o
}

// jsonValue is v in nexusctl's JSON form (Map, Set, BigInt, undefined and
// references as tagged objects), as a value to encode.
func jsonValue(v any) any {
	b, err := jsonform.Format(v)
	if err != nil {
		return nil
	}
	out, err := protocol.DecodeJSON(b)
	if err != nil {
		return nil
	}
	return out
}
