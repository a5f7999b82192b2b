#!/usr/bin/env bash
# Runs the hostile raw-byte cases against a Go daemon (nexusctl serve) and a
# real Node daemon (node-fixtures/peers/daemon.mjs) in one run and prints the
# Markdown table of docs/RELIABILITY.md (case | Go daemon | Node daemon).
#   ./scripts/hostile.sh                  every case, full counts (a few minutes)
#   ./scripts/hostile.sh --short          reduced counts and waits (under a minute), for CI
#   ./scripts/hostile.sh --out FILE       also write the table to FILE
# Exit status 1 when the Go daemon fails a case it must hold, 2 when the tool
# cannot run (see go doc ./internal/tools/hostile).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/fixtures.sh
install_fixtures

# Built, not `go run`, so that the program's exit status is the script's.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/hostile" ./internal/tools/hostile
"$tmp/hostile" --fixtures node-fixtures "$@"
