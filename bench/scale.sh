#!/bin/bash
# berthd with many running containers (issue 22): autostart of N to READY=1,
# berthd's RSS and fds, `berthctl ls`, a reload of one change, a restart by
# kill -9 (re-adoption) to READY=1, and the ordered stop of all by SIGTERM.
# A benchmark, not a test: it judges nothing. See bench/README.md.
#   scale.sh BUILD       BUILD holds berthd, berthctl, berth-monitor, berth-init
# Settings: BENCH_SCALE_N (1000 containers), BENCH_SCALE_LS (10 ls runs).
# Everything lives below one mktemp -d; the EXIT trap stops berthd, kills
# what is left (processes whose argv holds that directory), removes the
# cgroups named after this run, the mounts and the directory.
set -euo pipefail

BUILD=${1:?usage: scale.sh BUILD}
N=${BENCH_SCALE_N:-1000}
LS_RUNS=${BENCH_SCALE_LS:-10}
. "$(dirname "$0")/lib.sh"
RESULTS=${BENCH_RESULTS:-$here/results}

bench_need_root
bench_need_build
[[ $N =~ ^[0-9]+$ && $LS_RUNS =~ ^[0-9]+$ ]] || die "BENCH_SCALE_N and BENCH_SCALE_LS must be numbers"
((N >= 1 && N <= 2000 && LS_RUNS >= 1 && LS_RUNS <= 100)) || die "BENCH_SCALE_N: 1..2000, BENCH_SCALE_LS: 1..100"
bench_need_py_jq

P=bsc$$
bench_workdir scale

cat >"$W/h.py" <<'EOF'
import json, os, statistics, sys, time
from benchlib import cpu_ns, ctl, first_events, mem

def time_ls(runs, dpid, expect):
    """berthctl ls --json RUNS times: wall ms and berthd's CPU ms each;
    checks that EXPECT containers run."""
    wall, cpu = [], []
    for _ in range(runs):
        c0 = cpu_ns(dpid)
        t0 = time.perf_counter_ns()
        out = ctl("ls", "--json")
        wall.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((cpu_ns(dpid) - c0) / 1e6)
        n = sum(1 for c in json.loads(out)["containers"] if c["state"] == "running")
        if n != expect:
            sys.exit("ls: %d of %d running" % (n, expect))
    print(json.dumps({"wall": wall, "cpu": cpu}))

def time_reload(conf, name, dpid):
    """One reload with NAME's command changed: total ms, berthd's CPU, and
    from NAME's events the container's own stop and start."""
    with open(conf) as f:
        text = f.read()
    with open(conf + ".new", "w") as f:
        f.write(text.replace('"1000"', '"1001"'))
    os.rename(conf + ".new", conf)
    c0 = cpu_ns(dpid)
    t0 = time.time_ns()
    ctl("reload")
    t1 = time.time_ns()
    c1 = cpu_ns(dpid)
    at = first_events(json.loads(ctl("inspect", name))["events"], t0)
    if not all(k in at for k in ("plan", "exited", "started")):
        sys.exit("reload: missing events of %s: %r" % (name, at))
    print(json.dumps({"total": (t1 - t0) / 1e6, "plan": (at["plan"] - t0) / 1e6,
                      "stop": (at["exited"] - at["plan"]) / 1e6, "start": (at["started"] - at["exited"]) / 1e6,
                      "berthd_cpu": (c1 - c0) / 1e6}))

def mem_fds(pid):
    """mem(pid), and its open fds."""
    r = mem(pid)
    r["fds"] = len(os.listdir("/proc/%s/fd" % pid))
    return r

def per_container(dpid):
    """USS of every running container's monitor and init: medians, kB."""
    mons, inits = [], []
    for c in json.loads(ctl("ls", "--json"))["containers"]:
        if c["state"] != "running":
            continue
        p = str(c["pid"])
        with open("/proc/%s/status" % p) as f:
            m = [l.split()[1] for l in f if l.startswith("PPid:")][0]
        mons.append(mem(m)["uss"])
        inits.append(mem(p)["uss"])
    print(json.dumps({"berthd": mem_fds(dpid), "monitor_uss_median": statistics.median(mons),
                      "init_uss_median": statistics.median(inits), "n": len(mons)}))

fn = globals()[sys.argv[1]]
fn(*[int(a) if a.isdigit() and fn in (time_ls,) else a for a in sys.argv[2:]])
EOF
bench_traps

bench_dirs
say "building the busybox template"
bench_template "$CTL" "$D/state" || die "berthctl template build busybox failed"
for ((i = 0; i < N; i++)); do
  printf 'container %s {\n    template = "busybox"\n    command = { "/bin/sleep", "1000" }\n    autostart = true\n    network { mode = "none" }\n}\n' \
    "$P-$i" >"$D/conf/$P-$i.conf"
