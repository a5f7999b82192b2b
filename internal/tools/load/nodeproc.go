package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// loadClientScript is the Node fixture the driver runs for L2 and F2.
const loadClientScript = "peers/load-client.mjs"

// nodeScript returns the Node binary and the load-client script, or why
// they cannot be used.
func (e *env) nodeScript() (node, script string, err error) {
	node, err = exec.LookPath(e.cfg.node)
	if err != nil {
		return "", "", fmt.Errorf("--node %s: %w", e.cfg.node, err)
	}
	script, err = filepath.Abs(filepath.Join(e.cfg.fixtures, loadClientScript))
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(script); err != nil {
		return "", "", fmt.Errorf("--fixtures: %w", err)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.fixtures, "node_modules", "@nexus-js", "node-ipc")); err != nil {
		return "", "", fmt.Errorf("--fixtures %s has no node_modules/@nexus-js/node-ipc (npm ci there): %w", e.cfg.fixtures, err)
	}
	return node, script, nil
}

// startNodeClient starts one load-client.mjs process against socket with
// the given extra arguments.
func (e *env) startNodeClient(name, socket string, args ...string) (*child, error) {
	node, script, err := e.nodeScript()
	if err != nil {
		return nil, err
	}
	return startChild(e.procs, name, node, append([]string{script, "--socket", socket, "--app", daemonAppID}, args...)...)
}
