#!/usr/bin/env bash
# The interop matrix: every JS runtime (the machine's Node 20, Node 22 and 24
# and Bun from the npm registry, cached in .cache/runtimes) in every
# direction (Go client -> JS daemon, JS client -> Go daemon, JS <-> JS as the
# control) plus Go <-> Go. Prints the table, writes results/matrix.md and
# results/matrix.json, keeps the logs of failing cells in results/.
#   ./scripts/interop-matrix.sh [--update-readme] [--results DIR]
#   NEXUS_RUNTIMES="node20 bun" ./scripts/interop-matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node-fixtures/node_modules/@nexus-js/node-ipc ]; then
  (cd node-fixtures && npm ci --no-audit --no-fund --loglevel=error)
fi
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --update-readme) args+=(-update-readme);;
    --results) args+=(-results "$2"); shift;;
    *) echo "usage: $0 [--update-readme] [--results DIR]" >&2; exit 64;;
  esac
  shift
done
exec go run ./internal/tools/matrix "${args[@]}"
