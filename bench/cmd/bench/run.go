package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// system is one implementation under test: how to start its server and
// its client.
type system struct {
	name   string
	server func(path string) []string // command line
	client func(path, mode string, n, conc, size int) []string
	nodeSv bool // the server is Node (for RSS labels)
}

type workload struct {
	name, mode  string
	n, conc, sz int
}

type sample struct {
	system, workload, placement string
	res                         result
}

var (
	self, nodeBin, fixtures string
	smoke                   bool
)

func goClient(sys string) func(path, mode string, n, conc, size int) []string {
	return func(path, mode string, n, conc, size int) []string {
		return []string{self, "client", sys, path, mode, strconv.Itoa(n), strconv.Itoa(conc), strconv.Itoa(size)}
	}
}

func nodeClient(path, mode string, n, conc, size int) []string {
	return []string{nodeBin, filepath.Join(fixtures, "bench", "client.mjs"), path, mode, strconv.Itoa(n), strconv.Itoa(conc), strconv.Itoa(size)}
}

func goServer(kind string) func(string) []string {
	return func(p string) []string { return []string{self, "server", kind, p} }
}

func nodeServer(p string) []string {
	return []string{nodeBin, filepath.Join(fixtures, "peers", "daemon.mjs"), "--app", "bench", "--socket", p}
}

func systems() []system {
	return []system{
		{name: "raw socket", server: goServer("raw"), client: goClient("raw")},
		{name: "net/rpc+jsonrpc", server: goServer("jsonrpc"), client: goClient("jsonrpc")},
		{name: "gRPC proto", server: goServer("grpc"), client: goClient("grpc-proto")},
		{name: "gRPC JSON", server: goServer("grpc"), client: goClient("grpc-json")},
		{name: "Node↔Node", server: nodeServer, client: nodeClient, nodeSv: true},
		{name: "Go↔Go", server: goServer("nexus"), client: goClient("nexus")},
		{name: "Go client→Node daemon", server: nodeServer, client: goClient("nexus"), nodeSv: true},
		{name: "Node client→Go daemon", server: goServer("nexus"), client: nodeClient},
	}
}

func workloads() []workload {
	if smoke {
		return []workload{{"sequential echo", "seq", 300, 1, 13}, {"64 callers", "mux", 2000, 64, 13}, {"1 MiB echo", "big", 3, 1, 1 << 20}}
	}
	return []workload{{"sequential echo", "seq", 20000, 1, 13}, {"64 callers", "mux", 100000, 64, 13}, {"1 MiB echo", "big", 40, 1, 1 << 20}}
}

// start runs argv in the background (pinned when asked) and waits until
// path accepts connections.
func start(argv []string, pinned bool, path string) *exec.Cmd {
	os.Remove(path)
	cmd := command(argv, pinned)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := netDial(path); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	fail(fmt.Errorf("server %v did not start", argv))
	return nil
}

func command(argv []string, pinned bool) *exec.Cmd {
	if pinned {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	if pinned {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// procStatus reads a field (VmRSS, VmHWM) of /proc/PID/status in KiB.
func procStatus(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// serverPID finds the real server process under taskset (same pid: taskset
// execs the program).
func serverPID(cmd *exec.Cmd) int { return cmd.Process.Pid }

func runClient(argv []string, pinned bool) result {
	cmd := command(argv, pinned)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("client %v: %v", argv, err))
	}
	var r result
	if err := json.Unmarshal(bytes.TrimSpace(lastLine(out.Bytes())), &r); err != nil {
		fail(fmt.Errorf("client %v printed %q", argv, out.String()))
	}
	return r
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func run(args []string) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.BoolVar(&smoke, "smoke", false, "a few seconds: tiny workloads, one repetition")
	out := fs.String("out", "", "write the report (Markdown) to this file")
	reps := fs.Int("reps", 3, "repetitions of each measurement (median reported)")
	fs.StringVar(&fixtures, "fixtures", "../node-fixtures", "node-fixtures directory")
	only := fs.String("only", "", "run only the systems whose name contains one of these comma-separated words")
	skipExtra := fs.Bool("no-extra", false, "skip the memory and parallel-client measurements")
	fs.Parse(args)
	if smoke {
		*reps = 1
	}
	var err error
	if self, err = os.Executable(); err != nil {
		fail(err)
	}
	if nodeBin, err = exec.LookPath(envOr("NEXUS_JS_RUNTIME", "node")); err != nil {
		fail(err)
	}
	fixtures, _ = filepath.Abs(fixtures)
	dir, _ := os.MkdirTemp("/tmp", "nxbench")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s.sock")

	var samples []sample
	rss := map[string][]float64{}
	for _, placement := range []string{"unpinned", "pinned"} {
		pinned := placement == "pinned"
		for _, sys := range systems() {
			if !selected(sys.name, *only) {
				continue
			}
			for _, w := range workloads() {
				for r := 0; r < *reps; r++ {
					srv := start(sys.server(sock), pinned, sock)
					res := runClient(sys.client(sock, w.mode, w.n, w.conc, w.sz), pinned)
					if w.mode == "mux" && !pinned && (sys.name == "Go↔Go" || sys.name == "Node↔Node") {
						rss[sys.name+" peak RSS under 64 callers (MiB)"] = append(rss[sys.name+" peak RSS under 64 callers (MiB)"], float64(procStatus(serverPID(srv), "VmHWM"))/1024)
					}
					stop(srv)
					samples = append(samples, sample{sys.name, w.name, placement, res})
					fmt.Fprintf(os.Stderr, "%-8s %-22s %-16s %8.0f calls/s  %7.1f µs mean\n", placement, sys.name, w.name, float64(res.Calls)/res.Seconds, res.MeanUS)
				}
			}
		}
	}
	var idle, parallel map[string]float64
	if !*skipExtra {
		idle = idleRSS(sock)
		parallel = parallelNode(sock, *reps)
	}
	report := render(samples, rss, idle, parallel, *reps)
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			fail(err)
		}
	}
}

