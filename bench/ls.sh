#!/bin/bash
# `berthctl ls` with N running containers (issue 22), two builds side by
# side: one set of N busybox containers (`/bin/sleep 1000`, network none,
# autostart) held by the berthd of BUILD; each visit of a build kills the
# berthd in charge with SIGKILL and starts that build's berthd on the same
# directories (it re-adopts the N), then times REPS runs each of `berthctl
# ls`, `ls --json` and `ls --names` of that build: wall ms and berthd's
# CPU ms (/proc/PID/schedstat). Rounds visit the builds A B, B A, A B, ...
# so that both see the same machine. A benchmark, not a test: it judges
# nothing (it only checks that the N run and that both builds print the
# same names).
#   bench/ls.sh BUILD [BUILD2]
# Settings: BENCH_LS_N (1000), BENCH_LS_ROUNDS (6), BENCH_LS_REPS (3);
# BENCH_LS_HOLD=SECONDS (for profiles): after the rounds, keep the first
# build's berthd and the N running until DIR/hold is removed or SECONDS
# pass (DIR and BERTH_SOCKET are printed).
# Summary: bench/results/ls-DATETIME.json (BENCH_RESULTS: elsewhere); a
# build's commit is BUILD/.commit (for a copy), else git's HEAD of BUILD/..
# Everything lives below one mktemp -d; the EXIT trap stops berthd, kills
# what is left (processes whose argv holds that directory, inits by their
# cgroups), removes the cgroups, the mounts and the directory.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: ls.sh BUILD [BUILD2]" >&2; exit 2; }
BUILDS=("$@")
N=${BENCH_LS_N:-1000}
ROUNDS=${BENCH_LS_ROUNDS:-6}
HOLD=${BENCH_LS_HOLD:-0}
REPS=${BENCH_LS_REPS:-3}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
RESULTS=${BENCH_RESULTS:-$here/results}

bench_need_root
for b in "${BUILDS[@]}"; do
  for f in berthd berthctl berth-monitor berth-init; do [ -x "$b/$f" ] || die "no $b/$f (run make all)"; done
done
[[ $N =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ && $REPS =~ ^[0-9]+$ && $HOLD =~ ^[0-9]+$ ]] ||
  die "BENCH_LS_N, _ROUNDS, _REPS, _HOLD must be numbers"
((N >= 1 && N <= 2000 && ROUNDS >= 1 && ROUNDS <= 100 && REPS >= 1 && REPS <= 100)) ||
  die "BENCH_LS_N: 1..2000, BENCH_LS_ROUNDS: 1..100, BENCH_LS_REPS: 1..100"
bench_need_py_jq

P=bls$$
bench_workdir ls

cat >"$W/h.py" <<'EOF'
import json, subprocess, sys, time
from benchlib import cpu_ns

