#!/bin/bash
# Builds bench/load_bench.c against BUILD/libberth.a (default build, the
# optimised build) and times berthd's reload-side load of N definition
# files, one edited, without and with the parse cache, and the plan after.
#   bench/load.sh [BUILD] [N] [RUNS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$repo"
BUILD=${1:-build}
N=${2:-1000}
RUNS=${3:-31}
bench_cc "$BUILD" load_bench
W=$(mktemp -d /tmp/berth-load.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$BUILD/bench/load_bench" "$W" "$N" "$RUNS"
