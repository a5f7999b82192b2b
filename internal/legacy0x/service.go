package legacy0x

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/compat"
	"github.com/nexus-interop/nexus-go/protocol"
)

// ServiceName is the token id of the daemon's only service.
const ServiceName = "echo-service"

// Captured bodies (stacks shortened as the capture shortens them).
const (
	errApp        = `{"code":"E_APP"}`
	errFailPlain  = `{"name":"Error","code":"E_UNKNOWN","message":"plain boom","stack":"Error: plain boom\n    at Object.failPlain (file:///<harness>/…"}`
	errFailString = `{"name":"Error","code":"E_UNKNOWN","message":"just a string","stack":"Error: just a string\n    at Re (file:///<build>/packages/…"}`
	valuesReply   = `{"m":"\u0003M:[[\"a\",1],[\"f\",null]]","s":"\u0003S:[1,\"x\"]","u":"\u0003U","big":"\u0003N:10","esc":"\u0004\u0003R:x","esc4":"\u0004\u0004y","arr":["\u0003U","\u0003N:1"],"nan":null,"date":{},"nul":null}`
	undefinedJSON = `"\u0003U"`
)

// resource is a daemon resource: a function or a nexus.ref object that a
// client holds as "\u0003R:res-N".
type resource struct {
	id      string
	owner   *conn
	service string // the service whose call made it
	node    *node
}

// node is a JS value of the daemon's object graph: an object with
// members, a function, or any other value as its payload JSON.
type node struct {
	names []string
	kids  []*node
	obj   bool
	fn    *method
	this  *node  // the object a method belongs to
	value []byte // payload JSON of a plain value
}

// method is a function of the graph. An async method waits for the
// client (it calls one of its resources) and runs on a goroutine of its
// own; the others run on the connection's reader, so their replies keep
// the order of the calls, as a JS daemon answers synchronous methods.
type method struct {
	async bool
	run   func(x *inv) ([]byte, *thrown)
}

// inv is one call of a method.
type inv struct {
	c       *conn
	this    *node
	args    []any
	service string
}

func (x *inv) arg(i int) any {
	if i < len(x.args) {
		return x.args[i]
	}
	return protocol.Undefined{}
}

func obj(kv ...any) *node {
	n := &node{obj: true}
	for i := 0; i < len(kv); i += 2 {
		n.set(kv[i].(string), kv[i+1].(*node))
	}
	return n
}

func val(v string) *node { return &node{value: []byte(v)} }

func fn(async bool, run func(x *inv) ([]byte, *thrown)) *node {
	return &node{fn: &method{async: async, run: run}}
}

func (n *node) get(name string) *node {
	if !n.obj {
		return nil
	}
	for i, k := range n.names {
		if k == name {
			return n.kids[i]
		}
	}
	return nil
}

func (n *node) set(name string, v *node) {
	if v.fn != nil {
		v.this = n
	}
	for i, k := range n.names {
		if k == name {
			n.kids[i] = v
			return
		}
	}
	n.names = append(n.names, name)
	n.kids = append(n.kids, v)
}

func (n *node) walk(path []string) *node {
	for _, seg := range path {
		if n = n.get(seg); n == nil {
			return nil
		}
	}
	return n
}

