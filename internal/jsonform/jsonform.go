// Package jsonform converts Nexus payload values to and from a
// JSON-friendly text form for command-line use (nexusctl and the interop
// test commands). Plain JSON values stand for themselves; the JS values
// that JSON cannot hold are tagged objects with a single "$" key:
//
//	Map        {"$map": [[key, value], ...]}
//	Set        {"$set": [value, ...]}
//	BigInt     {"$bigint": "12345678901234567890"}
//	undefined  {"$undefined": true}
//	reference  {"$ref": "res-3"}          (output only)
//
// An object whose only key is one of these tags is always read as the tag.
package jsonform

import (
	"math/big"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Format returns the JSON text of v in this form, with JSON.stringify's
// number and string rules.
func Format(v any) ([]byte, error) {
	return protocol.AppendJSON(nil, toJSON(v))
}

func toJSON(v any) any {
	switch x := v.(type) {
	case protocol.Undefined:
		return protocol.NewObject("$undefined", true)
	case *big.Int:
		return protocol.NewObject("$bigint", x.String())
	case *session.RemoteRef:
		return protocol.NewObject("$ref", x.ID())
	case protocol.Ref:
		return protocol.NewObject("$ref", x.ID)
	case *protocol.Map:
		entries := make([]any, 0, x.Len())
		for i := 0; i < x.Len(); i++ {
			k, val := x.At(i)
			entries = append(entries, []any{toJSON(k), toJSON(val)})
		}
		return protocol.NewObject("$map", entries)
	case *protocol.Set:
		vals := make([]any, 0, x.Len())
		for _, e := range x.Values() {
			vals = append(vals, toJSON(e))
		}
		return protocol.NewObject("$set", vals)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case *protocol.Object:
		o := &protocol.Object{}
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			o.Set(k, toJSON(e))
		}
		return o
	}
	return v
}

// Parse reads a value in this form. Every error is E_USAGE_INVALID: the
// text was typed by a person, so a syntax error is not a protocol error.
func Parse(text []byte) (any, error) {
	v, err := protocol.DecodeJSON(text)
	if err != nil {
		return nil, errcode.New(errcode.UsageInvalid, "is not valid JSON: "+errcode.MessageOf(err))
	}
	return fromJSON(v)
}

func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
		return x, nil
	case *protocol.Object:
		if x.Len() == 1 {
			k, val := x.At(0)
			switch k {
			case "$undefined":
				return protocol.Undefined{}, nil
			case "$bigint":
				s, _ := val.(string)
				b, ok := new(big.Int).SetString(s, 10)
				if !ok {
					return nil, errcode.New(errcode.UsageInvalid, `"$bigint" needs a decimal string`)
				}
				return b, nil
			case "$map":
				entries, ok := val.([]any)
				if !ok {
					return nil, errcode.New(errcode.UsageInvalid, `"$map" needs an array of [key, value] pairs`)
				}
				m := &protocol.Map{}
				for _, e := range entries {
					pair, ok := e.([]any)
					if !ok || len(pair) != 2 {
						return nil, errcode.New(errcode.UsageInvalid, `"$map" needs an array of [key, value] pairs`)
					}
					k, err := fromJSON(pair[0])
					if err != nil {
						return nil, err
					}
					v, err := fromJSON(pair[1])
					if err != nil {
						return nil, err
					}
					m.Set(k, v)
				}
				return m, nil
			case "$set":
				vals, ok := val.([]any)
				if !ok {
					return nil, errcode.New(errcode.UsageInvalid, `"$set" needs an array`)
				}
				s := &protocol.Set{}
				for _, e := range vals {
					v, err := fromJSON(e)
					if err != nil {
						return nil, err
					}
					s.Add(v)
				}
				return s, nil
			case "$ref":
				return nil, errcode.New(errcode.UsageInvalid, `"$ref" cannot be sent: references are session-bound`)
			}
		}
		for i := 0; i < x.Len(); i++ {
			k, e := x.At(i)
			v, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			x.Set(k, v)
		}
		return x, nil
	}
	return v, nil
}
