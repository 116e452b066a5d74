#!/bin/bash
# berth benchmarks. `make bench` runs: bench/run.sh BUILD
#   BUILD  the build directory holding berthctl (default: build)
# Environment: BENCH_ROUNDS, BENCH_RUNS, BENCH_WARMUP (see bench/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
build=$(cd "$build" && pwd)
exec "$here/startup.sh" "$build"
