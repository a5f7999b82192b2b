package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nexus-interop/nexus-go/protocol"
)

// hcase is one hostile case, run against each daemon on fresh connections.
type hcase struct {
	name string
	run  func(e *env) result
}

// result is what a case measured against one daemon.
type result struct {
	outcome
	sent    string   // the hostile frame, clipped, for the log
	figures []string // more figures: RSS deltas, fd counts, timeouts
	fails   []string // checks of the case itself that a Go daemon must pass
	err     error    // the tool could not run the case
}

// sizes are the counts and waits of a run: full, or reduced for --short.
type sizes struct {
	silence   time.Duration // how long the silent peer waits for a close
	trickle   time.Duration // how long the trickle goes on at most
	probeWait time.Duration // how long a probe waits for the sentinel's reply
	keys      int           // keys of the big object
	escapes   int           // frame size of the escaped string
	flood     int           // calls of the flood
	floodWait time.Duration // how long the flood waits for a close
	churn     int           // connect/close cycles
	idle      int           // idle sessions
}

var (
	// fullSizes waits past both daemons' 30 s handshake timeout and
	// uses the counts of the hostile-peers issue.
	fullSizes = sizes{silence: 35 * time.Second, trickle: 36 * time.Second, probeWait: 2 * time.Second,
		keys: 100_000, escapes: protocol.DefaultMaxFrameSize, flood: 20_000, floodWait: 20 * time.Second,
		churn: 10_000, idle: 1000}
	// shortSizes keeps a run of both daemons well under a minute.
	shortSizes = sizes{silence: time.Second, trickle: time.Second, probeWait: time.Second,
		keys: 20_000, escapes: 2 << 20, flood: 2_000, floodWait: 3 * time.Second,
		churn: 200, idle: 100}
)

// env is what a case runs with: the daemon under test, the sizes, and the
// connections it opened (closed when the case ends, or when it overruns).
type env struct {
	d  *daemon
	sz sizes

	mu     sync.Mutex
	conns  []*rawConn
	closed bool
}

// track registers c to be closed with the case (at once if it is over).
func (e *env) track(c *rawConn) *rawConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		c.close()
	}
	e.conns = append(e.conns, c)
	return c
}

// dial opens a raw connection to the daemon.
func (e *env) dial() (*rawConn, error) {
	c, err := dial(e.d.socket)
	if err != nil {
		return nil, err
	}
	return e.track(c), nil
}

// session opens a connection and completes the handshake.
func (e *env) session() (*rawConn, error) {
	c, err := e.dial()
	if err != nil {
		return nil, err
	}
	if err := c.handshake(); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return c, nil
}

// closeAll closes every connection of the case.
func (e *env) closeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, c := range e.conns {
		c.close()
	}
	e.conns = nil
}

// rss is the daemon's current VmRSS.
func (e *env) rss() kib {
	rss, _, _ := procMem(e.d.pid())
	return rss
}

// failed is the result of a case the tool could not run.
func failed(err error) result { return result{err: err} }

// handshakeTimeoutNote says where each daemon's handshake timeout comes
// from: neither nexusctl serve nor daemon.mjs can change it.
func handshakeTimeoutNote(e *env) string {
	if e.d.kind == "go" {
		return "handshake timeout 30 s (daemon.DefaultHandshakeTimeout; no nexusctl flag)"
	}
	return "handshake timeout 30 s (core dist/index.mjs:1096, handshakeTimeoutMs ?? 3e4)"
}

