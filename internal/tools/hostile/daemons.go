package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// daemon is one daemon under test: a subprocess that serves the service
// "demo" on a socket of its own.
type daemon struct {
	kind   string   // "go" or "node"
	label  string   // "Go daemon", "Node daemon"
	argv   []string // the command line
	socket string
	ready  string // the start of the stdout line it prints once listening

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has been waited for
	exitErr error         // Wait's answer, once exited is closed
	out     *ring         // the last of its stdout and stderr
	starts  int           // how many times it was started
	crashes []string      // how it ended, each time it ended during a case

	baseline kib // RSS after the warm-up, the reference of every case
}

// startTimeout bounds a daemon's start until it listens.
const startTimeout = 20 * time.Second

// start runs the daemon and returns once it has printed its ready line
// and serves a normal client; a daemon that exits or stays silent for
// startTimeout is an error (and is killed).
func (d *daemon) start() error {
	if d.out == nil {
		d.out = &ring{limit: 64 << 10}
	}
	os.Remove(d.socket) // what a killed run of this daemon left
	cmd := exec.Command(d.argv[0], d.argv[1:]...)
	// The daemon dies with this tool, even when the tool is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = d.out
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("%s: %w", d.label, err)
	}
	pw.Close()
	d.cmd, d.exited, d.exitErr = cmd, make(chan struct{}), nil
	d.starts++
	readyc := make(chan string, 1)
	go d.watchStdout(pr, readyc)
	exited := d.exited
	go func() {
		err := cmd.Wait()
		d.exitErr = err
		close(exited)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line := <-readyc:
		logf("%s: pid %d: %s", d.label, cmd.Process.Pid, line)
	case <-d.exited:
		return fmt.Errorf("%s exited before it listened (%v):\n%s", d.label, d.exitErr, d.out.tail(20))
	case <-timer.C:
		d.stop()
		return fmt.Errorf("%s printed no %q line within %v:\n%s", d.label, d.ready, startTimeout, d.out.tail(20))
	}
	if _, err := served(d.socket, servedTimeout); err != nil {
		d.stop()
		return fmt.Errorf("%s listens but does not serve a normal client: %w\n%s", d.label, err, d.out.tail(20))
	}
	return nil
}

// watchStdout copies the daemon's stdout into its ring until the daemon
// closes it, and sends the ready line on readyc.
func (d *daemon) watchStdout(pr *os.File, readyc chan<- string) {
	defer pr.Close()
	br := bufio.NewReaderSize(pr, 16<<10)
	lineStart := true
	for {
		line, err := br.ReadSlice('\n')
		d.out.Write(line)
		if lineStart && bytes.HasPrefix(line, []byte(d.ready)) {
			select {
			case readyc <- strings.TrimSpace(string(line)):
			default:
			}
		}
		lineStart = err == nil
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				d.out.Write([]byte("(reading stdout: " + err.Error() + ")\n"))
			}
			return
		}
	}
}

// pid is the daemon process's id.
func (d *daemon) pid() int { return d.cmd.Process.Pid }

// alive reports whether the daemon process is still running.
func (d *daemon) alive() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// exitText says how the daemon ended, once it has.
func (d *daemon) exitText() string {
	if d.cmd == nil || d.cmd.ProcessState == nil {
		return "not exited"
	}
	return d.cmd.ProcessState.String()
}

// stop ends the daemon: SIGTERM, then SIGKILL after 3 s, and waits for it.
func (d *daemon) stop() {
	if !d.alive() {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case <-d.exited:
	case <-t.C:
		d.cmd.Process.Kill()
		<-d.exited
	}
}