func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for _, w := range strings.Split(only, ",") {
		if w != "" && strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// idleRSS measures the daemons' resident memory per idle connection with
// 1,000 (smoke: 100) connections open.
func idleRSS(sock string) map[string]float64 {
	n := 1000
	if smoke {
		n = 100
	}
	out := map[string]float64{}
	for _, d := range []struct {
		name string
		argv []string
	}{{"Go daemon", goServer("nexus")(sock)}, {"Node daemon", nodeServer(sock)}} {
		srv := start(d.argv, false, sock)
		time.Sleep(200 * time.Millisecond)
		before := procStatus(serverPID(srv), "VmRSS")
		cl := exec.Command(self, "idle", sock, strconv.Itoa(n))
		stdin, _ := cl.StdinPipe()
		stdout, _ := cl.StdoutPipe()
		cl.Stderr = os.Stderr
		cl.Start()
		bufio.NewReader(stdout).ReadString('\n')
		time.Sleep(300 * time.Millisecond)
		after := procStatus(serverPID(srv), "VmRSS")
		stdin.Close()
		cl.Wait()
		stop(srv)
		out[d.name] = float64(after-before) / float64(n)
		fmt.Fprintf(os.Stderr, "%s: %d KiB before, %d KiB with %d idle connections\n", d.name, before, after, n)
	}
	return out
}

// parallelNode runs 8 Node client processes at once against the Go daemon
// and the Node daemon: aggregate calls/s. The clients connect and warm up
// first; the clock starts when all of them are ready and are told to go,
// so process startup (about a second for 8 Node processes on 2 cores) is
// not counted.
func parallelNode(sock string, reps int) map[string]float64 {
	out := map[string]float64{}
	n := 20000
	if smoke {
		n = 500
	}
	for _, d := range []struct {
		name string
		argv []string
	}{{"Go daemon", goServer("nexus")(sock)}, {"Node daemon", nodeServer(sock)}} {
		var vals []float64
		for r := 0; r < reps; r++ {
			srv := start(d.argv, false, sock)
			var cmds []*exec.Cmd
			var gos []io.WriteCloser
			var outs []*bufio.Reader
			for i := 0; i < 8; i++ {
				c := command(append(nodeClient(sock, "mux", n, 64, 13), "--wait"), false)
				c.Stderr = os.Stderr
				in, err := c.StdinPipe()
				if err != nil {
					fail(err)
				}
				stdout, err := c.StdoutPipe()
				if err != nil {
					fail(err)
				}
				if err := c.Start(); err != nil {
					fail(err)
				}
				cmds, gos, outs = append(cmds, c), append(gos, in), append(outs, bufio.NewReader(stdout))
			}
			for _, o := range outs {
				if line, err := o.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
					fail(fmt.Errorf("parallel node client: %q, %v", line, err))
				}
			}
			startT := time.Now()
			for _, g := range gos {
				io.WriteString(g, "go\n")
			}
			for i, c := range cmds {
				io.Copy(io.Discard, outs[i])
				if err := c.Wait(); err != nil {
					fail(fmt.Errorf("parallel node client: %v", err))
				}
			}
			vals = append(vals, float64(8*n)/time.Since(startT).Seconds())
			for _, g := range gos {
				g.Close()
			}
			stop(srv)
		}
		out[d.name] = median(vals)
		fmt.Fprintf(os.Stderr, "8 Node clients → %s: %.0f calls/s\n", d.name, out[d.name])
	}
	return out
}
