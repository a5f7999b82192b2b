package demo

import (
	"context"
	"os"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/session"
)

// Worker is the service the test clients provide to their daemon: the
// surface of the worker of node-fixtures/peers/client.mjs (hello, whoami,
// add, fail, callback, makeCounter, slow and the property label), so that
// a daemon can drive Go and Node clients alike.
type Worker struct {
	// AppID is the providing client's appId, which Hello names.
	AppID string `json:"-"`
	// Label is a property the daemon gets and sets.
	Label string `json:"label"`
}

// Hello greets name as "hello NAME from go client APPID".
func (w *Worker) Hello(name string) string { return "hello " + name + " from go client " + w.AppID }

// Whoami returns {pid, appId, kind: "go-client"}.
func (w *Worker) Whoami() *protocol.Object {
	return protocol.NewObject("pid", float64(os.Getpid()), "appId", w.AppID, "kind", "go-client")
}

// Add returns a + b.
func (w *Worker) Add(a, b float64) float64 { return a + b }

// Fail fails with this code and message.
func (w *Worker) Fail(code, message string) error { return errcode.New(errcode.Code(code), message) }

// Callback calls fn(i) for i = 0..n-1, awaiting each, and returns the
// results: a call back into the daemon from inside the daemon's call.
func (w *Worker) Callback(ctx context.Context, fn *session.RemoteRef, n int) ([]any, error) {
	return (&Service{}).Callback(ctx, fn, n)
}

// MakeCounter returns a reference to a counter object (value,
// increment()).
func (w *Worker) MakeCounter(start float64) session.Invoker { return (&Service{}).MakeCounter(start) }

// Slow answers ms after it is called (or fails when the call's context
// ends).
func (w *Worker) Slow(ctx context.Context, ms float64) (float64, error) {
	return (&Service{}).Sleep(ctx, ms)
}
