#!/bin/bash
# berth benchmarks: `make bench` runs bench/run.sh BUILD.
#   bench/run.sh [BUILD [NAME...]]
# BUILD holds berthctl (default: build). With no NAME it runs startup.sh
# (berthctl run against its peers, see bench/README.md) and then every
# other bench/*.sh (but lib.sh, their shared helpers), each as
# `NAME.sh BUILD`; NAME picks some by name.
# Exits non-zero if any failed; each prints its own numbers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
build=$(cd "$build" && pwd) || exit 1

if (($#)); then
  names=("$@")
else
  names=(startup)
  for f in "$here"/*.sh; do
    n=$(basename "$f" .sh)
    [ "$n" = run ] || [ "$n" = startup ] || [ "$n" = lib ] || names+=("$n")
  done
fi

failed=()
for n in "${names[@]}"; do
  [ -x "$here/$n.sh" ] || [ -f "$here/$n.sh" ] || { echo "bench: no benchmark $n" >&2; failed+=("$n"); continue; }
  echo "== $n"
  bash "$here/$n.sh" "$build" || failed+=("$n")
  echo
done
if ((${#failed[@]})); then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