// cases returns every case, in the order they run. The idle sessions come
// first, while both daemons' RSS is at its baseline: the heap that later
// cases grow (and the Go runtime and V8 keep for a while, or reuse) would
// blur the per-session figure.
func cases(sz sizes) []hcase {
	var cs []hcase
	add := func(name string, run func(e *env) result) { cs = append(cs, hcase{name, run}) }
	add(thousands(sz.idle)+" idle sessions", caseIdle)
	add(thousands(sz.churn)+" connect/close cycles", caseChurn)
	add("silence in the handshake", caseSilence)
	add("1 byte / 50 ms during the handshake", caseTrickle)
	add("frame length 16 MiB + 1, before the handshake", caseLength(false))
	add("frame length 16 MiB + 1, in a session", caseLength(true))
	add("20 connections declaring 16 MiB, sending nothing, before the handshake", caseDeclared(false))
	add("20 connections declaring 16 MiB, sending nothing, in a session", caseDeclared(true))
	add("16 MiB declared, 4 MiB sent, before the handshake", casePartial(false))
	add("16 MiB declared, 4 MiB sent, in a session", casePartial(true))
	add("invalid JSON `[3,1,null,[\"demo\",\"add\"],[1,2]`", casePacket(`[3,1,null,["demo","add"],[1,2]`))
	add("not an array `{\"type\":3,\"id\":1}`", casePacket(`{"type":3,"id":1}`))
	add("unknown packet type `[4,1,null]`", casePacket(`[4,1,null]`))
	for _, id := range []string{"null", `"abc"`, "1.5", `{"n":1}`, "[1]", "true"} {
		add("APPLY demo.add(1, 2) with id `"+id+"`", casePacket(`[3,`+id+`,null,["demo","add"],[1,2]]`))
	}
	add("APPLY demo.echo of an array nested 200,000 deep", caseDeep)
	add("APPLY demo.echo of an object with "+thousands(sz.keys)+" keys", caseKeys)
	add(fmt.Sprintf("APPLY demo.echo of a %d MiB frame of `\\u0041` escapes", sz.escapes>>20), caseEscapes)
	add("APPLY between ACK and READY", caseEarly)
	add("second handshake (REQ id 2 in a session)", casePacket(strings.Replace(reqBody, "[10,1,", "[10,2,", 1)))
	add("READY with a wrong id (2)", caseWrongReady)
	add("APPLY on another connection's resource", caseForeign(false))
	add("RELEASE of another connection's resource", caseForeign(true))
	add("APPLY on an unknown resource `res-999999`", casePacket(`[3,1,"res-999999",["increment"],[]]`))
	add("RELEASE of an unknown resource `res-999999`", casePacket(`[7,null,"res-999999"]`))
	add("flood: "+thousands(sz.flood)+" demo.echo calls of 1 KiB, replies never read", caseFlood)
	return cs
}

// thousands formats n with a comma every three digits: 20,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// caseSilence connects and sends nothing.
func caseSilence(e *env) result {
	wait := e.sz.silence
	c, err := e.dial()
	if err != nil {
		return failed(err)
	}
	o := waitClose(c, time.Now(), wait)
	return result{outcome: o, figures: []string{handshakeTimeoutNote(e)}}
}

