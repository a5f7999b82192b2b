#!/usr/bin/env bash
# The interop matrix: every JS runtime pinned in scripts/runtimes.txt (Node 20,
# 22 and 24 and Bun at exact versions, installed from the npm registry into
# .cache/runtimes by scripts/install-runtimes.sh; the machine's node only if it
# is the pinned version) in every direction (Go client -> JS daemon, JS client
# -> Go daemon, JS <-> JS as the control) plus Go <-> Go. A runtime whose
# --version is not the pinned one fails the run. Prints the table, writes
# results/matrix.md and results/matrix.json, keeps the logs of failing cells
# in results/.
#   --update-readme  rewrite the table between the interop-matrix markers of README.md
#   --check-readme   exit 1, with a diff, when README.md's table differs from this
#                    run's (CI: .ci/run); needs the full matrix, so no NEXUS_RUNTIMES
#   ./scripts/interop-matrix.sh [--update-readme | --check-readme] [--results DIR]
#   NEXUS_RUNTIMES="node20 bun" ./scripts/interop-matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fixtures.sh
install_fixtures
args=()
usage="usage: $0 [--update-readme | --check-readme] [--results DIR]"
while [ $# -gt 0 ]; do
  case $1 in
    --update-readme) args+=(-update-readme);;
    --check-readme) args+=(-check-readme);;
    --results) [ $# -ge 2 ] || { echo "$usage" >&2; exit 64; }; args+=(-results "$2"); shift;;
    *) echo "$usage" >&2; exit 64;;
  esac
  shift
done
# Built rather than `go run`, so the tool's exit status (1 failures or a stale
# README, 2 setup errors, 64 usage) reaches the caller unchanged.
go build -o .cache/bin/matrix ./internal/tools/matrix
exec .cache/bin/matrix "${args[@]}"
