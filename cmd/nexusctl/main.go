// Command nexusctl talks to Nexus local-IPC daemons (@nexus-js/node-ipc,
// Node or Go): it lists their sockets, inspects and calls them, serves a
// demo daemon, and shows the decoded traffic of a connection. Run
// `nexusctl help` for the commands.
package main

import (
	"os"

	"github.com/nexus-interop/nexus-go/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
