#!/bin/bash
# Autostart of N busybox containers (network none, /bin/sleep 1000) by one
# private berthd: wall time to READY=1 and the CPU time of everything the
# start ran (berthd, spawners, monitors, the containers' set-up, inits and
# workloads), from a cpuacct cgroup (v1) the berthd is started in. The CPU
# figure is what a shared machine's load changes least; compare builds in
# the same run, interleaved. A benchmark, not a test: it judges nothing.
#   autostart_cpu.sh BUILD N [none|perf|strace] [OUTDIR]
# perf: `perf record -g` of berthd and all its descendants into
# OUTDIR/perf.data; strace: `strace -f -c` (STRACE_OPTS replaces -c) into
# OUTDIR/strace.txt. Prints one line: N, running, ready_ms, cpu_ms,
# cpu_per_container_ms, load. The EXIT trap stops berthd (SIGTERM), kills
# what is left (by the temporary directory in argv, then by cgroup) and
# removes the cgroups, mounts and the directory.
set -u
B=${1:?usage: autostart_cpu.sh BUILD N [none|perf|strace] [OUTDIR]}
N=${2:?usage: autostart_cpu.sh BUILD N [none|perf|strace] [OUTDIR]}
MODE=${3:-none}
O=${4:-$PWD}
. "$(dirname "$0")/lib.sh"
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 2000)) || { echo "N: 1..2000" >&2; exit 1; }
[ -d /sys/fs/cgroup/cpuacct ] || { echo "needs the v1 cpuacct hierarchy at /sys/fs/cgroup/cpuacct" >&2; exit 1; }
mkdir -p "$O"
W=$(mktemp -d /tmp/berth-acpu.XXXXXX)
D=$W/d
P=bac$$
CG=/sys/fs/cgroup/cpuacct/berth-acpu$$
DPID=
HPIDS=()
mkdir -p "$D/conf" "$D/run" "$D/state" "$CG"
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$repo/templates} BERTH_SOCKET=$D/run/control.sock
cleanup() {
  set +e
  if [ -n "$DPID" ]; then
    [ "$MODE" = none ] || kill -TERM $(pgrep -P "$DPID") 2>/dev/null
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 1200); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  fi
  for p in "${HPIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in $(grep -l "$W" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do kill -KILL "$p" 2>/dev/null; done
  for c in $(find /sys/fs/cgroup/*/ -maxdepth 4 -type d -name "$P-*" 2>/dev/null); do
    for p in $(cat "$c/cgroup.procs"); do kill -KILL "$p"; done
  done
  sleep 0.5
  find /sys/fs/cgroup/*/ -depth -maxdepth 4 -type d -name "$P-*" -exec rmdir {} \; 2>/dev/null
  echo $$ >/sys/fs/cgroup/cpuacct/cgroup.procs
  find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
  findmnt -rn -o TARGET | grep "^$W/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
bench_template "$B/berthctl" "$D/state" || exit 1
for ((i = 0; i < N; i++)); do
  printf 'container %s {\n    template = "busybox"\n    command = { "/bin/sleep", "1000" }\n    autostart = true\n    network { mode = "none" }\n}\n' \
    "$P-$i" >"$D/conf/$P-$i.conf"
done
bench_notify_listen "$D/notify.sock" "$D/notify.out" 900
echo $$ >"$CG/cgroup.procs"
u0=$(cat "$CG/cpuacct.usage")
t0=$(date +%s%N)
args=(-c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --log-level notice)
case $MODE in
perf) NOTIFY_SOCKET=$D/notify.sock perf record -q -g -o "$O/perf.data" -- "$B/berthd" "${args[@]}" >"$D/log" 2>&1 & ;;
strace) NOTIFY_SOCKET=$D/notify.sock strace -f ${STRACE_OPTS:--c} -o "$O/strace.txt" "$B/berthd" "${args[@]}" >"$D/log" 2>&1 & ;;
*) NOTIFY_SOCKET=$D/notify.sock "$B/berthd" "${args[@]}" >"$D/log" 2>&1 & ;;
esac
DPID=$!
for _ in $(seq 30000); do grep -q 'READY=1' "$D/notify.out" 2>/dev/null && break; kill -0 "$DPID" 2>/dev/null || break; sleep 0.02; done
tr=$(awk '/READY=1/ { print $1; exit }' "$D/notify.out")
u1=$(cat "$CG/cpuacct.usage")
[ -n "$tr" ] || { tail -n 20 "$D/log" >&2; echo "no READY=1" >&2; exit 1; }
n=$("$B/berthctl" ls --json | python3 -c 'import json, sys; print(sum(1 for c in json.load(sys.stdin)["containers"] if c["state"] == "running"))')
echo "N=$N running=$n ready_ms=$(((tr - t0) / 1000000)) cpu_ms=$(((u1 - u0) / 1000000)) cpu_per_container_ms=$(awk -v c=$((u1 - u0)) -v n="$N" 'BEGIN { printf "%.1f", c / 1e6 / n }') load=$(cut -d' ' -f1 /proc/loadavg)"
