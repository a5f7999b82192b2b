package demo

import (
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/state"
)

// StoreToken is the token id of the demo store that `nexusctl serve`
// hosts (and the test peers host and mirror).
const StoreToken = "demo-store"

// StoreState is the demo store's state: {"count":0,"label":"demo"}.
type StoreState struct {
	Count float64 `json:"count"`
	Label string  `json:"label"`
}

// errDemo is what the demo store's fail() throws.
var errDemo = errcode.New("E_DEMO", "demo failure")

// NewStore returns the demo store, with the actions increment(n) (adds n,
// returns the new count), rename(label) (returns the label) and fail()
// (throws E_DEMO with the message "demo failure"), exposed in that order.
func NewStore(opts *state.Options[StoreState]) *state.Store[StoreState] {
	s := state.New(StoreState{Label: "demo"}, opts)
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.Action("increment", func(d *StoreState, n float64) float64 { d.Count += n; return d.Count }))
	must(s.Action("rename", func(d *StoreState, label string) string { d.Label = label; return label }))
	must(s.Action("fail", func(d *StoreState) error { return errDemo }))
	return s
}
