#!/usr/bin/env bash
# Fetches ONNX Runtime 1.29.0's native library from the npm package onnxruntime-node (NuGet here has
# no Microsoft.ML.OnnxRuntime), extracts only libonnxruntime.so.1, verifies its sha256 and caches it
# outside git, then copies it into DEST_DIR when one is given. Prints the cached file's path.
# Usage: fetch-onnxruntime.sh [DEST_DIR]. Safe to run concurrently and repeatedly.
set -euo pipefail
version=1.29.0
sha256=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
cache="${HPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/highperfinference}/onnxruntime-$version"
lib="$cache/libonnxruntime.so.1"

dest="${1:-}"
finish() {
  if [ -n "$dest" ]; then
    mkdir -p "$dest"
    cmp -s "$lib" "$dest/libonnxruntime.so.1" || cp -f "$lib" "$dest/libonnxruntime.so.1"
  fi
  echo "$lib"
  exit 0
}

if [ -f "$lib" ] && echo "$sha256  $lib" | sha256sum --check --status; then finish; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$lib" ] && echo "$sha256  $lib" | sha256sum --check --status; then finish; fi
work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack "onnxruntime-node@$version" --silent >/dev/null && tar -xzf "onnxruntime-node-$version.tgz" "$member" )
echo "$sha256  $work/$member" | sha256sum --check --status || { echo "sha256 mismatch for $member" >&2; exit 1; }
mv "$work/$member" "$lib"
finish