def visit(ctl, dpid, reps, out):
    """REPS runs of each ls form: one JSON line per run to OUT."""
    with open(out, "a") as f:
        for _ in range(int(reps)):
            for form in ("plain", "json", "names"):
                args = [ctl, "ls"] + ([] if form == "plain" else ["--" + form])
                c0 = cpu_ns(dpid)
                t0 = time.perf_counter_ns()
                r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
                wall = (time.perf_counter_ns() - t0) / 1e6
                cpu = (cpu_ns(dpid) - c0) / 1e6
                if r.returncode != 0:
                    sys.exit("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.decode()))
                f.write(json.dumps({"ctl": ctl, "form": form, "wall_ms": wall, "cpu_ms": cpu,
                                    "bytes": len(r.stdout)}) + "\n")

globals()[sys.argv[1]](*sys.argv[2:])
EOF

berthd_kill() {
  [ -n "$DPID" ] || return 0
  kill -KILL "$DPID" 2>/dev/null || true
  wait "$DPID" 2>/dev/null || true
  DPID=
}

bench_traps
CTL=${BUILDS[0]}/berthctl
bench_dirs
say "building the busybox template"
bench_template "${BUILDS[0]}/berthctl" "$D/state" || die "berthctl template build busybox failed"
for ((i = 0; i < N; i++)); do
  printf 'container %s {\n    template = "busybox"\n    command = { "/bin/sleep", "1000" }\n    autostart = true\n    network { mode = "none" }\n}\n' \
    "$P-$i" >"$D/conf/$P-$i.conf"
done

# The berthd of build K in charge, with all N running (started or re-adopted).
running=
use_build() {
  local k=$1 i n
  [ "$running" = "$k" ] && return 0
  berthd_kill
  rm -f "$BERTH_SOCKET"
  "${BUILDS[$k]}/berthd" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --log-level warning \
    >>"$D/berthd.log" 2>&1 &
  DPID=$!
  for ((i = 0; i < 6000; i++)); do
    alive "$DPID" || { tail -n 20 "$D/berthd.log" >&2; die "berthd of ${BUILDS[$k]} exited"; }
    if [ -S "$BERTH_SOCKET" ]; then
      n=$("${BUILDS[$k]}/berthctl" ls --json 2>/dev/null | jq '[.containers[] | select(.state == "running")] | length' 2>/dev/null || echo 0)
      [ "$n" = "$N" ] && break
    fi
    sleep 0.2
  done
  [ "$n" = "$N" ] || die "$n of $N running under ${BUILDS[$k]} after 1200 s"
  sleep 1 # the start-up's own work done
  running=$k
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "autostart of $N containers"
use_build 0
# Both builds print the same names.
for k in "${!BUILDS[@]}"; do
  use_build "$k"
  "${BUILDS[$k]}/berthctl" ls --names >"$W/names.$k"
  cmp -s "$W/names.0" "$W/names.$k" || die "ls --names of ${BUILDS[$k]} differs from ${BUILDS[0]}'s"
done
for ((r = 0; r < ROUNDS; r++)); do
  order=("${!BUILDS[@]}")
  ((r % 2 == 0)) || mapfile -t order < <(printf '%s\n' "${!BUILDS[@]}" | sort -rn)
  for k in "${order[@]}"; do
    use_build "$k"
    h visit "${BUILDS[$k]}/berthctl" "$DPID" "$REPS" "$W/runs.$k"
  done
  say "round $((r + 1)) of $ROUNDS done"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$RESULTS"
out=$RESULTS/ls-$(date -u +%FT%H%M%S).json
commit_of() { cat "$1/.commit" 2>/dev/null || git -C "$1/.." rev-parse --short HEAD 2>/dev/null || echo '?'; }
builds=$(for k in "${!BUILDS[@]}"; do
  jq -s --arg build "${BUILDS[$k]}" --arg commit "$(commit_of "${BUILDS[$k]}")" '
    def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    { build: $build, commit: $commit, forms: (group_by(.form) | map({ key: .[0].form, value: {
        wall_median_ms: (map(.wall_ms) | med), berthd_cpu_median_ms: (map(.cpu_ms) | med),
        bytes: .[0].bytes, wall_ms: map(.wall_ms), berthd_cpu_ms: map(.cpu_ms) } }) | from_entries) }' "$W/runs.$k"
done | jq -s .)
jq -n --arg date "$(date -u +%FT%TZ)" --arg host "$(hostname)" --arg cores "$(nproc)" --arg kernel "$(uname -r)" \
  --arg lb "$load_before" --arg la "$load_after" --argjson n "$N" --argjson rounds "$ROUNDS" --argjson reps "$REPS" \
  --argjson builds "$builds" '
  { date: $date, machine: { host: $host, cores: ($cores | tonumber), kernel: $kernel, loadavg_before: $lb,
    loadavg_after: $la }, containers: $n, rounds: $rounds, reps: $reps, builds: $builds }' >"$out"
jq -r '
  def r1: . * 10 | round / 10 | tostring;
  "berthctl ls with \(.containers) running containers, \(.rounds) rounds x \(.reps), \(.date), load \(.machine.loadavg_before) -> \(.machine.loadavg_after)",
  (.builds[] | "\(.build) (\(.commit))", (.forms | to_entries[] |
    "  ls \(.key | if . == "plain" then "       " else "--" + . + (if . == "json" then " " else "" end) end)  wall \(.value.wall_median_ms | r1) ms median, berthd CPU \(.value.berthd_cpu_median_ms | r1) ms, \(.value.bytes) bytes"))' "$out"
echo "results: $out"
if ((HOLD > 0)); then
  use_build 0
  : >"$W/hold"
  say "holding $N containers under ${BUILDS[0]}/berthd (pid $DPID) for up to $HOLD s: rm $W/hold to end"
  say "BERTH_SOCKET=$BERTH_SOCKET"
  for ((i = 0; i < HOLD; i++)); do [ -e "$W/hold" ] || break; sleep 1; done
fi
