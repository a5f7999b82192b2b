package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/jsonform"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/state"
)

// Nexus State in nexusctl: the demo store of serve, and the watch and
// store commands, which mirror a store with state.Connect.

// mirror is a mirror of any store: its state is the decoded snapshot
// (Raw), never assigned to a Go type.
type mirror = state.Mirror[any]

// dialStore dials the command's target and subscribes to the store named
// token; on failure it prints why, closes what it opened and returns a nil
// mirror and the exit status.
func (e *env) dialStore(token string) (*conn, *mirror, int) {
	c, _, code := e.dial()
	if c == nil {
		return nil, nil, code
	}
	m, code := e.connectStore(c.ctx, c, token)
	if m == nil {
		c.close()
		return nil, nil, code
	}
	return c, m, ExitOK
}

// connectStore subscribes to the store named token over c, bounded by
// ctx. It prints what went wrong and returns the exit status on failure.
func (e *env) connectStore(ctx context.Context, c *conn, token string) (*mirror, int) {
	m, err := state.Connect[any](ctx, c.Service(token))
	if err != nil {
		return nil, e.failStore(err)
	}
	return m, ExitOK
}

// failStore is fail for the errors of state.Connect, which wrap the
// host's refusal in an E_STORE_* error: both codes are shown, the store's
// first, then the refusal and its causes.
func (e *env) failStore(err error) int {
	var ce *errcode.Error
	var re *protocol.RemoteError
	if errors.As(err, &ce) && strings.HasPrefix(string(ce.Code), "E_STORE_") && errors.As(err, &re) {
		fmt.Fprintf(e.stderr, "%s %s: %s\n", e.paint("31", "remote error"), ce.Code, firstNonEmpty(ce.Message, "(no message)"))
		for c := re; c != nil; c = c.Cause {
			fmt.Fprintf(e.stderr, "  caused by %s: %s\n", firstNonEmpty(c.Code, string(errcode.Unknown)), firstNonEmpty(c.Message, "(no message)"))
		}
		return ExitRemote
	}
	if isTimeout(err) || errors.Is(err, errcode.StoreConnect) {
		fmt.Fprintf(e.stderr, "%s %s: the store did not answer the subscribe within %s\n", e.paint("31", "error"), errcode.StoreConnect, e.timeoutDesc())
		return ExitTimeout
	}
	return e.fail(err)
}

// storeArgs checks the positional arguments of watch and store: STORE,
// then for store an optional ACTION and its ARGs (read as call reads
// them). It prints what is wrong and returns ok false.
func (e *env) storeArgs(maxArgs int) (store, action string, args []any, ok bool) {
	after := e.afterTarget()
	if (e.flags["socket"] == "" && len(e.args) == 0) || len(after) == 0 || (maxArgs > 0 && len(after) > maxArgs) {
		fmt.Fprintf(e.stderr, "nexusctl %s: wrong number of arguments\nusage: %s\n", e.cmd.name, e.cmd.usage())
		return "", "", nil, false
	}
	store = after[0]
	if len(after) > 1 {
		action = after[1]
	}
	for i, a := range after[min(2, len(after)):] {
		v, err := e.readArg(i+1, a)
		if err != nil {
			fmt.Fprintf(e.stderr, "nexusctl %s: %v\n", e.cmd.name, err)
			return "", "", nil, false
		}
		args = append(args, v)
	}
	return store, action, args, true
}

// runStore prints a store's state once, or runs one of its actions and
// prints the result; then it unsubscribes.
func runStore(e *env) int {
	token, action, args, ok := e.storeArgs(0)
	if !ok {
		return ExitUsage
	}
	c, m, code := e.dialStore(token)
	if m == nil {
		return code
	}
	defer c.close()
	defer m.Destroy()
	if action == "" {
		return e.printValue(m.Raw())
	}
	if names := m.Actions(); !slices.Contains(names, action) {
		slices.Sort(names)
		fmt.Fprintf(e.stderr, "%s %s: the store %s has no action %q (its actions: %s)\n", e.paint("31", "error"), errcode.TargetNotCallable, token, action, firstNonEmpty(strings.Join(names, ", "), "none"))
		return ExitRemote
	}
	res, err := m.Act(c.ctx, action, args...)
	if err != nil {
		return e.fail(err)
	}
	return e.printValue(res.Value())
}

// updateQueue collects a mirror's updates from the session's goroutine,
// which must not wait, for the goroutine that prints them.
type updateQueue struct {
	mu    sync.Mutex
	items []state.Update
	ready chan struct{} // holds one token while items is not empty
}

func newUpdateQueue() *updateQueue { return &updateQueue{ready: make(chan struct{}, 1)} }

