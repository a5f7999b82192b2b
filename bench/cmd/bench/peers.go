package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/nexus-interop/nexus-go/client"
	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/internal/demo"
)

// result is what a client prints: one JSON line.
type result struct {
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	MeanUS  float64 `json:"meanUs,omitempty"`
	P50US   float64 `json:"p50Us,omitempty"`
	P99US   float64 `json:"p99Us,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
}

// caller makes one call; it must be safe for concurrent use in mux mode.
type caller func(ctx context.Context, payload string) (string, error)

// drive runs a workload against call and prints the result.
func drive(call caller, mode string, n, conc int, payload string) {
	ctx := context.Background()
	// warm up
	for i := 0; i < min(n/10+1, 200); i++ {
		if _, err := call(ctx, payload); err != nil {
			fail(err)
		}
	}
	res := result{}
	start := time.Now()
	switch mode {
	case "seq", "big":
		lat := make([]time.Duration, n)
		for i := 0; i < n; i++ {
			t := time.Now()
			out, err := call(ctx, payload)
			if err != nil {
				fail(err)
			}
			if len(out) != len(payload) {
				fail(fmt.Errorf("echo returned %d bytes, want %d", len(out), len(payload)))
			}
			lat[i] = time.Since(t)
		}
		res.Seconds = time.Since(start).Seconds()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		var sum time.Duration
		for _, l := range lat {
			sum += l
		}
		res.MeanUS = float64(sum.Microseconds()) / float64(n)
		res.P50US = float64(lat[n/2].Nanoseconds()) / 1e3
		res.P99US = float64(lat[n*99/100].Nanoseconds()) / 1e3
	case "mux":
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < conc; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					if _, err := call(ctx, payload); err != nil {
						fail(err)
					}
				}
			}()
		}
		wg.Wait()
		res.Seconds = time.Since(start).Seconds()
	}
	res.Calls = n
	res.Bytes = int64(n) * int64(len(payload)) * 2
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// ---- raw length-prefixed ping-pong (the limit) ----

func rawServer(path string) {
	ln := listen(path)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			bw := bufio.NewWriterSize(c, 64<<10)
			var hdr [4]byte
			buf := make([]byte, 0, 64<<10)
			for {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return
				}
				n := binary.BigEndian.Uint32(hdr[:])
				if cap(buf) < int(n) {
					buf = make([]byte, n)
				}
				buf = buf[:n]
				if _, err := io.ReadFull(br, buf); err != nil {
					return
				}
				bw.Write(hdr[:])
				bw.Write(buf)
				if br.Buffered() == 0 {
					if bw.Flush() != nil {
						return
					}
				}
			}
		}()
	}
}

// rawSeq is a sequential ping-pong client.
func rawSeq(path string) caller {
	c := dial(path)
	br := bufio.NewReaderSize(c, 64<<10)
	var mu sync.Mutex
	return func(_ context.Context, p string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		frame := make([]byte, 4+len(p))
		binary.BigEndian.PutUint32(frame, uint32(len(p)))
		copy(frame[4:], p)
		if _, err := c.Write(frame); err != nil {
			return "", err
		}
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return "", err
		}
		out := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		_, err := io.ReadFull(br, out)
		return string(out), err
	}
}

// rawMux multiplexes callers over one connection with one reader and one
// coalescing writer; frames carry an 8-byte call id.
func rawMux(path string) caller {
	c := dial(path)
	var mu sync.Mutex
	var pending sync.Map
	var id atomic.Uint64
	wbuf := []byte{}
	writing := false
	go func() {
		br := bufio.NewReaderSize(c, 64<<10)
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return
			}
			body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			k := binary.BigEndian.Uint64(body)
			if ch, ok := pending.LoadAndDelete(k); ok {
				ch.(chan string) <- string(body[8:])
			}
		}
	}()
	return func(_ context.Context, p string) (string, error) {
		k := id.Add(1)
		ch := make(chan string, 1)
		pending.Store(k, ch)
		mu.Lock()
		wbuf = binary.BigEndian.AppendUint32(wbuf, uint32(8+len(p)))
		wbuf = binary.BigEndian.AppendUint64(wbuf, k)
		wbuf = append(wbuf, p...)
		if !writing {
			writing = true
			for len(wbuf) > 0 {
				b := wbuf
				wbuf = nil
				mu.Unlock()
				if _, err := c.Write(b); err != nil {
					return "", err
				}
				mu.Lock()
			}
			writing = false
		}
		mu.Unlock()
		return <-ch, nil
	}
}

// ---- net/rpc with the jsonrpc codec ----

// Echo is the net/rpc service.
type Echo struct{}

// Echo returns its argument.
func (Echo) Echo(arg string, reply *string) error { *reply = arg; return nil }

func rpcServer(path string) {
	srv := rpc.NewServer()
	srv.Register(Echo{})
	ln := listen(path)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go srv.ServeCodec(jsonrpc.NewServerCodec(c))
	}
}

func rpcClient(path string) caller {
	cl := jsonrpc.NewClient(dial(path))
	return func(_ context.Context, p string) (string, error) {
		var out string
		err := cl.Call("Echo.Echo", p, &out)
		return out, err
	}
}

// ---- gRPC (proto codec and a JSON codec) ----

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error) {
	return json.Marshal(v.(*wrapperspb.StringValue).GetValue())
}
func (jsonCodec) Unmarshal(b []byte, v any) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v.(*wrapperspb.StringValue).Value = s
	return nil
}
func (jsonCodec) Name() string { return "benchjson" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

var echoDesc = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Echo", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		return in, nil
	}}},
}

func grpcServer(path string) {
	ln := listen(path)
	s := grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(64<<20))
	s.RegisterService(&echoDesc, struct{}{})
	s.Serve(ln)
}

func grpcClient(path, codec string) caller {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20))}
	if codec == "json" {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.CallContentSubtype("benchjson")))
	}
	cc, err := grpc.NewClient("unix://"+path, opts...)
	if err != nil {
		fail(err)
	}
	return func(ctx context.Context, p string) (string, error) {
		out := new(wrapperspb.StringValue)
		err := cc.Invoke(ctx, "/bench.Echo/Echo", wrapperspb.String(p), out)
		return out.GetValue(), err
	}
}

// ---- Nexus (this project) ----

func nexusDaemon(path string) {
	d, err := daemon.New(&daemon.Options{AppID: "bench", SocketPath: path})
	if err != nil {
		fail(err)
	}
	d.Provide("demo", &demo.Service{})
	if err := d.Listen(); err != nil {
		fail(err)
	}
	select {}
}

func nexusClient(path string) caller {
	c, err := client.Dial(context.Background(), client.Address{AppID: "bench"}, &client.Options{SocketPath: path, AppID: "bench-client"})
	if err != nil {
		fail(err)
	}
	svc := c.Service("demo")
	return func(ctx context.Context, p string) (string, error) {
		res, err := svc.Call(ctx, "echo", p)
		if err != nil {
			return "", err
		}
		s, _ := res.Value().(string)
		return s, nil
	}
}

// idleConns opens n Nexus sessions to path and holds them until stdin
// closes; it prints "ready" once all are connected.
func idleConns(path string, n int) {
	var cs []*client.Client
	for i := 0; i < n; i++ {
		c, err := client.Dial(context.Background(), client.Address{AppID: "bench"}, &client.Options{SocketPath: path})
		if err != nil {
			fail(err)
		}
		cs = append(cs, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range cs {
		c.Close()
	}
}

func listen(path string) net.Listener {
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		fail(err)
	}
	return ln
}

func dial(path string) net.Conn {
	c, err := net.Dial("unix", path)
	if err != nil {
		fail(err)
	}
	return c
}
