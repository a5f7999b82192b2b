package testscripts

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/errcode"
	"github.com/nexus-interop/nexus-go/internal/demo"
	"github.com/nexus-interop/nexus-go/internal/jsonform"
	"github.com/nexus-interop/nexus-go/protocol"
	"github.com/nexus-interop/nexus-go/remote"
	"github.com/nexus-interop/nexus-go/session"
)

// nxc is the Go client as a test command: it dials a daemon and runs one
// scenario, printing results in the jsonform text form.
//
//	nxc [--app A] [--instance I] [--socket P] [--token-env V] [--timeout D]
//	    [--client-app ID] [--provide TOKEN,...] [--deny-call TOKEN]
//	    [--deny-connect-if KEY=VALUE] [--policy-log] [--meta JSON]
//	    [--call-timeout D] [--connect-to APP/INST,...] [--provide-store] COMMAND ...
//
// --provide makes the client provide services with the worker surface
// (internal/demo.Worker) from the handshake on; --deny-call gives one of
// them a policy that refuses every call; --deny-connect-if refuses
// daemons whose identity field KEY is VALUE (at the ACK and on every
// IDENTITY_UPDATE); --policy-log logs "CANCALL <service> <op> <path>" for
// every call the daemon makes here; --provide-store provides the demo
// store (internal/demo.NewStore) as "demo-store"; --connect-to opens sessions with
// these targets in a pool (for select, multicast).
//
// Besides the request commands (info, call, get, set, callback, ref,
// hang, wait-provider, resolve, restart-probe), the commands of the
// services-both-ways suites, as in peers/client.mjs:
//
//	serve [--hold FILE]        dial, print SERVING, stay until FILE exists
//	update-identity JSON [--then SERVICE.PATH ARGS...]
//	daemon-identity [--watch KEY=VALUE]   (touches ./watching once connected)
//	select TOKEN METHOD [ARG...] [--where JSON] [--wait MS]
//	multicast TOKEN METHOD [ARG...] [--where JSON] [--expects all|stream]
//	create-multicast TOKEN METHOD [ARG...] --targets APP/INST,... [--expects all|stream]
//
// Exit codes: 0 ok, 1 remote error (code and message on stderr), 2 dial,
// address or connection error, 64 bad usage.

func nxcMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nxc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "daemon appId")
	instance := fs.String("instance", "", "daemon instance")
	socket := fs.String("socket", "", "explicit socket path")
	tokenEnv := fs.String("token-env", "", "environment variable holding the pre-auth token")
	clientApp := fs.String("client-app", "nxc", "this client's appId")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of each step")
	provide := fs.String("provide", "", "comma-separated tokens this client provides (worker surface)")
	denyCall := fs.String("deny-call", "", "a provided token whose policy refuses every call")
	denyConnect := fs.String("deny-connect-if", "", "KEY=VALUE: refuse daemons whose identity field KEY is VALUE")
	policyLog := fs.Bool("policy-log", false, "log every call the daemon makes here")
	var meta metaValue
	fs.Var(&meta, "meta", "JSON object of extra identity fields")
	callTimeout := fs.Duration("call-timeout", 0, "call timeout (0: 5 s default, -1ns: none)")
	connectTo := fs.String("connect-to", "", "comma-separated APP/INSTANCE targets for select and multicast")
	provideStore := fs.Bool("provide-store", false, "provide the demo store demo-store to the daemon")
	if err := fs.Parse(args); err != nil {
		return 64
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "nxc: missing command")
		return 64
	}
	opts := &client.Options{AppID: *clientApp, SocketPath: *socket, CallTimeout: *callTimeout}
	if *tokenEnv != "" {
		opts.Token = os.Getenv(*tokenEnv)
	}
	opts.Metadata = meta.m
	for _, tok := range strings.FieldsFunc(*provide, func(r rune) bool { return r == ',' }) {
		p := client.Provided{Token: tok, Service: &demo.Worker{AppID: *clientApp}}
		if tok == *denyCall {
			p.CanCall = func(*client.Client, string, []string, session.Op) bool { return false }
		}
		opts.Services = append(opts.Services, p)
	}
	if *provideStore {
		store := demo.NewStore(nil)
		defer store.Close()
		opts.Services = append(opts.Services, client.Provided{Token: demo.StoreToken, Service: store.Service()})
	}
	if *denyConnect != "" {
		deny := identityDenial(*denyConnect)
		opts.Policy.CanConnect = func(c *client.Client) bool { return !deny(c.Daemon()) }
	}
	if *policyLog {
		opts.Policy.CanCall = func(_ *client.Client, service string, path []string, op session.Op) bool {
			b, _ := jsonform.Format(path)
			fmt.Fprintf(stderr, "CANCALL %s %s %s\n", service, strings.ToUpper(op.String()), b)
			return true
		}
	}
	target := client.Address{AppID: *app, Instance: *instance}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	fail := func(err error) int {
		var re *protocol.RemoteError
		var he *session.HandshakeError
		if errcode.CodeOf(err) == errcode.ServiceUnavailable {
			fmt.Fprintf(stderr, "error %v\n", err)
		}
		switch {
		case errors.As(err, &he):
			fmt.Fprintf(stderr, "handshake rejected: %s: %s\n", he.Err.Code, he.Err.Message)
			return 2
		case errors.As(err, &re):
			fmt.Fprintf(stderr, "remote error %s: %s\n", re.Code, re.Message)
			for c := re.Cause; c != nil; c = c.Cause {
				fmt.Fprintf(stderr, "caused by %s: %s\n", c.Code, c.Message)
			}
			if re.Context != nil {
				b, _ := jsonform.Format(re.Context)
				fmt.Fprintf(stderr, "context %s\n", b)
			}
			return 1
		}
		fmt.Fprintf(stderr, "error %s: %v\n", errcode.CodeOf(err), err)
		return 2
	}
	print := func(v any) int {
		b, err := jsonform.Format(v)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	parseArgs := func(ss []string) ([]any, error) {
		out := make([]any, 0, len(ss))
		for _, s := range ss {
			v, err := jsonform.Parse([]byte(s))
			if err != nil {
				return nil, fmt.Errorf("argument %q: %w", s, err)
			}
			out = append(out, v)
		}
		return out, nil
	}

	if rest[0] == "resolve" {
		p, err := client.ResolvePath(target, opts)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, p)
		return 0
	}
	if rest[0] == "restart-probe" {
		return restartProbe(target, opts, rest[1:], stdout, stderr)
	}
	switch rest[0] {
	case "select", "multicast", "create-multicast":
		return poolCommand(ctx, opts, *connectTo, rest, parseArgs, print, fail)
	}

	c, err := client.Dial(ctx, target, opts)
	if err != nil {
		return fail(err)
	}
	defer c.Close()

	switch cmd := rest[0]; cmd {
	case "info":
		fmt.Fprintf(stdout, "daemon %s\n", c.DaemonMetadata())
		fmt.Fprintf(stdout, "providers %s\n", strings.Join(c.Providers(), ","))
		fmt.Fprintf(stdout, "protocol %s\n", c.Generation())
		f := c.Observed()
		fmt.Fprintf(stdout, "facts socket=%s authenticated=%v method=%s\n", f.Socket, f.Authenticated, f.AuthMethod)
		return 0
	case "call", "get", "set":
		if len(rest) < 3 {
			return 64
		}
		svc := c.Service(rest[1])
		args, err := parseArgs(rest[3:])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 64
		}
		var res client.Result
		switch cmd {
		case "call":
			res, err = svc.Call(ctx, rest[2], args...)
		case "get":
			res, err = svc.Get(ctx, rest[2])
		default:
			if len(args) != 1 {
				return 64
			}
			err = svc.Set(ctx, rest[2], args[0])
			res = client.Result{}
		}
		if err != nil {
			return fail(err)
		}
		if cmd == "set" {
			fmt.Fprintln(stdout, "ok")
			return 0
		}
		return print(res.Value())
	case "callback":
		// callback SERVICE METHOD N [throw]: passes fn(i) => i*10 and N.
		if len(rest) < 4 {
			return 64
		}
		n, _ := strconv.Atoi(rest[3])
		throw := len(rest) > 4 && rest[4] == "throw"
		var calls atomic.Int64
		fn := func(ctx context.Context, i any) (any, error) {
			calls.Add(1)
			if throw {
				return nil, errcode.New("E_GO_CALLBACK", "callback refused "+fmt.Sprint(i))
			}
			if f, ok := i.(float64); ok {
				return f * 10, nil
			}
			return i, nil
		}
		var res client.Result
		if n < 0 {
			res, err = c.Service(rest[1]).Call(ctx, rest[2], fn)
		} else {
			res, err = c.Service(rest[1]).Call(ctx, rest[2], fn, n)
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "callback ran %d times\n", calls.Load())
		return print(res.Value())
	case "ref":
		// ref SERVICE METHOD ARGS... then steps separated by "--":
		//   call PATH ARGS... | get PATH | set PATH VALUE | release
		steps := splitSteps(rest[1:])
		args, err := parseArgs(steps[0][2:])
		if err != nil {
			return 64
		}
		res, err := c.Service(steps[0][0]).Call(ctx, steps[0][1], args...)
		if err != nil {
			return fail(err)
		}
		ref, err := res.Ref()
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "ref %s\n", strings.TrimSpace(ref.ID()[:3]))
		for _, st := range steps[1:] {
			var v client.Result
			switch st[0] {
			case "call":
				a, _ := parseArgs(st[2:])
				v, err = ref.Call(ctx, st[1], a...)
			case "get":
				v, err = ref.Get(ctx, st[1])
			case "set":
				a, _ := parseArgs(st[2:])
				err = ref.Set(ctx, st[1], a[0])
			case "release":
				err = ref.Release()
			}
			if err != nil {
				fmt.Fprintf(stdout, "%s: error %s\n", st[0], errcode.CodeOf(err))
				continue
			}
			b, _ := jsonform.Format(v.Value())
			if st[0] == "set" || st[0] == "release" {
				b = []byte("ok")
			}
			fmt.Fprintf(stdout, "%s: %s\n", st[0], b)
		}
		return 0
	case "hang":
		// hang SERVICE METHOD ARGS...: make a call, touch $WORK/calling,
		// and report how the call ended and how long after the start.
		args, _ := parseArgs(rest[3:])
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := c.Service(rest[1]).Call(context.Background(), rest[2], args...)
			done <- err
		}()
		os.WriteFile("calling", nil, 0o644)
		err := <-done
		took := time.Since(start)
		fmt.Fprintf(stdout, "ended %s\n", errcode.CodeOf(err))
		if took < time.Second {
			fmt.Fprintln(stdout, "within 1s")
		} else {
			fmt.Fprintf(stdout, "took %v\n", took)
		}
		return 0
	case "serve":
		// serve [--hold FILE]: stay connected (serving the provided
		// services) until FILE exists or the daemon goes away.
		hold := ""
		if len(rest) >= 3 && rest[1] == "--hold" {
			hold = rest[2]
		}
		fmt.Fprintln(stdout, "SERVING")
		for {
			if hold != "" {
				if _, err := os.Stat(hold); err == nil {
					return 0
				}
			}
			select {
			case <-c.Done():
				fmt.Fprintf(stdout, "session ended %s\n", errcode.CodeOf(c.Err()))
				fmt.Fprintf(stdout, "because %v\n", c.Err())
				return 0
			case <-time.After(20 * time.Millisecond):
			}
		}
	case "update-identity":
		u, err := metaFlag(rest[1])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 64
		}
		if err := c.UpdateIdentity(ctx, u); err != nil {
			return fail(err)
		}
		if len(rest) >= 4 && rest[2] == "--then" {
			svc, path, _ := strings.Cut(rest[3], ".")
			args, err := parseArgs(rest[4:])
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 64
			}
			res, err := c.Service(svc).Call(ctx, path, args...)
			if err != nil {
				return fail(err)
			}
			return print(res.Value())
		}
		fmt.Fprintln(stdout, "updated")
		return 0
	case "daemon-identity":
		// daemon-identity [--watch KEY=VALUE]: the daemon's identity as
		// this client sees it, once it has KEY=VALUE with --watch.
		if len(rest) >= 3 && rest[1] == "--watch" {
			want := identityDenial(rest[2])
			os.WriteFile("watching", nil, 0o644)
			for !want(c.Daemon()) {
				select {
				case <-c.Done():
					return fail(c.Err())
				case <-ctx.Done():
					fmt.Fprintf(stderr, "the daemon's identity never had %s: %s\n", rest[2], mustJSON(c.Daemon()))
					return 1
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
		fmt.Fprintln(stdout, mustJSON(c.Daemon()))
		return 0
	case "wait-provider":
		if err := c.WaitProvider(ctx, rest[1]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "providers %s\n", strings.Join(c.Providers(), ","))
		return 0
	}
	fmt.Fprintf(stderr, "nxc: unknown command %q\n", rest[0])
	return 64
}

func splitSteps(args []string) [][]string {
	var out [][]string
	cur := []string{}
	for _, a := range args {
		if a == "--" {
			out = append(out, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	return append(out, cur)
}

// restartProbe dials and calls demo.echo, waits for the session to end
// (the script kills the daemon), checks that the old handle fails, then
// dials again until a new daemon answers.
func restartProbe(target client.Address, opts *client.Options, _ []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, target, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	svc := c.Service("demo")
	if _, err := svc.Call(ctx, "echo", "before"); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ref, err := svc.Call(ctx, "makeCounter", 1)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	r, _ := ref.Ref()
	os.WriteFile("connected", nil, 0o644)
	select {
	case <-c.Done():
	case <-ctx.Done():
		fmt.Fprintln(stderr, "the session did not end")
		return 1
	}
	_, err = svc.Call(ctx, "echo", "after")
	fmt.Fprintf(stdout, "old service: %s\n", errcode.CodeOf(err))
	_, err = r.Call(ctx, "increment")
	fmt.Fprintf(stdout, "old ref: %s\n", errcode.CodeOf(err))
	c.Close()
	for ctx.Err() == nil {
		c2, err := client.Dial(ctx, target, opts)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		res, err := c2.Service("demo").Call(ctx, "echo", "again")
		c2.Close()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "new session: %v\n", res.Value())
		return 0
	}
	fmt.Fprintln(stderr, "no new daemon")
	return 1
}

func mustJSON(v any) string {
	b, err := protocol.AppendJSON(nil, v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// poolCommand runs select, multicast and create-multicast over a pool
// whose sessions are the --connect-to targets.
func poolCommand(ctx context.Context, opts *client.Options, connectTo string, rest []string, parseArgs func([]string) ([]any, error), print func(any) int, fail func(error) int) int {
	var targets []client.Address
	parseTargets := func(list string) {
		for _, t := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' }) {
			app, inst, _ := strings.Cut(t, "/")
			targets = append(targets, client.Address{AppID: app, Instance: inst})
		}
	}
	o := *opts
	o.SocketPath = "" // every target resolves to its own socket
	pool := client.NewPool(&o, nil)
	defer pool.Close()
	if len(rest) < 3 {
		return 64
	}
	cmd, token, method := rest[0], rest[1], rest[2]
	var where, expects string
	var waitMs float64 = -1
	var args []string
	for i := 3; i < len(rest); i++ {
		switch rest[i] {
		case "--where":
			i++
			where = rest[i]
		case "--wait":
			// MS, or "default" (Wait with JS's default 30 s), as in
			// peers/client.mjs
			i++
			waitMs = 0
			if rest[i] != "default" {
				waitMs, _ = strconv.ParseFloat(rest[i], 64)
			}
		case "--expects":
			i++
			expects = rest[i]
		case "--targets":
			i++
			parseTargets(rest[i])
		default:
			args = append(args, rest[i])
		}
	}
	callArgs, err := parseArgs(args)
	if err != nil {
		return 64
	}
	var m client.Matcher
	if where != "" {
		v, err := jsonform.Parse([]byte(where))
		if err != nil {
			return 64
		}
		m = whereSpec(v)
	}
	if cmd != "create-multicast" {
		parseTargets(connectTo)
		for _, t := range targets {
			if _, err := pool.Client(ctx, t); err != nil {
				return fail(err)
			}
		}
	}
	var mc *remote.Multicast
	switch cmd {
	case "select":
		so := &client.SelectOptions{Where: m}
		if waitMs >= 0 {
			so.Wait, so.WaitTimeout = true, msDuration(waitMs)
		}
		svc, err := pool.Select(ctx, token, so)
		if err != nil {
			return fail(err)
		}
		res, err := svc.Call(ctx, method, callArgs...)
		if err != nil {
			return fail(err)
		}
		return print(res.Value())
	case "multicast":
		mc = pool.SelectMulticast(token, m)
	default:
		if mc, err = pool.CreateMulticast(ctx, token, targets, m); err != nil {
			return fail(err)
		}
	}
	var out []any
	if expects == "stream" {
		for s := range mc.StreamCall(ctx, method, callArgs...) {
			out = append(out, settledObject(s))
		}
	} else {
		for _, s := range mc.Call(ctx, method, callArgs...) {
			out = append(out, settledObject(s))
		}
	}
	if out == nil {
		out = []any{}
	}
	return print(out)
}
