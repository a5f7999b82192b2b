package session

import (
	"context"
	"strconv"

	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/protocol"
)

// Serving the peer's calls: on the reader itself or on workers, and the
// replies.

// serve runs an incoming call: on the reader goroutine itself (see
// inline.go) or on a worker goroutine, bounded by MaxInFlight.
func (c *Conn) serve(id protocol.ID, op Op, t protocol.Callee, payload protocol.Raw) error {
	call := &Call{Conn: c, Op: op, ResourceID: t.ResourceID, Path: t.Path}
	var target Invoker
	if t.ResourceID == "" {
		if len(t.Path) == 0 {
			c.replyErr(id, coreError(errcode.InvalidServicePath, "MessageResourceError", "service call without a service name"))
			return nil
		}
		call.Service, call.Path = t.Path[0], t.Path[1:]
		if c.cfg.Handler == nil {
			c.replyErr(id, coreError(errcode.ResourceNotFound, "MessageResourceError", "no service "+strconv.Quote(call.Service)))
			return nil
		}
		target = c.cfg.Handler
	} else {
		res, ok := c.local.get(t.ResourceID)
		if !ok {
			if owner, found := c.group.owners.Load(t.ResourceID); found && owner != c {
				c.replyErr(id, coreError(errcode.ResourceAccessDenied, "MessageResourceError", "resource "+strconv.Quote(t.ResourceID)+" belongs to another connection"))
				return nil
			}
			c.replyErr(id, coreError(errcode.ResourceNotFound, "MessageResourceError", "resource "+strconv.Quote(t.ResourceID)+" not found"))
			return nil
		}
		target, call.Service = res.target, res.service
		if t.Long && c.cfg.Generation != Core0 {
			if want := resourceService(t.ResourceID, res.service); t.InvocationService != want {
				c.replyErr(id, mismatchError(t, want))
				return nil
			}
		}
	}

	var err error
	switch op {
	case OpSet:
		if payload == nil {
			call.Value = protocol.Undefined{}
		} else {
			call.Value, err = protocol.DecodeValue(payload)
		}
		call.Value = c.revive(call.Value)
	case OpApply:
		call.Args, err = protocol.DecodeArgs(payload)
		for i := range call.Args {
			call.Args[i] = c.revive(call.Args[i])
		}
	}
	if err != nil {
		c.replyErr(id, err)
		return nil
	}
	tk := task{id: id, target: target, call: call, size: callCost(c.frameLen)}
	c.inflight.Add(1) // counted from now: runTask takes it off
	c.held.Add(int64(tk.size))
	if c.inlineAllowed() {
		return c.runInline(tk)
	}
	c.lastWorkerTask.Store(monoNow())
	select {
	case c.tasks <- tk: // an idle worker takes it
		return nil
	default:
	}
	if c.workers.Load() < int64(c.cfg.MaxInFlight) {
		c.workers.Add(1)
		c.handlers.Add(1)
		go c.worker(tk)
		c.group.activity() // the watchdog reaps idle workers
		return nil
	}
	// MaxInFlight calls are running: wait for a worker (the reader stops
	// reading meanwhile, which pushes back on the peer).
	select {
	case c.tasks <- tk:
	case <-c.ctx.Done():
		c.inflight.Add(-1)
		c.held.Add(-int64(tk.size))
	}
	return nil
}

// worker serves calls until the reader stops (which closes c.tasks) or the
// watchdog reaps it, once the session has handed no call to workers for
// workerIdle. No timer per worker: a pending runtime timer keeps the
// runtime's sysmon thread polling, which costs every call of the process.
func (c *Conn) worker(t task) {
	defer c.handlers.Done()
	defer c.workers.Add(-1)
	c.runTask(t)
	c.serveTasks()
}

// serveTasks runs the calls handed to workers until the watchdog reaps
// this goroutine or the reader stops.
func (c *Conn) serveTasks() {
	for {
		select {
		case t, ok := <-c.tasks:
			if !ok {
				return
			}
			c.runTask(t)
		case <-c.reap:
			return
		}
	}
}

// runTask serves one incoming call and sends its reply.
func (c *Conn) runTask(t task) { c.runTaskCork(t, false, nil) }

// runTaskCork is runTask; with cork the reply may wait in the queue for
// the reader's next flush. afterHandler, if set, runs when the handler
// (user code) has returned, before the result is encoded.
func (c *Conn) runTaskCork(t task, cork bool, afterHandler func()) {
	defer c.inflight.Add(-1)
	defer func() { c.release(t.size) }() // t.size grows by the reply below
	id, call := t.id, t.call
	var res any
	var err error
	if c.cfg.Authorize != nil {
		err = c.cfg.Authorize(call)
	}
	if err == nil {
		res, err = invokeSafely(c.ctx, t.target, call)
	}
	if afterHandler != nil {
		afterHandler()
	}
	if err != nil {
		c.replyErr(id, err)
		return
	}
	raw, release, err := c.encodePooled(res, call.Service)
	if err != nil {
		c.replyErr(id, err)
		return
	}
	t.size += len(raw) // held until queued: the wait for queue space may be long
	c.held.Add(int64(len(raw)))
	_ = c.enqueue(context.Background(), &protocol.ResPacket{ID: id, Result: raw}, release, cork)
}

// invokeSafely runs a target, turning a panic into an error so that user
// code cannot crash the process through the peer.
func invokeSafely(ctx context.Context, t Invoker, call *Call) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errcode.New(errcode.Unknown, "handler panicked: "+panicString(r))
		}
	}()
	return t.Invoke(ctx, call)
}

func panicString(r any) string {
	switch x := r.(type) {
	case error:
		return x.Error()
	case string:
		return x
	}
	return "unknown panic"
}

// replyErr sends an ERR for id. A failure to send it does not end the
// session (see below), so it reports none. A call with a null id is
// answered too, with a null id, as core does.
func (c *Conn) replyErr(id protocol.ID, err error) {
	b, encErr := protocol.AppendRemoteError(nil, ToRemoteError(err))
	if encErr != nil {
		b = []byte(`{"name":"Error","code":"E_UNKNOWN","message":"unserializable error"}`)
	}
	// An error reply that cannot be sent (too big, or the session ended)
	// is dropped: the session goes on or is ending anyway.
	_ = c.send(&protocol.ErrPacket{ID: id, Error: b})
}

// InFlight returns the number of incoming calls running now.
func (c *Conn) InFlight() int { return int(c.inflight.Load()) }