func echoService() *node {
	return obj(
		"echo", fn(false, func(x *inv) ([]byte, *thrown) {
			return str("echo:" + jsString(x.arg(0))), nil
		}),
		"withCb", fn(true, func(x *inv) ([]byte, *thrown) {
			cb, t := x.callback(1, "cb")
			if t != nil {
				return nil, t
			}
			args, _ := protocol.AppendValue(nil, []any{toNumber(x.arg(0)) * 2}, nil)
			return x.c.invoke(cb, []string{}, args)
		}),
		"cbTwice", fn(true, func(x *inv) ([]byte, *thrown) {
			cb, t := x.callback(0, "cb")
			if t != nil {
				return nil, t
			}
			a, t := x.c.invoke(cb, []string{}, []byte(`["a"]`))
			if t != nil {
				return nil, t
			}
			b, t := x.c.invoke(cb, []string{}, []byte(`["b"]`))
			if t != nil {
				return nil, t
			}
			return []byte("[" + string(a) + "," + string(b) + "]"), nil
		}),
		"cbThrows", fn(true, func(x *inv) ([]byte, *thrown) {
			cb, t := x.callback(0, "cb")
			if t != nil {
				return nil, t
			}
			r, t := x.c.invoke(cb, []string{}, []byte(`[]`))
			if t == errClosed {
				return nil, t
			}
			if t != nil {
				// The service catches the error and returns its code and
				// message.
				b, _ := protocol.AppendValue(nil, protocol.NewObject("code", t.code, "message", t.message), nil)
				return b, nil
			}
			return r, nil
		}),
		"cbThrowsProp", fn(true, func(x *inv) ([]byte, *thrown) {
			cb, t := x.callback(0, "cb")
			if t != nil {
				return nil, t
			}
			return x.c.invoke(cb, []string{}, []byte(`[]`))
		}),
		"fail", fn(false, func(*inv) ([]byte, *thrown) {
			return nil, &thrown{wire: []byte(errApp), code: "E_APP"}
		}),
		"failPlain", fn(false, func(*inv) ([]byte, *thrown) {
			return nil, &thrown{wire: []byte(errFailPlain), code: "E_UNKNOWN", message: "plain boom"}
		}),
		"failString", fn(false, func(*inv) ([]byte, *thrown) {
			return nil, &thrown{wire: []byte(errFailString), code: "E_UNKNOWN", message: "just a string"}
		}),
		"count", val("5"),
		"nested", obj(
			"deep", val("7"),
			"fn", fn(false, func(*inv) ([]byte, *thrown) { return str("nested-fn"), nil }),
		),
		"values", fn(false, func(*inv) ([]byte, *thrown) { return []byte(valuesReply), nil }),
		"makeRef", fn(false, func(x *inv) ([]byte, *thrown) {
			ref := newRef()
			x.c.d.mu.Lock()
			x.c.d.lastRef = ref
			x.c.d.mu.Unlock()
			id, err := x.c.d.register(x.c, ref, x.service)
			if err != nil {
				return nil, typeError(err.Error())
			}
			return refJSON(id), nil
		}),
		"peekLastRef", fn(false, func(x *inv) ([]byte, *thrown) {
			d := x.c.d
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.lastRef == nil {
				return []byte(undefinedJSON), nil
			}
			return valueOf(d.lastRef.get("n")), nil
		}),
		"takeRef", fn(true, func(x *inv) ([]byte, *thrown) {
			r, ok := x.arg(0).(protocol.Ref)
			if !ok {
				return nil, typeError("r.hello is not a function")
			}
			return x.c.invoke(r.ID, []string{"hello"}, []byte(`["d"]`))
		}),
	)
}

// newRef is the object of makeRef: nexus.ref({n: 1, inc() {return
// ++this.n}, peek() {return this.n}}).
func newRef() *node {
	return obj(
		"n", val("1"),
		"inc", fn(false, func(x *inv) ([]byte, *thrown) {
			d := x.c.d
			d.mu.Lock()
			defer d.mu.Unlock()
			n := toNumber(decoded(valueOf(x.this.get("n")))) + 1
			b, _ := protocol.AppendValue(nil, n, nil)
			x.this.set("n", &node{value: b})
			return b, nil
		}),
		"peek", fn(false, func(x *inv) ([]byte, *thrown) {
			d := x.c.d
			d.mu.Lock()
			defer d.mu.Unlock()
			return valueOf(x.this.get("n")), nil
		}),
	)
}

func valueOf(n *node) []byte {
	if n == nil || n.value == nil {
		return []byte(undefinedJSON)
	}
	return n.value
}

func decoded(b []byte) any {
	v, err := protocol.DecodeValue(b)
	if err != nil {
		return protocol.Undefined{}
	}
	return v
}

// callback returns the resource id of argument i, which must be a
// function (a client resource).
func (x *inv) callback(i int, name string) (string, *thrown) {
	r, ok := x.arg(i).(protocol.Ref)
	if !ok {
		return "", typeError(name + " is not a function")
	}
	return r.ID, nil
}

// refJSON is the placeholder of resource id.
func refJSON(id string) []byte {
	b, _ := protocol.AppendValue(nil, protocol.Ref{ID: id}, nil)
	return b
}

func str(s string) []byte {
	b, _ := protocol.AppendValue(nil, s, nil)
	return b
}

