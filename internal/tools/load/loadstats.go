package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/nexus-interop/nexus-go/daemon"
	"github.com/nexus-interop/nexus-go/protocol"
)

// statsAppID is the appId of the driver's short-lived connections to the
// loadstats service; the service leaves them out of what it counts.
const statsAppID = "load-stats"

// Stats is what loadstats.stats reports about the daemon process. Clients,
// InFlight and Resources leave out connections of statsAppID, the
// caller's own among them; Goroutines is the whole process's count, the
// goroutines of the caller's connection included (one reader, the
// daemon's waiter for it, and the daemon's watchdog, which a running call
// always keeps alive).
type Stats struct {
	PID          int    `json:"pid"`
	Goroutines   int    `json:"goroutines"`
	Threads      int    `json:"threads"`
	RSS          int64  `json:"rss"`     // VmRSS of /proc/self/status, bytes
	PeakRSS      int64  `json:"peakRss"` // VmHWM: the high-water mark since start or resetPeak
	HeapInuse    uint64 `json:"heapInuse"`
	HeapIdle     uint64 `json:"heapIdle"`
	HeapReleased uint64 `json:"heapReleased"`
	Sys          uint64 `json:"sys"`
	Clients      int    `json:"clients"`   // connections that completed the handshake
	InFlight     int    `json:"inFlight"`  // calls the daemon runs for them
	Resources    int    `json:"resources"` // resources they hold
}

// ConnInfo is one client connection as loadstats.conns reports it.
type ConnInfo struct {
	PID       int    `json:"pid"`
	AppID     string `json:"appId"`
	InFlight  int    `json:"inFlight"`
	Resources int    `json:"resources"`
}

// loadStats is the "loadstats" service of the daemon under test: stats(),
// conns(), resetPeak() and goroutines(). Its field is unexported, so it
// has no properties.
type loadStats struct {
	d *daemon.Daemon
}

// clients returns the daemon's client connections, without the driver's
// stats connections.
func (s *loadStats) clients() []*daemon.Conn {
	var out []*daemon.Conn
	for _, c := range s.d.Conns() {
		if app, _ := protocol.Get(c.Identity(), "appId").(string); app == statsAppID {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Stats returns the process's runtime figures.
func (s *loadStats) Stats() (Stats, error) {
	st := Stats{PID: os.Getpid(), Goroutines: runtime.NumGoroutine()}
	for _, c := range s.clients() {
		st.Clients++
		if sess := c.Session(); sess != nil {
			st.InFlight += sess.InFlight()
			st.Resources += sess.Resources()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapInuse, st.HeapIdle, st.HeapReleased, st.Sys = ms.HeapInuse, ms.HeapIdle, ms.HeapReleased, ms.Sys
	f, err := readProcStatus("/proc/self/status")
	if err != nil {
		return st, err
	}
	st.RSS, st.PeakRSS, st.Threads = f["VmRSS"], f["VmHWM"], int(f["Threads"])
	return st, nil
}

// Conns lists the client connections.
func (s *loadStats) Conns() []ConnInfo {
	out := []ConnInfo{}
	for _, c := range s.clients() {
		app, _ := protocol.Get(c.Identity(), "appId").(string)
		ci := ConnInfo{PID: c.Observed().PID, AppID: app}
		if sess := c.Session(); sess != nil {
			ci.InFlight, ci.Resources = sess.InFlight(), sess.Resources()
		}
		out = append(out, ci)
	}
	return out
}

// ResetPeak resets the kernel's high-water mark of the RSS (VmHWM) to the
// current RSS (Linux 4.0 and later).
func (s *loadStats) ResetPeak() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// FreeOSMemory runs a garbage collection, returns as much memory to the
// OS as the runtime can (runtime/debug.FreeOSMemory), and returns the
// figures then: a diagnostic of how much of the RSS could be returned.
func (s *loadStats) FreeOSMemory() (Stats, error) {
	debug.FreeOSMemory()
	return s.Stats()
}

// Goroutines returns the goroutine profile, grouped by stack (pprof's
// debug=1 text), for reports on goroutines that did not go away.
func (s *loadStats) Goroutines() (string, error) {
	var b bytes.Buffer
	err := pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String(), err
}

// readProcStatus reads the numeric fields of a /proc/PID/status file:
// sizes ("VmRSS:  1234 kB") in bytes, counts ("Threads:  7") as they are.
func readProcStatus(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n <<= 10
		}
		out[k] = n
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, fmt.Errorf("%s has no VmRSS", path)
	}
	return out, nil
}