func (q *updateQueue) push(u state.Update) {
	q.mu.Lock()
	q.items = append(q.items, u)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns the updates queued so far.
func (q *updateQueue) take() []state.Update {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// consistent reads a mirror's status and state as one pair (a snapshot
// may be applied between the two reads).
func consistent(m *mirror) (state.Status, any) {
	for {
		st := m.Status()
		raw := m.Raw()
		if again := m.Status(); again.Kind == st.Kind && again.Version == st.Version {
			return st, raw
		}
	}
}

// runWatch mirrors a store and prints every delivery until the store
// ends it (exit 1), the session is lost (exit 2), --count deliveries were
// printed or SIGINT/SIGTERM (exit 0). --timeout bounds connecting and
// subscribing only.
func runWatch(e *env) int {
	token, _, _, ok := e.storeArgs(1)
	if !ok {
		return ExitUsage
	}
	count := 0
	if s := e.flags["count"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(e.stderr, "nexusctl watch: --count %q: want a positive number of deliveries\n", s)
			return ExitUsage
		}
		count = n
	}
	c, m, code := e.dialStore(token)
	if m == nil {
		return code
	}
	defer c.close()
	// From here on nothing is bounded by --timeout, and SIGINT or SIGTERM
	// ends the watch (before, they end the process).
	c.cancel()
	defer m.Destroy()
	sig, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	q := newUpdateQueue()
	cancel := m.Subscribe(q.push)
	defer cancel()

	w := &watcher{e: e, json: e.bools["json"]}
	// The init was applied before Connect returned, and snapshots may have
	// followed it before Subscribe: print what the mirror holds as the
	// init, and skip the queued snapshots it already includes.
	st, raw := consistent(m)
	w.init(st, raw, m.Actions())
	printed := 1
	if f := e.flags["ready-file"]; f != "" {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			fmt.Fprintf(e.stderr, "nexusctl watch: --ready-file: %v\n", err)
			return ExitUsage
		}
	}
	if st.Kind != state.Ready {
		return w.end(st)
	}
	version := st.Version
	for {
		if count > 0 && printed >= count {
			return ExitOK
		}
		for _, u := range q.take() {
			switch {
			case u.Type == "snapshot" && u.Status.Version <= version:
				continue // already in what was printed
			case u.Type == "snapshot":
				version = u.Status.Version
				w.snapshot(u.Status, u.State)
				printed++
			case u.Type == "terminal", u.Type == "status" && u.Status.Kind != state.Ready:
				return w.end(u.Status)
			default:
				continue
			}
			if count > 0 && printed >= count {
				return ExitOK
			}
		}
		select {
		case <-q.ready:
		case <-sig.Done():
			return ExitOK
		}
	}
}

// watcher prints a watched store's deliveries: one JSON object per line
// with --json, else the whole state first and then the keys each change
// moved.
type watcher struct {
	e    *env
	json bool
	last any // the state printed last
}

func (w *watcher) line(kv ...any) {
	b, err := jsonform.Format(protocol.NewObject(kv...))
	if err != nil {
		b, _ = protocol.AppendJSON(nil, protocol.NewObject("type", "error", "message", err.Error()))
	}
	fmt.Fprintln(w.e.stdout, string(b))
}

func (w *watcher) init(st state.Status, raw any, actions []string) {
	w.last = raw
	if w.json {
		w.line("type", "init", "version", float64(st.Version), "state", raw)
		return
	}
	slices.Sort(actions)
	fmt.Fprintf(w.e.stdout, "%s  %s  %s\n", w.e.paint("1", "v"+strconv.FormatInt(st.Version, 10)), pretty(raw),
		w.e.paint("2", "(actions: "+firstNonEmpty(strings.Join(actions, ", "), "none")+")"))
}

func (w *watcher) snapshot(st state.Status, raw any) {
	prev := w.last
	w.last = raw
	if w.json {
		w.line("type", "snapshot", "version", float64(st.Version), "state", raw)
		return
	}
	v := w.e.paint("1", "v"+strconv.FormatInt(st.Version, 10))
	changes := diffState(prev, raw)
	if len(changes) == 0 {
		fmt.Fprintf(w.e.stdout, "%s  (no change)\n", v)
	}
	for _, ch := range changes {
		fmt.Fprintf(w.e.stdout, "%s  %s\n", v, ch)
	}
}

// end prints the mirror's end (a terminal delivery, or a status that
// ends the mirror without one) and returns the exit status: 2 when the
// session was lost, 1 otherwise.
func (w *watcher) end(st state.Status) int {
	if st.Reason == "session-lost" {
		msg := "the connection to the daemon was lost"
		if st.Err != nil {
			msg += ": " + st.Err.Error()
		}
		fmt.Fprintf(w.e.stderr, "%s %s: %s\n", w.e.paint("31", "error"), errcode.StoreDisconnected, msg)
		return ExitConn
	}
	reason := firstNonEmpty(st.Reason, st.Kind)
	if w.json {
		w.line("type", "terminal", "version", float64(st.Version), "reason", reason)
	} else {
		fmt.Fprintf(w.e.stdout, "%s  %s %s\n", w.e.paint("1", "v"+strconv.FormatInt(st.Version, 10)), w.e.paint("31", "terminal:"), reason)
	}
	return ExitRemote
}

// diffState describes how next differs from prev, one entry per
// top-level key: "key: old → new", with (absent) for an added or removed
// key; a state that is not an object is shown whole.
func diffState(prev, next any) []string {
	po, ok1 := prev.(*protocol.Object)
	no, ok2 := next.(*protocol.Object)
	if !ok1 || !ok2 {
		if sameValue(prev, next) {
			return nil
		}
		return []string{pretty(prev) + " → " + pretty(next)}
	}
	key := func(k string) string {
		if identRE.MatchString(k) {
			return k
		}
		return string(compat.AppendString(nil, k))
	}
	var out []string
	for i := 0; i < no.Len(); i++ {
		k, v := no.At(i)
		old, had := po.Get(k)
		switch {
		case !had:
			out = append(out, key(k)+": (absent) → "+pretty(v))
		case !sameValue(old, v):
			out = append(out, key(k)+": "+pretty(old)+" → "+pretty(v))
		}
	}
	for i := 0; i < po.Len(); i++ {
		k, v := po.At(i)
		if _, has := no.Get(k); !has {
			out = append(out, key(k)+": "+pretty(v)+" → (absent)")
		}
	}
	return out
}

// sameValue compares two decoded values by their nexusctl JSON form.
func sameValue(a, b any) bool {
	x, err1 := jsonform.Format(a)
	y, err2 := jsonform.Format(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