// call serves a GET, SET or APPLY from the client.
func (c *conn) call(typ protocol.Type, id []byte, elems []json.RawMessage) {
	resRaw, pathRaw := elem(elems, 2), elem(elems, 3)
	var long bool
	var nameRaw, payload json.RawMessage
	switch typ {
	case protocol.TypeGet:
		if len(elems) >= 5 {
			long, nameRaw = true, elems[4]
		}
	default:
		if len(elems) >= 6 {
			long, nameRaw, payload = true, elems[4], elems[5]
		} else {
			payload = elem(elems, 4)
		}
	}
	fail := func(w []byte) { c.send([]byte("[6,"), id, []byte(","), w, []byte("]")) }

	path, t := parsePath(pathRaw)
	if t != nil {
		fail(t.wire)
		return
	}
	pathJSON := norm(pathRaw)
	for _, seg := range path {
		if compat.IsUnsafeSegment(seg) {
			fail(resourceError("E_INVALID_SERVICE_PATH", `{"path":`+string(pathJSON)+`}`))
			return
		}
	}

	d := c.d
	var root *node
	var sub []string
	var ridJSON, service string
	if resRaw == nil || string(resRaw) == "null" {
		if len(path) == 0 {
			fail(resourceError("E_INVALID_SERVICE_PATH", `{"path":`+string(pathJSON)+`}`))
			return
		}
		if path[0] != ServiceName {
			fail(resourceError("E_RESOURCE_NOT_FOUND", `{"resourceId":null,"path":`+string(pathJSON)+`}`))
			return
		}
		// A long form's service name is not checked on service calls.
		root, sub, ridJSON, service = d.svc, path[1:], "null", ServiceName
	} else {
		ridJSON = string(norm(resRaw))
		rid, ok := jsonString(resRaw)
		d.mu.Lock()
		r := d.resources[rid]
		d.mu.Unlock()
		switch {
		case !ok || r == nil:
			fail(resourceError("E_RESOURCE_NOT_FOUND", `{"resourceId":`+ridJSON+`}`))
			return
		case r.owner != c:
			// Not captured: a resource of another connection.
			fail(resourceError("E_RESOURCE_ACCESS_DENIED", `{"resourceId":`+ridJSON+`}`))
			return
		}
		if long {
			if name, ok := jsonString(nameRaw); !ok || name != r.service {
				fail(resourceError("E_INVOCATION_SERVICE_MISMATCH", `{"sourceConnectionId":"`+c.name+`","resourceId":`+ridJSON+
					`,"expectedServiceName":`+string(compat.AppendString(nil, r.service))+`,"receivedServiceName":`+string(norm(nameRaw))+`}`))
				return
			}
		}
		root, sub, service = r.node, path, r.service
	}
	at := `{"resourceId":` + ridJSON + `,"path":` + string(pathJSON) + `}`

	switch typ {
	case protocol.TypeGet:
		d.mu.Lock()
		n := root.walk(sub)
		b, err := c.export(n, service)
		d.mu.Unlock()
		if err != nil {
			fail(typeError(err.Error()).wire)
			return
		}
		c.send([]byte("[5,"), id, []byte(","), b, []byte("]"))
	case protocol.TypeSet:
		if len(sub) == 0 {
			fail(resourceError("E_SET_ON_ROOT", at))
			return
		}
		v := []byte(undefinedJSON)
		if payload != nil {
			if _, err := protocol.DecodeValue(payload); err != nil {
				fail(syntaxError(payload, err).wire)
				return
			}
			v = norm(payload)
		}
		d.mu.Lock()
		parent := root.walk(sub[:len(sub)-1])
		if parent != nil && parent.obj {
			parent.set(sub[len(sub)-1], &node{value: v})
		}
		d.mu.Unlock()
		if parent == nil {
			fail(typeError("Cannot set properties of undefined (setting " + jsQuote(sub[len(sub)-1]) + ")").wire)
			return
		}
		c.send([]byte("[5,"), id, []byte(",true]"))
	case protocol.TypeApply:
		d.mu.Lock()
		n := root.walk(sub)
		d.mu.Unlock()
		if n == nil || n.fn == nil {
			fail(resourceError("E_TARGET_NOT_CALLABLE", at))
			return
		}
		var raw protocol.Raw
		if payload != nil {
			raw = protocol.Raw(payload)
		}
		args, err := protocol.DecodeArgs(raw)
		if err != nil {
			fail(syntaxError(payload, err).wire)
			return
		}
		x := &inv{c: c, this: n.this, args: args, service: service}
		run := func() {
			b, t := n.fn.run(x)
			switch {
			case t == errClosed:
			case t != nil:
				fail(t.wire)
			default:
				c.send([]byte("[5,"), id, []byte(","), b, []byte("]"))
			}
		}
		if !n.fn.async {
			run()
			return
		}
		select {
		case c.sem <- struct{}{}:
		case <-c.done:
			return
		}
		c.async.Add(1)
		go func() {
			defer c.async.Done()
			defer func() { <-c.sem }()
			run()
		}()
	}
}

