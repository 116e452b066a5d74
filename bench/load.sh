#!/bin/bash
# Builds bench/load_bench.c against BUILD/libberth.a (default build, the
# optimised build) and times berthd's reload-side load of N definition
# files, one edited, without and with the parse cache, and the plan after.
#   bench/load.sh [BUILD] [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1000}
RUNS=${3:-31}
SAN=
if [ "$BUILD" = build-asan ]; then
        make -s SANITIZE=1 "$BUILD/libberth.a"
        SAN="-fsanitize=address,undefined"   # correctness run only: times are not meaningful
else
        make -s BUILD="$BUILD" "$BUILD/libberth.a"
fi
PKGS="libconfuse libcap libseccomp libsystemd libnl-route-3.0 libnl-3.0 libnftables json-c"
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 $SAN -Ilib $(pkg-config --cflags $PKGS) \
        bench/load_bench.c -o "$BUILD/bench/load_bench" "$BUILD/libberth.a" $(pkg-config --libs $PKGS)
W=$(mktemp -d /tmp/berth-load.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$BUILD/bench/load_bench" "$W" "$N" "$RUNS"