done

ready_ms=
berthd_start() {
  bench_notify_listen "$D/notify.sock" "$D/notify.out" 900
  local i t0 tr
  t0=$(now_ns)
  NOTIFY_SOCKET=$D/notify.sock "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" \
    --log-level notice >>"$D/berthd.log" 2>&1 &
  DPID=$!
  for ((i = 0; i < 6000; i++)); do
    grep -q ' READY=1$' "$D/notify.out" && break
    alive "$DPID" || { tail -n 20 "$D/berthd.log" >&2; die "berthd exited before READY=1"; }
    sleep 0.05
  done
  tr=$(awk '$2 == "READY=1" { print $1; exit }' "$D/notify.out")
  [ -n "$tr" ] || { tail -n 20 "$D/berthd.log" >&2; die "no READY=1 within 300 s"; }
  ready_ms=$(awk -v a="$t0" -v b="$tr" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "autostart of $N containers"
berthd_start
auto_ms=$ready_ms
n=$("$CTL" ls --json | jq '[.containers[] | select(.state == "running")] | length')
[ "$n" = "$N" ] || die "$n of $N running at READY=1"
sleep 1
mem_json=$(h per_container "$DPID")
ls_json=$(h time_ls "$LS_RUNS" "$DPID" "$N")
say "reload of one change"
reload_json=$(h time_reload "$D/conf/$P-0.conf" "$P-0" "$DPID")
say "kill -9 and re-adoption of $N"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
berthd_start
adopt_ms=$ready_ms
n=$("$CTL" ls --json | jq '[.containers[] | select(.state == "running")] | length')
[ "$n" = "$N" ] || die "$n of $N running after re-adoption"
rss_adopted=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
say "SIGTERM: ordered stop of $N"
berthd_stop
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=${BENCH_BERTH_REV:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}
mkdir -p "$RESULTS"
out=$RESULTS/scale-$(date -u +%FT%H%M%S).json
jq -n --arg date "$(date -u +%FT%TZ)" --arg commit "$commit" --arg cores "$(nproc)" --arg kernel "$(uname -r)" \
  --arg lb "$load_before" --arg la "$load_after" --argjson n "$N" --argjson auto "$auto_ms" \
  --argjson adopt "$adopt_ms" --argjson stop "$stop_ms" --argjson mem "$mem_json" --argjson ls "$ls_json" \
  --argjson reload "$reload_json" --argjson rss_adopted "$rss_adopted" '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  { date: $date, berth_commit: $commit, machine: { cores: ($cores | tonumber), kernel: $kernel,
    loadavg_before: $lb, loadavg_after: $la }, containers: $n, autostart_ready_ms: $auto,
    readopt_ready_ms: $adopt, stop_ms: $stop, berthd_rss_kb: $mem.berthd.rss, berthd_fds: $mem.berthd.fds,
    berthd_rss_after_readopt_kb: $rss_adopted,
    monitor_uss_median_kb: $mem.monitor_uss_median, init_uss_median_kb: $mem.init_uss_median,
    ls_ms: $ls.wall, ls_median_ms: ($ls.wall | med), ls_berthd_cpu_median_ms: ($ls.cpu | med),
    reload: $reload, reload_without_start_ms: ($reload.total - $reload.start) }' >"$out"
jq -r '
  def r1: . * 10 | round / 10 | tostring;
  "berthd with \(.containers) running busybox containers (network none), berth \(.berth_commit), \(.date)",
  "load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after",
  "autostart to READY=1            \(.autostart_ready_ms | r1) ms (\(.autostart_ready_ms / .containers | r1) ms each)",
  "kill -9, restart to READY=1     \(.readopt_ready_ms | r1) ms                        target < 2000",
  "berthctl ls --json              \(.ls_median_ms | r1) ms median (berthd CPU \(.ls_berthd_cpu_median_ms | r1) ms)   target < 50",
  "reload of one change            \(.reload.total | r1) ms, of which the start \(.reload.start | r1) ms: \(.reload_without_start_ms | r1) ms without   target < 50",
  "berthd RSS                      \(.berthd_rss_kb / 1024 | r1) MB (\(.berthd_rss_after_readopt_kb / 1024 | r1) MB after re-adoption), \(.berthd_fds) fds   target < 50 MB",
  "per container USS (medians)     monitor \(.monitor_uss_median_kb) kB + init \(.init_uss_median_kb) kB = \(.monitor_uss_median_kb + .init_uss_median_kb) kB   target < 150",
  "SIGTERM, ordered stop of all    \(.stop_ms | r1) ms                        target < 10000"' "$out"
echo "results: $out"
