package session

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

type appErr struct{}

func (appErr) Error() string     { return "out of stock" }
func (appErr) NexusCode() string { return "E_STOCK" }

// TestOneWayToAskForACode: errcode.CodeOf answers for every error that
// carries a code, local or remote, wrapped or not.
func TestOneWayToAskForACode(t *testing.T) {
	remote := &protocol.RemoteError{Name: "Error", Code: "E_APP", Message: "no"}
	for _, c := range []struct {
		err  error
		want errcode.Code
	}{
		{errcode.New(errcode.ConnClosed, "x"), errcode.ConnClosed},
		{fmt.Errorf("wrapped: %w", errcode.CallTimeout), errcode.CallTimeout},
		{remote, "E_APP"},
		{fmt.Errorf("call: %w", remote), "E_APP"},
		{&protocol.RemoteError{Message: "no code"}, errcode.Unknown},
		{&HandshakeError{Remote: true, Err: &protocol.RemoteError{Code: string(errcode.AuthConnectDenied)}}, errcode.AuthConnectDenied},
		{appErr{}, "E_STOCK"},
		{errors.New("plain"), ""},
	} {
		if got := errcode.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestToRemoteErrorKeepsEveryCode: what a handler returns reaches the peer
// with its code, whichever way it carries one.
func TestToRemoteErrorKeepsEveryCode(t *testing.T) {
	for _, c := range []struct {
		err        error
		code, name string
	}{
		{errcode.New("E_DIV_ZERO", "division by zero"), "E_DIV_ZERO", "NexusError"},
		{fmt.Errorf("ctx: %w", errcode.ResourceNotFound), "E_RESOURCE_NOT_FOUND", "NexusError"},
		{appErr{}, "E_STOCK", "Error"},
		{&protocol.RemoteError{Name: "X", Code: "E_RELAYED"}, "E_RELAYED", "X"},
		{errors.New("plain"), "E_UNKNOWN", "Error"},
	} {
		re := ToRemoteError(c.err)
		if re.Code != c.code || re.Name != c.name {
			t.Errorf("ToRemoteError(%v) = %s/%s, want %s/%s", c.err, re.Name, re.Code, c.name, c.code)
		}
	}
}
