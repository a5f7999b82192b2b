#!/usr/bin/env bash
# The benchmark harness: every system (raw Unix socket, net/rpc+jsonrpc,
# gRPC proto and JSON codecs, Node<->Node Nexus, and our Go peers in every
# pairing) on the same workloads in one invocation, unpinned and pinned to
# one CPU, medians of 3 runs, ratios to the raw socket and to Node<->Node.
# Writes docs/PERFORMANCE.md.
#   ./scripts/bench.sh            full run (several minutes)
#   ./scripts/bench.sh --smoke    a few seconds, writes nothing (CI runs this)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fixtures.sh
install_fixtures
bin=$(mktemp -d)/bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd bench && go build -o "$bin" ./cmd/bench)
if [ "${1:-}" = "--smoke" ]; then
  "$bin" run --smoke --fixtures node-fixtures > /dev/null
  echo "bench smoke: ok"
else
  "$bin" run --fixtures node-fixtures --out docs/PERFORMANCE.md "$@"
fi