// export encodes n as a payload: functions become new resources of c.
// d.mu must be held.
func (c *conn) export(n *node, service string) ([]byte, error) {
	switch {
	case n == nil:
		return []byte(undefinedJSON), nil
	case n.fn != nil:
		id, err := c.d.registerLocked(c, n, service)
		if err != nil {
			return nil, err
		}
		return refJSON(id), nil
	case !n.obj:
		return n.value, nil
	}
	o := protocol.NewObject()
	for i, k := range n.names {
		b, err := c.export(n.kids[i], service)
		if err != nil {
			return nil, err
		}
		o.Set(k, protocol.Raw(b))
	}
	return protocol.AppendValue(nil, o, nil)
}

// parsePath reads the path element as core 0.5.0 does, whose first use
// of it is path.find(…).
func parsePath(raw []byte) ([]string, *thrown) {
	if raw == nil {
		return nil, typeError("Cannot read properties of undefined (reading 'find')")
	}
	v, err := protocol.DecodeJSON(raw)
	if err != nil {
		return nil, typeError("r.find is not a function")
	}
	switch x := v.(type) {
	case nil:
		return nil, typeError("Cannot read properties of null (reading 'find')")
	case []any:
		path := make([]string, len(x))
		for i, s := range x {
			path[i] = jsString(s) // a property key is String(segment)
		}
		return path, nil
	}
	return nil, typeError("r.find is not a function")
}

func resourceError(code, context string) []byte {
	return []byte(`{"code":"` + code + `","context":` + context + `,"name":"MessageResourceError"}`)
}

func plainError(name, msg string) *thrown {
	var w []byte
	w = append(w, `{"name":`...)
	w = compat.AppendString(w, name)
	w = append(w, `,"code":"E_UNKNOWN","message":`...)
	w = compat.AppendString(w, msg)
	w = append(w, `,"stack":`...)
	w = compat.AppendString(w, name+": "+msg+"\n    at …")
	w = append(w, '}')
	return &thrown{wire: w, code: "E_UNKNOWN", message: msg}
}

func typeError(msg string) *thrown { return plainError("TypeError", msg) }

// syntaxError is what reviving a bad placeholder throws in 0.x: BigInt()
// of bad digits ("Cannot convert zz to a BigInt"), or JSON.parse of a bad
// Map or Set.
func syntaxError(raw []byte, err error) *thrown {
	if v, derr := protocol.DecodeJSON(raw); derr == nil {
		if s, ok := findBadBigInt(v, 0); ok {
			return plainError("SyntaxError", "Cannot convert "+s+" to a BigInt")
		}
	}
	return plainError("SyntaxError", err.Error())
}

func findBadBigInt(v any, depth int) (string, bool) {
	if depth > 64 {
		return "", false
	}
	switch x := v.(type) {
	case string:
		if p, ok := strings.CutPrefix(x, "\x03N:"); ok {
			if _, ok := compat.ParseBigInt(p); !ok {
				return p, true
			}
		}
	case []any:
		for _, e := range x {
			if s, ok := findBadBigInt(e, depth+1); ok {
				return s, true
			}
		}
	case *protocol.Object:
		for i := range x.Len() {
			_, e := x.At(i)
			if s, ok := findBadBigInt(e, depth+1); ok {
				return s, true
			}
		}
	}
	return "", false
}

func jsQuote(s string) string { return "'" + s + "'" }

// jsString is JavaScript's String(v) for decoded payload values.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case protocol.Undefined:
		return "undefined"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return compat.FormatNumber(x)
	case string:
		return x
	case *big.Int:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			switch e.(type) {
			case nil, protocol.Undefined:
			default:
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	case *protocol.Map:
		return "[object Map]"
	case *protocol.Set:
		return "[object Set]"
	case protocol.Ref:
		return "function () { [native code] }"
	}
	return "[object Object]"
}

// toNumber is JavaScript's Number(v) for the values withCb and inc meet.
func toNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "_xXpP") {
			return f
		}
	}
	return math.NaN()
}
