#!/usr/bin/env bash
# Runs the load and fault programs against the Go daemon (internal/tools/load):
# L1 1,000 Go clients, L2 50 Node client processes, F1 the daemon killed with
# calls in flight, F2 a client killed inside its callback, F3 the daemon
# restarted under a client.Pool. Exits non-zero when a check fails.
#   ./scripts/load.sh                      the full version (about a minute)
#   ./scripts/load.sh --short              the CI version (under a minute; the 10% memory rule
#                                          is reported, not checked)
#   ./scripts/load.sh --out FILE [FLAGS]   also write the Markdown report to FILE; other flags
#                                          (--only L1,F1, --after 10s, --no-check-memory, --node PATH,
#                                          ...) go to the program: `go run ./internal/tools/load -h`
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/fixtures.sh
install_fixtures

# Built, not `go run`, so that the program's exit status is the script's.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/load" ./internal/tools/load
"$tmp/load" --fixtures node-fixtures "$@"
