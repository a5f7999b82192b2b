package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tidwall/gjson"

	"github.com/nexus-interop/nexus-go/protocol"
)

// printer writes decoded traffic, one line (or JSON object) per message.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	color  bool
	onEmit func(typ string) // if set, called after each message is written
}

var typeColors = map[string]string{"STATE": "35", "APPLY": "36", "GET": "36", "SET": "36", "RES": "32", "ERR": "31", "HANDSHAKE_REJECT": "31"}

func (p *printer) emit(conn int, dir, kind, typ, text string, raw any) {
	p.emitState(conn, dir, kind, typ, text, raw, nil)
}

// emitState is emit; with --json, a Nexus State delivery's summary (if
// not nil) is its "state" field.
func (p *printer) emitState(conn int, dir, kind, typ, text string, raw any, delivery *protocol.Object) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.onEmit != nil {
		defer p.onEmit(typ)
	}
	if p.json {
		o := protocol.NewObject("conn", conn, "dir", dir, "kind", kind, "type", typ, "text", text)
		if delivery != nil {
			o.Set("state", delivery)
		}
		if raw != nil {
			o.Set("packet", raw)
		}
		b, err := protocol.AppendJSON(nil, o)
		if err != nil {
			b, _ = protocol.AppendJSON(nil, protocol.NewObject("conn", conn, "dir", dir, "kind", "error", "text", err.Error()))
		}
		fmt.Fprintln(p.w, string(b))
		return
	}
	t := fmt.Sprintf("%-18s", typ)
	if p.color {
		if c, ok := typeColors[typ]; ok {
			t = "\x1b[" + c + "m" + t + "\x1b[0m"
		} else {
			t = "\x1b[1m" + t + "\x1b[0m"
		}
	}
	fmt.Fprintf(p.w, "#%d %s %s %s\n", conn, dir, t, text)
}

// stream decodes one direction of a connection incrementally: an optional
// pre-auth line first, then frames. Feed it bytes before forwarding them,
// so that what it prints is in causal order across both directions.
type stream struct {
	p       *printer
	conn    int
	dir     string
	buf     []byte
	started bool
	broken  bool
}

func (s *stream) feed(b []byte) {
	if s.broken {
		return
	}
	s.buf = append(s.buf, b...)
	if !s.started {
		if len(s.buf) == 0 {
			return
		}
		if s.buf[0] == '{' {
			i := bytes.IndexByte(s.buf, '\n')
			if i < 0 {
				if len(s.buf) > protocol.DefaultMaxAuthLine {
					s.fail("auth line longer than 8 KiB")
				}
				return
			}
			s.authLine(s.buf[:i])
			s.buf = s.buf[i+1:]
		}
		s.started = true
	}
	for len(s.buf) >= protocol.FrameHeaderSize {
		n := binary.BigEndian.Uint32(s.buf)
		if n == 0 || n > protocol.DefaultMaxFrameSize {
			s.fail(fmt.Sprintf("bad frame length %d", n))
			return
		}
		if len(s.buf) < protocol.FrameHeaderSize+int(n) {
			return
		}
		body := s.buf[protocol.FrameHeaderSize : protocol.FrameHeaderSize+int(n)]
		s.frame(body)
		s.buf = s.buf[protocol.FrameHeaderSize+int(n):]
	}
	if len(s.buf) == 0 {
		s.buf = nil // let a big frame's buffer go
	}
}

func (s *stream) fail(msg string) {
	s.broken = true
	s.buf = nil
	s.p.emit(s.conn, s.dir, "error", "BROKEN", msg+" (no longer decoding this direction)", nil)
}

func (s *stream) authLine(line []byte) {
	switch gjson.GetBytes(line, "type").String() {
	case protocol.AuthType:
		s.p.emit(s.conn, s.dir, "auth", "AUTH", fmt.Sprintf("version=%s token=***(%d bytes)", gjson.GetBytes(line, "version").Raw, len(gjson.GetBytes(line, "token").String())), nil)
	case protocol.AuthOKType:
		s.p.emit(s.conn, s.dir, "auth", "AUTH_OK", "", nil)
	default:
		s.p.emit(s.conn, s.dir, "auth", "AUTH?", string(line), nil)
	}
}

func (s *stream) frame(body []byte) {
	var raw any = string(body)
	if v, err := protocol.DecodeJSON(body); err == nil {
		raw = v
	}
	pk, err := protocol.DecodePacket(body, nil)
	if err != nil {
		s.p.emit(s.conn, s.dir, "packet", "UNDECODABLE", err.Error(), raw)
		return
	}
	if a, ok := pk.(*protocol.ApplyPacket); ok {
		if d := stateDeliveryOf(a); d != nil {
			s.p.emitState(s.conn, s.dir, "packet", "STATE", "id="+a.MessageID().String()+" "+d.text(), raw, d.summary())
			return
		}
	}
	s.p.emit(s.conn, s.dir, "packet", pk.Type().String(), describePacket(pk), raw)
}

// proxy forwards one accepted connection to upstream and decodes both
// directions.
func (p *printer) proxy(conn int, down net.Conn, upstream string) {
	defer down.Close()
	up, err := net.Dial("unix", upstream)
	if err != nil {
		p.emit(conn, "---", "event", "UPSTREAM", "cannot reach "+upstream+": "+err.Error(), nil)
		return
	}
	defer up.Close()
	p.emit(conn, "---", "event", "CONNECT", "client connected", nil)
	var wg sync.WaitGroup
	pump := func(dst, src net.Conn, dir string) {
		defer wg.Done()
		st := &stream{p: p, conn: conn, dir: dir}
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				st.feed(buf[:n])
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		// Half-close so the other side sees the end of this direction.
		if uc, ok := dst.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
	}
	wg.Add(2)
	go pump(up, down, "C>S")
	go pump(down, up, "S>C")
	wg.Wait()
	p.emit(conn, "---", "event", "CLOSE", "connection closed", nil)
}

// monitorServer listens on listen and proxies to upstream until ctx ends.
func monitorServer(ctx context.Context, listen, upstream string, p *printer, ready func()) error {
	if fi, err := os.Lstat(listen); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("%s exists and is not a socket", listen)
		}
		if c, err := net.Dial("unix", listen); err == nil {
			c.Close()
			return fmt.Errorf("%s: something already listens there", listen)
		}
		os.Remove(listen)
	}
	ln, err := net.Listen("unix", listen)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	if ready != nil {
		ready()
	}
	var wg sync.WaitGroup
	var n atomic.Int64
	var mu sync.Mutex
	var open []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			mu.Lock()
			for _, oc := range open {
				oc.Close()
			}
			mu.Unlock()
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.proxy(int(n.Add(1)), c, upstream)
		}()
	}
}

func runMonitor(e *env) int {
	listen, upstream := e.flags["listen"], e.flags["upstream"]
	if listen == "" || upstream == "" || len(e.args) != 0 {
		fmt.Fprintln(e.stderr, "nexusctl monitor: --listen and --upstream are required")
		fmt.Fprintln(e.stderr, "usage: "+e.cmd.usage())
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p := &printer{w: e.stdout, json: e.bools["json"], color: e.color}
	err := monitorServer(ctx, listen, upstream, p, func() {
		fmt.Fprintf(e.stderr, "monitoring %s -> %s\n", listen, upstream)
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "nexusctl monitor: %v\n", err)
		return ExitConn
	}
	return ExitOK
}
