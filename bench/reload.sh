#!/bin/bash
# berthd's side of `berthctl reload` with N definitions (issue 22): one
# berthd per build given, each on private directories with N definitions
# (autostart = false: nothing starts, so what is timed is the load, the
# plan and its application, not a container's start), then RUNS rounds of:
# one file edited (its command), `berthctl reload`: wall ms and berthd's
# CPU ms (schedstat); the first round apart (the first reload after a
# start fills the last-good copy's other generation). With two builds the rounds alternate between them, so
# both see the same machine. A benchmark, not a test: it judges nothing.
#   bench/reload.sh BUILD [BUILD2]
# Settings: BENCH_RELOAD_N (1000), BENCH_RELOAD_RUNS (21).
# Summary: bench/results/reload-DATETIME.json (BENCH_RESULTS: elsewhere).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${BENCH_RELOAD_N:-1000}
RUNS=${BENCH_RELOAD_RUNS:-21}
RESULTS=${BENCH_RESULTS:-$here/results}
[ $# -ge 1 ] || { echo "usage: reload.sh BUILD [BUILD2]" >&2; exit 2; }
bench_need_root
[[ $N =~ ^[0-9]+$ && $RUNS =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 5000 && RUNS >= 1 && RUNS <= 500)) ||
  die "BENCH_RELOAD_N 1..5000, BENCH_RELOAD_RUNS 1..500"
BUILDS=("$@")
for b in "${BUILDS[@]}"; do
  for f in berthd berthctl; do [ -x "$b/$f" ] || die "no $b/$f"; done
done
W=$(mktemp -d /tmp/berth-reload.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$repo/templates}
P=brl$$
for k in "${!BUILDS[@]}"; do
  D=$W/$k
  mkdir -p "$D/conf" "$D/run" "$D/state"
  for ((i = 0; i < N; i++)); do
    printf 'container %s {\n    template = "busybox"\n    command = { "/bin/sleep", "1000" }\n    autostart = false\n    network { mode = "none" }\n}\n' \
      "$P-$k-$i" >"$D/conf/$P-$k-$i.conf"
  done
  "${BUILDS[$k]}/berthd" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --log-level warning \
    >"$D/berthd.log" 2>&1 &
  PIDS+=($!)
  for ((i = 0; i < 600; i++)); do [ -S "$D/run/control.sock" ] && break; sleep 0.1; done
  [ -S "$D/run/control.sock" ] || { cat "$D/berthd.log" >&2; die "berthd $k did not start"; }
  BERTH_SOCKET=$D/run/control.sock "${BUILDS[$k]}/berthctl" ls >/dev/null
done
sleep 3 # every file older than berthd's racy window: as on a host where one file was edited
declare -A wall cpu
for ((r = 1; r <= RUNS; r++)); do
  for k in "${!BUILDS[@]}"; do
    D=$W/$k
    f=$D/conf/$P-$k-$(((r * 7919) % N)).conf
    sed "s/\"[0-9]*\" }/\"$((1000 + r))\" }/" "$f" >"$f.new" && mv "$f.new" "$f"
    c0=$(cpu_ns "${PIDS[$k]}")
    t0=$(now_ns)
    BERTH_SOCKET=$D/run/control.sock "${BUILDS[$k]}/berthctl" reload >/dev/null
    t1=$(now_ns)
    c1=$(cpu_ns "${PIDS[$k]}")
    wall[$k]+="$(((t1 - t0) / 1000)) "
    cpu[$k]+="$(((c1 - c0) / 1000)) "
  done
done
mkdir -p "$RESULTS"
out=$RESULTS/reload-$(date -u +%Y-%m-%dT%H%M%S).json
{
  echo "{ \"n\": $N, \"runs\": $RUNS, \"host\": \"$(hostname)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"builds\": ["
  for k in "${!BUILDS[@]}"; do
    [ "$k" = 0 ] || echo ","
    printf '{ "build": "%s", "commit": "%s", "wall_us": [%s], "berthd_cpu_us": [%s] }' "${BUILDS[$k]}" \
      "$(cd "${BUILDS[$k]}/.." && git rev-parse --short HEAD 2>/dev/null || echo ?)" \
      "$(echo ${wall[$k]} | tr ' ' ',')" "$(echo ${cpu[$k]} | tr ' ' ',')"
  done
  echo "] }"
} >"$out"
# The first reload after berthd started is shown apart: the last-good copy
# then fills a generation directory it has not seen (state.h).
jq -r 'def med: sort | .[length / 2 | floor] / 1000; def mn: min / 1000;
  .builds[] | "\(.build): first reload \(.wall_us[0] / 1000) ms (berthd CPU \(.berthd_cpu_us[0] / 1000) ms); " +
  "the \(.wall_us | length - 1) after it: wall median \(.wall_us[1:] | med) ms (min \(.wall_us[1:] | mn)), " +
  "berthd CPU median \(.berthd_cpu_us[1:] | med) ms (min \(.berthd_cpu_us[1:] | mn))"' "$out"
echo "bench: $out" >&2
