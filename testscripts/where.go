package testscripts

import (
	"errors"
	"strings"

	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// whereSpec turns the test peers' JSON where spec into a Matcher, with
// the rules of whereFromSpec in node-fixtures/peers/lib.mjs: nil matches
// all; every field of the object must equal the identity's field (an
// array field matches when it contains the value); the key "$observed"
// holds fields the observed connection facts must equal. Go peers also
// take "$daemon", "$client", "$instance" and "$group", whose values go to
// the node-ipc matchers remote.MatchDaemon, MatchClient, MatchInstance
// and MatchGroup, so that the suites run each against real JS identities.
func whereSpec(spec any) remote.Matcher {
	o, ok := spec.(*protocol.Object)
	if !ok {
		return nil
	}
	var ms []remote.Matcher
	for i := 0; i < o.Len(); i++ {
		k, want := o.At(i)
		name, _ := want.(string)
		switch k {
		case "$daemon":
			ms = append(ms, remote.MatchDaemon(name))
		case "$client":
			ms = append(ms, remote.MatchClient(name))
		case "$instance":
			ms = append(ms, remote.MatchInstance(name))
		case "$group":
			ms = append(ms, remote.MatchGroup(name))
		case "$observed":
			w, _ := want.(*protocol.Object)
			ms = append(ms, func(_ *protocol.Object, obs session.Observed) bool {
				facts := observedObject(obs)
				for j := 0; w != nil && j < w.Len(); j++ {
					fk, fv := w.At(j)
					if got, _ := facts.Get(fk); got != fv {
						return false
					}
				}
				return true
			})
		default:
			ms = append(ms, func(id *protocol.Object, _ session.Observed) bool {
				got, _ := id.Get(k)
				return fieldMatches(got, want)
			})
		}
	}
	return remote.MatchAll(ms...)
}

func fieldMatches(got, want any) bool {
	if arr, ok := got.([]any); ok {
		for _, v := range arr {
			if v == want {
				return true
			}
		}
		return false
	}
	return got == want
}

// observedObject is obs as node-ipc's observed facts object.
func observedObject(obs session.Observed) *protocol.Object {
	return protocol.NewObject("authenticated", obs.Authenticated, "authMethod", obs.AuthMethod,
		"pid", float64(obs.PID), "uid", float64(obs.UID), "gid", float64(obs.GID))
}

// metaValue is a --meta flag: a JSON object of extra identity fields.
type metaValue struct{ m map[string]any }

func (v *metaValue) String() string { return "" }

func (v *metaValue) Set(s string) (err error) {
	v.m, err = metaFlag(s)
	return err
}

// metaFlag parses a JSON object of identity fields.
func metaFlag(s string) (map[string]any, error) {
	v, err := protocol.DecodeJSON(protocol.Raw(s))
	if err != nil {
		return nil, err
	}
	o, ok := v.(*protocol.Object)
	if !ok {
		return nil, errors.New("--meta: not a JSON object")
	}
	m := make(map[string]any, o.Len())
	for i := 0; i < o.Len(); i++ {
		k, v := o.At(i)
		m[k] = v
	}
	return m, nil
}

// identityDenial parses KEY=VALUE as lib.mjs does (VALUE is JSON when
// it parses as a JSON scalar, else a string): it reports identities whose
// field KEY is VALUE, or an array holding it.
func identityDenial(kv string) func(*protocol.Object) bool {
	k, s, _ := strings.Cut(kv, "=")
	var v any = s
	if j, err := protocol.DecodeJSON(protocol.Raw(s)); err == nil {
		switch j.(type) {
		case string, float64, bool, nil:
			v = j
		}
	}
	return func(id *protocol.Object) bool {
		got, _ := id.Get(k)
		return fieldMatches(got, v)
	}
}
