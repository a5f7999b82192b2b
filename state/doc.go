// Package state is Nexus State in Go, interoperable with
// @nexus-js/core/state 1.2.0 over any session: a Store hosts a state of a
// Go type for mirrors (an unchanged Node connectNexusStore, or a Go
// Mirror), and Connect mirrors a store hosted by a Node or Go peer.
//
// On the wire a store is an ordinary service, named by the store token's
// id, with one method, subscribe(onSync). The host calls onSync with an
// init delivery (storeInstanceId, version, the snapshot, the exposed
// actions and an unsubscribe function, all host resources) and answers
// subscribe once the mirror acknowledged it; later changes reach every
// mirror as snapshot deliveries, published once per window, each with a
// deadline; a terminal delivery ends a subscription with a reason
// (provider-shutdown, source-disconnected, authorization-revoked, ...).
// docs/state.md has the flow, byte by byte, and the Go API beside the JS
// one.
package state
