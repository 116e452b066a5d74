#!/bin/bash
# Builds bench/plan_bench.c against BUILD/libberth.a (default build, the
# optimised build) and times plan_compute() on N definitions, one changed.
#   bench/plan.sh [BUILD] [N] [RUNS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$repo"
BUILD=${1:-build}
N=${2:-1000}
RUNS=${3:-51}
bench_cc "$BUILD" plan_bench
"$BUILD/bench/plan_bench" "$N" "$RUNS"
