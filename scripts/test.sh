#!/usr/bin/env bash
# Runs every test of nexus-go: the README's test command, and what CI runs.
#   ./scripts/test.sh            all tests
#   FUZZTIME=2m ./scripts/test.sh   also run each fuzz target for that long
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Node fixtures (npm ci)"
. scripts/fixtures.sh
install_fixtures

echo "== Go modules"
go mod download

echo "== gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node-fixtures/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== golden vectors: regenerate from real Node and compare"
# The vectors record V8's error texts, so they are compared under the Node
# major they were generated with (the "node" field of every file).
want_major=$(sed -n 's/.*"node": *"\([0-9]*\)".*/\1/p' compat/testdata/numbers.json | head -1)
have_major=$(node -p 'process.versions.node.split(".")[0]')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd node-fixtures && node vectors/generate.mjs "$tmp")
if [ "$want_major" != "$have_major" ]; then
  echo "note: vectors were generated with Node $want_major, this is Node $have_major: drift check skipped"
else
for f in compat/testdata/*.json; do
  if ! cmp -s "$f" "$tmp/$(basename "$f")"; then
    echo "golden vector drift in $f (regenerate with: cd node-fixtures && npm run vectors)" >&2
    diff <(head -c 20000 "$f") <(head -c 20000 "$tmp/$(basename "$f")") | head -40 >&2 || true
    exit 1
  fi
done
for f in "$tmp"/*.json; do
  [ -f "compat/testdata/$(basename "$f")" ] || { echo "new vector file $(basename "$f") is not checked in" >&2; exit 1; }
done
echo "vectors identical"
fi

echo "== go test"
go test -count=1 ./...

echo "== go test -race (short)"
go test -count=1 -race -short ./...
echo "== go test -race -count=2: the session engine and its users, for flakes"
go test -count=2 -race ./session ./client ./daemon

echo "== fuzz targets (${FUZZTIME:-30000x} each)"
# FUZZTIME=2m for a real session. A bounded count of executions, rather than
# a duration, avoids Go's "context deadline exceeded" flake when the fuzzer
# stops on a loaded machine; a run that fails only that way is retried once.
for pkg in ./protocol ./compat ./daemon ./client; do
  for target in $(go test -list 'Fuzz.*' "$pkg" | grep '^Fuzz' || true); do
    if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-30000x}" "$pkg" 2>&1); then
      if grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
        echo "$target: fuzzer stopped with 'context deadline exceeded' (no failing input); retrying once"
        go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-30000x}" "$pkg" | tail -1 | sed "s|^|$target ($pkg): |"
      else
        echo "$out"
        exit 1
      fi
    else
      echo "$target ($pkg): $(echo "$out" | tail -1)"
    fi
  done
done

echo "== hostile raw-byte cases against the Go and the Node daemon (short): scripts/hostile.sh --short"
if ! out=$(./scripts/hostile.sh --short 2>&1); then
  echo "$out" | tail -60
  exit 1
fi
echo "hostile cases: $(grep -c '^| ' <<<"$out") table rows, the Go daemon held every case"

echo "== load and faults (short): scripts/load.sh --short"
if ! out=$(./scripts/load.sh --short 2>&1); then
  echo "$out" | tail -60
  exit 1
fi
echo "load and faults: $(grep -c '^- PASS' <<<"$out") checks passed"

echo "== benchmarks (smoke)"
go test -run '^$' -bench . -benchtime 200x ./protocol >/dev/null
./scripts/bench.sh --smoke 2>/dev/null

echo "all tests passed"
