// Command bench is the benchmark harness of nexus-go: the same workloads
// against raw Unix sockets, net/rpc+jsonrpc, gRPC, the Node reference and
// our Go peers, in one run, with medians and ratios. scripts/bench.sh runs
// `bench run`; the other subcommands are the peers it starts.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench run [--smoke] [--out FILE] | server SYSTEM PATH | client SYSTEM PATH MODE N CONC SIZE | idle PATH N")
		os.Exit(64)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "run":
		run(args)
	case "server":
		switch args[0] {
		case "raw":
			rawServer(args[1])
		case "jsonrpc":
			rpcServer(args[1])
		case "grpc":
			grpcServer(args[1])
		case "nexus":
			nexusDaemon(args[1])
		}
	case "client":
		system, path, mode := args[0], args[1], args[2]
		n, _ := strconv.Atoi(args[3])
		conc, _ := strconv.Atoi(args[4])
		size, _ := strconv.Atoi(args[5])
		payload := "hello, nexus!"
		if size > 16 {
			payload = string(make([]byte, size))
			b := []byte(payload)
			for i := range b {
				b[i] = 'x'
			}
			payload = string(b)
		}
		var c caller
		switch system {
		case "raw":
			if mode == "mux" {
				c = rawMux(path)
			} else {
				c = rawSeq(path)
			}
		case "jsonrpc":
			c = rpcClient(path)
		case "grpc-proto":
			c = grpcClient(path, "proto")
		case "grpc-json":
			c = grpcClient(path, "json")
		case "nexus":
			c = nexusClient(path)
		default:
			fail(fmt.Errorf("unknown system %q", system))
		}
		drive(c, mode, n, conc, payload)
	case "idle":
		n, _ := strconv.Atoi(args[1])
		idleConns(args[0], n)
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
