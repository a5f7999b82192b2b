package remote

import (
	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Matcher chooses peers, as a JS where function (contextMeta,
// connectionMeta) does: it sees the peer's identity metadata as last
// updated (the handshake's, merged with every IDENTITY_UPDATE since) and
// what this side observed about the connection (socket, pre-auth, the
// peer's pid, uid and gid). nil matches every peer. It is called with no
// lock held and must not block.
type Matcher func(identity *protocol.Object, observed session.Observed) bool

func str(o *protocol.Object, key string) string {
	s, _ := protocol.Get(o, key).(string)
	return s
}

// MatchDaemon matches a node-ipc daemon with this appId.
func MatchDaemon(appID string) Matcher {
	return func(id *protocol.Object, _ session.Observed) bool {
		return str(id, "context") == compat.DaemonContext && str(id, "appId") == appID
	}
}

// MatchClient matches a node-ipc client with this appId.
func MatchClient(appID string) Matcher {
	return func(id *protocol.Object, _ session.Observed) bool {
		return str(id, "context") == compat.ClientContext && str(id, "appId") == appID
	}
}

// MatchInstance matches a node-ipc daemon of this instance ("default"
// when its identity has none). Clients have no instance: it never
// matches one.
func MatchInstance(name string) Matcher {
	return func(id *protocol.Object, _ session.Observed) bool {
		if str(id, "context") != compat.DaemonContext {
			return false
		}
		inst := str(id, "instance")
		if inst == "" {
			inst = compat.DefaultInstance
		}
		return inst == name
	}
}

// MatchGroup matches peers whose identity field "groups" holds name: an
// array of strings containing it, or the string itself. node-ipc 0.3.x
// peers send "groups" from their options; node-ipc 0.6.0 drops that
// option from its identity, so a 0.6.0 peer is in a group only when it
// puts "groups" in its metadata itself (custom endpoint meta, or
// updateIdentity({groups: [...]}), which this matcher then sees).
func MatchGroup(name string) Matcher {
	return func(id *protocol.Object, _ session.Observed) bool {
		switch g := protocol.Get(id, "groups").(type) {
		case string:
			return g == name
		case []any:
			for _, v := range g {
				if v == any(name) {
					return true
				}
			}
		}
		return false
	}
}

// MatchField matches peers whose identity field key equals value (a
// string, float64, bool or nil, compared as decoded JSON): the matcher for
// custom identity metadata such as {"role":"worker"}.
func MatchField(key string, value any) Matcher {
	return func(id *protocol.Object, _ session.Observed) bool {
		v, ok := id.Get(key)
		return ok && v == value
	}
}

// MatchAll matches when every matcher does (nil matchers match).
func MatchAll(ms ...Matcher) Matcher {
	return func(id *protocol.Object, o session.Observed) bool {
		for _, m := range ms {
			if m != nil && !m(id, o) {
				return false
			}
		}
		return true
	}
}

// MatchAny matches when any matcher does (a nil matcher matches).
func MatchAny(ms ...Matcher) Matcher {
	return func(id *protocol.Object, o session.Observed) bool {
		for _, m := range ms {
			if m == nil || m(id, o) {
				return true
			}
		}
		return false
	}
}

// matches applies m, which may be nil, to an identity that may be nil (a
// peer whose metadata is not an object matches only a nil Matcher).
func (m Matcher) matches(id *protocol.Object, o session.Observed) bool {
	if m == nil {
		return true
	}
	if id == nil {
		return false
	}
	return m(id, o)
}