// caseTrickle sends a REQ, padded with JSON whitespace to 800 bytes (40 s
// at this pace, longer than both handshake timeouts), one byte every
// 50 ms, for sz.trickle at most.
func caseTrickle(e *env) result {
	const size = 800
	body := reqBody[:len(reqBody)-1] + strings.Repeat(" ", size-len(reqBody)) + "]"
	frame, err := protocol.AppendFrame(nil, []byte(body), 0)
	if err != nil {
		return failed(err)
	}
	limit := e.sz.trickle
	c, err := e.dial()
	if err != nil {
		return failed(err)
	}
	notes := []string{handshakeTimeoutNote(e)}
	start := time.Now()
	buf := make([]byte, 4096)
	for i := range frame {
		if time.Since(start) >= limit {
			return result{outcome: outcome{text: fmt.Sprintf("still open after %s (%d of %d bytes sent)", ms(time.Since(start)), i, len(frame))}, figures: notes}
		}
		c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := c.nc.Write(frame[i : i+1]); err != nil {
			if closedErr(err) {
				return result{outcome: outcome{text: fmt.Sprintf("closed (%d of %d bytes sent)", i, len(frame)), after: time.Since(start)}, figures: notes}
			}
			return failed(err)
		}
		c.nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := c.nc.Read(buf)
		switch {
		case n > 0:
			return result{outcome: outcome{text: fmt.Sprintf("answered a partial REQ (%d bytes) with %q", i+1, clip(string(buf[:n]), 60)), after: time.Since(start)}, figures: notes}
		case closedErr(err):
			return result{outcome: outcome{text: fmt.Sprintf("closed (%d of %d bytes sent)", i+1, len(frame)), after: time.Since(start)}, figures: notes}
		case !timeoutErr(err):
			return failed(err)
		}
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if err := c.expectAck(); err != nil {
		return result{outcome: outcome{text: "whole REQ trickled, then " + err.Error(), after: time.Since(start)}, figures: notes}
	}
	return result{outcome: outcome{text: "whole REQ trickled, then ACK", after: time.Since(start)}, figures: notes}
}

// caseLength sends a frame header of 16 MiB + 1.
func caseLength(inSession bool) func(e *env) result {
	return func(e *env) result {
		c, err := e.connect(inSession)
		if err != nil {
			return failed(err)
		}
		start := time.Now()
		if err := c.header(protocol.DefaultMaxFrameSize + 1); err != nil && !closedErr(err) {
			return failed(err)
		}
		return result{outcome: waitClose(c, start, 2*time.Second)}
	}
}

// connect is dial, or session when inSession.
func (e *env) connect(inSession bool) (*rawConn, error) {
	if inSession {
		return e.session()
	}
	return e.dial()
}

// caseDeclared opens 20 connections that each declare a 16 MiB frame and
// send nothing more, and measures the daemon's RSS while they wait.
func caseDeclared(inSession bool) func(e *env) result {
	return func(e *env) result {
		const n = 20
		before := e.rss()
		conns := make([]*rawConn, n)
		start := time.Now()
		for i := range conns {
			c, err := e.connect(inSession)
			if err != nil {
				return failed(fmt.Errorf("connection %d: %w", i, err))
			}
			if err := c.header(protocol.DefaultMaxFrameSize); err != nil && !closedErr(err) {
				return failed(err)
			}
			conns[i] = c
		}
		closed := 0
		for _, c := range conns {
			if _, cl := c.drained(5 * time.Second); cl {
				closed++
			}
		}
		elapsed := time.Since(start)
		time.Sleep(200 * time.Millisecond) // let the daemon's allocations show in RSS
		closed = max(closed, countClosed(conns))
		with := e.rss()
		text := fmt.Sprintf("all %d held open (the daemon waits for the bodies)", n)
		switch {
		case closed == n:
			text = fmt.Sprintf("all %d closed", n)
		case closed > 0:
			text = fmt.Sprintf("%d of %d closed, %d held open", closed, n, n-closed)
		}
		figs := []string{fmt.Sprintf("RSS %s MiB with them (%.0f KiB each)", (with - before).delta(), float64(with-before)/n)}
		if _, err := served(e.d.socket, servedTimeout); err != nil {
			figs = append(figs, "normal client NOT served while they wait: "+err.Error())
		} else {
			figs = append(figs, "normal client served while they wait")
		}
		r := result{outcome: outcome{text: text, after: elapsed}, figures: figs}
		if e.d.kind == "go" && with-before > 20<<10 {
			r.fails = append(r.fails, fmt.Sprintf("RSS grew by %s MiB for %d declared frames (limit 20 MiB)", (with-before).String(), n))
		}
		return r
	}
}

func countClosed(conns []*rawConn) int {
	n := 0
	for _, c := range conns {
		if c.peerClosed() {
			n++
		}
	}
	return n
}

// casePartial declares a 16 MiB frame and sends 4 MiB of it.
func casePartial(inSession bool) func(e *env) result {
	return func(e *env) result {
		const sent = 4 << 20
		before := e.rss()
		c, err := e.connect(inSession)
		if err != nil {
			return failed(err)
		}
		start := time.Now()
		b := make([]byte, 4+sent)
		copy(b, []byte{1, 0, 0, 0}) // 16 MiB
		for i := 4; i < len(b); i++ {
			b[i] = ' '
		}
		c.nc.SetWriteDeadline(start.Add(10 * time.Second))
		_, werr := c.nc.Write(b)
		read, closed := c.drained(5 * time.Second)
		elapsed := time.Since(start)
		time.Sleep(200 * time.Millisecond)
		with := e.rss()
		var text string
		switch {
		case closed || closedErr(werr):
			text = "closed"
			if werr != nil {
				text += " (our write failed: " + shortErr(werr) + ")"
			}
		case werr != nil:
			text = "write error: " + werr.Error()
		case read:
			text = "held open, all 4 MiB read (the daemon waits for the rest)"
		default:
			text = fmt.Sprintf("held open, %d bytes not read yet", c.unread())
		}
		figs := []string{fmt.Sprintf("RSS %s MiB with it", (with - before).delta())}
		r := result{outcome: outcome{text: text, after: elapsed}, figures: figs}
		if e.d.kind == "go" && with-before > 5*sent/1024+2<<10 {
			r.fails = append(r.fails, fmt.Sprintf("RSS grew by %s MiB for 4 MiB received (limit 5 × 4 + 2 MiB)", (with-before).String()))
		}
		return r
	}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// casePacket sends body in a session, the sentinel behind it.
func casePacket(body string) func(e *env) result {
	return func(e *env) result {
		c, err := e.session()
		if err != nil {
			return failed(err)
		}
		return result{outcome: probe(c, e.sz.probeWait, body), sent: clip(body, rawClip)}
	}
}

// caseDeep calls demo.echo with an array nested 200,000 deep (the
// argument list is one of the levels).
func caseDeep(e *env) result {
	const depth = 200_000
	c, err := e.session()
	if err != nil {
		return failed(err)
	}
	body := `[3,1,null,["demo","echo"],` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `]`
	return result{outcome: probe(c, 10*time.Second, body), sent: clip(body, 60)}
}

// caseKeys calls demo.echo with an object of sz.keys keys and checks the
// reply is that object.
func caseKeys(e *env) result {
	n := e.sz.keys
	var obj []byte
	obj = append(obj, '{')
	for i := range n {
		if i > 0 {
			obj = append(obj, ',')
		}
		obj = append(obj, `"k`...)
		obj = strconv.AppendInt(obj, int64(i), 10)
		obj = append(obj, `":`...)
		obj = strconv.AppendInt(obj, int64(i), 10)
	}
	obj = append(obj, '}')
	body := `[3,1,null,["demo","echo"],[` + string(obj) + `]]`
	return echoCase(e, body, string(obj), fmt.Sprintf("%d keys, %.2f MiB frame", n, float64(len(body))/(1<<20)))
}

// caseEscapes calls demo.echo with a string of \u0041 escapes filling a
// frame of sz.escapes bytes and checks the reply is that string.
func caseEscapes(e *env) result {
	size := e.sz.escapes
	head, tail := `[3,1,null,["demo","echo"],["`, `"]]`
	n := (size - len(head) - len(tail)) / len(`\u0041`)
	body := head + strings.Repeat(`\u0041`, n) + tail
	return echoCase(e, body, `"`+strings.Repeat("A", n)+`"`, fmt.Sprintf("%d escapes, %.2f MiB frame", n, float64(len(body))/(1<<20)))
}

// echoCase sends one APPLY of demo.echo and waits up to 30 s for its
// reply, which must be want.
func echoCase(e *env, body, want, what string) result {
	c, err := e.session()
	if err != nil {
		return failed(err)
	}
	start := time.Now()
	c.nc.SetDeadline(start.Add(30 * time.Second))
	other := make(chan string, 1)
	go func() {
		// A normal client while the daemon works on the big frame.
		time.Sleep(20 * time.Millisecond)
		d, err := served(e.d.socket, 30*time.Second)
		if err != nil {
			other <- "normal client during it NOT served: " + err.Error()
			return
		}
		other <- "normal client during it served in " + ms(d)
	}()
	if err := c.frames(body); err != nil && !closedErr(err) {
		return failed(err)
	}
	b, p, err := c.read()
	elapsed := time.Since(start)
	during := <-other
	var text string
	switch {
	case closedErr(err):
		text = "closed"
	case timeoutErr(err):
		text = "no answer in 30 s (still open)"
	case err != nil:
		text = "read error: " + err.Error()
	default:
		if r, ok := p.(*protocol.ResPacket); ok && r.ID == protocol.NumID(1) && string(r.Result) == want {
			text = "RES 1, echoed intact"
		} else {
			text = describe(b, p)
		}
	}
	return result{outcome: outcome{text: text, after: elapsed, raw: c.raw()}, figures: []string{what, during}}
}

// caseEarly sends an APPLY after the ACK and before READY.
func caseEarly(e *env) result {
	c, err := e.dial()
	if err != nil {
		return failed(err)
	}
	if err := c.frames(reqBody); err != nil {
		return failed(err)
	}
	if err := c.expectAck(); err != nil {
		return failed(err)
	}
	early := `[3,1,null,["demo","add"],[1,2]]`
	return result{outcome: probe(c, e.sz.probeWait, early, readyBody), sent: early + " then " + readyBody}
}

// caseWrongReady answers the ACK with a READY of id 2 (the REQ had 1).
func caseWrongReady(e *env) result {
	c, err := e.dial()
	if err != nil {
		return failed(err)
	}
	if err := c.frames(reqBody); err != nil {
		return failed(err)
	}
	if err := c.expectAck(); err != nil {
		return failed(err)
	}
	ready := `[14,2,["provider-catalog-v1"],[]]`
	return result{outcome: probe(c, e.sz.probeWait, ready), sent: ready}
}

// caseForeign: connection A makes a counter with demo.makeCounter(10);
// connection B calls it (release false) or releases it (release true).
// Then A calls it, which must still work.
func caseForeign(release bool) func(e *env) result {
	return func(e *env) result {
		a, err := e.session()
		if err != nil {
			return failed(err)
		}
		if err := a.frames(`[3,1,null,["demo","makeCounter"],[10]]`); err != nil {
			return failed(err)
		}
		b, p, err := a.read()
		if err != nil {
			return failed(fmt.Errorf("makeCounter: %w", err))
		}
		r, ok := p.(*protocol.ResPacket)
		if !ok {
			return failed(fmt.Errorf("makeCounter: got %s", clip(string(b), rawClip)))
		}
		v, err := protocol.DecodeValue(r.Result)
		ref, isRef := v.(protocol.Ref)
		if err != nil || !isRef {
			return failed(fmt.Errorf("makeCounter: %s is not a resource (%v)", r.Result, err))
		}
		id := strconv.Quote(ref.ID)
		bc, err := e.session()
		if err != nil {
			return failed(err)
		}
		body := `[3,1,` + id + `,["increment"],[]]`
		if release {
			body = `[7,null,` + id + `]`
		}
		o := probe(bc, e.sz.probeWait, body)
		if err := a.frames(`[3,2,` + id + `,["increment"],[]]`); err != nil {
			return failed(err)
		}
		b, p, err = a.read()
		owner := "owner's call afterwards: "
		if err != nil {
			owner += err.Error()
		} else {
			owner += describe(b, p)
		}
		res := result{outcome: o, figures: []string{"resource " + ref.ID, owner}, sent: body}
		if e.d.kind == "go" && (err != nil || describe(b, p) != "RES 2 11") {
			res.fails = append(res.fails, "the owner's counter no longer works: "+owner)
		}
		return res
	}
}

// caseFlood sends sz.flood calls of demo.echo with a 1 KiB argument and
// never reads a reply, and watches whether and when the daemon closes the
// connection, within sz.floodWait.
func caseFlood(e *env) result {
	n := e.sz.flood
	wait := e.sz.floodWait
	c, err := e.session()
	if err != nil {
		return failed(err)
	}
	arg := strings.Repeat("x", 1024)
	const batch = 100
	var frames [][]byte
	for i := 0; i < n; i += batch {
		var b []byte
		for j := i; j < min(n, i+batch); j++ {
			b, _ = protocol.AppendFrame(b, []byte(`[3,`+strconv.Itoa(j+1)+`,null,["demo","echo"],["`+arg+`"]]`), 0)
		}
		frames = append(frames, b)
	}
	start := time.Now()
	var written atomic.Int64
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.nc.SetWriteDeadline(start.Add(wait))
		for i, b := range frames {
			if _, err := c.nc.Write(b); err != nil {
				werr = err
				return
			}
			written.Store(int64(min(n, (i+1)*batch)))
		}
	}()
	var closedAt time.Duration
	for time.Since(start) < wait {
		if c.peerClosed() {
			closedAt = time.Since(start)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.close()
	<-done
	w := written.Load()
	var text string
	switch {
	case closedAt > 0:
		text = fmt.Sprintf("closed by the daemon after %s (%d of %d calls written)", ms(closedAt), w, n)
	case w == int64(n):
		text = fmt.Sprintf("still open after %s (all %d calls written)", ms(wait), n)
	default:
		text = fmt.Sprintf("still open after %s, our writes blocked at %d of %d calls", ms(wait), w, n)
	}
	if werr != nil && !timeoutErr(werr) && !closedErr(werr) {
		text += " (write error: " + werr.Error() + ")"
	}
	figs := []string{}
	if e.d.kind == "go" {
		figs = append(figs, "stall timeout 10 s, budget 32 MiB (daemon defaults; no nexusctl flags)")
	} else {
		figs = append(figs, "node-ipc has no stall timeout nor budget")
	}
	return result{outcome: outcome{text: text}, figures: figs} // the time is in the text
}

// caseChurn connects and closes sz.churn times from 8 workers and
// compares the daemon's open descriptors before and after.
func caseChurn(e *env) result {
	cycles := e.sz.churn
	const workers = 8
	pid := e.d.pid()
	f0, err := fdCount(pid)
	if err != nil {
		return failed(err)
	}
	start := time.Now()
	// A connect the listen backlog cannot take fails at once with EAGAIN
	// (a Unix socket does not queue it); such a cycle is retried after
	// 1 ms, up to 5 s, and counted.
	var refused, gaveUp atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				end := time.Now().Add(5 * time.Second)
				for {
					c, err := dial(e.d.socket)
					if err == nil {
						c.close()
						break
					}
					if errors.Is(err, syscall.EAGAIN) && time.Now().Before(end) {
						refused.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					gaveUp.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					break
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// The daemon accepts in order: once a client dialled now is served,
	// every cycle's connection has been accepted.
	served(e.d.socket, servedTimeout)
	f1 := f0
	for range 200 {
		if f1, err = fdCount(pid); err != nil || f1 <= f0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := fmt.Sprintf("%s cycles done", thousands(cycles))
	if r := refused.Load(); r > 0 {
		text += fmt.Sprintf(", %s connects refused with EAGAIN (listen backlog full) and retried", thousands(int(r)))
	}
	if f := gaveUp.Load(); f > 0 {
		text += fmt.Sprintf(", %d cycles failed (first: %v)", f, firstErr.Load())
	}
	r := result{outcome: outcome{text: text, after: elapsed}, figures: []string{fmt.Sprintf("daemon fds %d → %d", f0, f1)}}
	if e.d.kind == "go" && f1 > f0+2 {
		r.fails = append(r.fails, fmt.Sprintf("daemon fds %d → %d after 2 s", f0, f1))
	}
	return r
}

// caseIdle opens sz.idle sessions, holds them, and measures the daemon's
// RSS per session.
func caseIdle(e *env) result {
	n := e.sz.idle
	before := e.rss()
	start := time.Now()
	for i := range n {
		if _, err := e.session(); err != nil {
			return failed(fmt.Errorf("session %d: %w", i, err))
		}
	}
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	with := e.rss()
	figs := []string{fmt.Sprintf("RSS %s MiB with them: %.1f KiB per session", (with - before).delta(), float64(with-before)/float64(n))}
	if _, err := served(e.d.socket, servedTimeout); err != nil {
		figs = append(figs, "normal client NOT served while they are held: "+err.Error())
	}
	return result{outcome: outcome{text: fmt.Sprintf("all %d held", n), after: elapsed}, figures: figs}
}
