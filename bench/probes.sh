#!/bin/bash
# Health probes at scale (issue 22): N running busybox containers (network
# none), each with a health check every BENCH_PROBES_INTERVAL; berthd's CPU
# over a fixed window once all run, the CPU of the processes that do the
# set-up, and how long `berthctl ls` (one turn of berthd's event loop)
# takes while the probes run. Two phases in one daemon: command probes
# (`/bin/true` inside the container), then, after a reload that changes only
# the health blocks, tcp probes (a connect through a socket made in the
# container's network namespace to its httpd).
# A benchmark, not a test: it judges nothing. See bench/README.md.
#   probes.sh BUILD      BUILD holds berthd, berthctl, berth-monitor, berth-init
# Settings: BENCH_PROBES_N (1000 containers), BENCH_PROBES_WINDOW (60 s per
# phase), BENCH_PROBES_INTERVAL (10 s), BENCH_PROBES_KINDS ("command tcp"),
# BENCH_PROBES_PROFILE=DIR (perf record -g of berthd during each window,
# then strace -c of berthd for 10 s: perf-KIND.data, strace-KIND.txt).
# Everything lives below one mktemp -d; the EXIT trap stops berthd, kills
# what is left (processes whose argv holds that directory, then by cgroup),
# removes the cgroups named after this run, the mounts and the directory.
set -euo pipefail

BUILD=${1:?usage: probes.sh BUILD}
N=${BENCH_PROBES_N:-1000}
WINDOW=${BENCH_PROBES_WINDOW:-60}
INTERVAL=${BENCH_PROBES_INTERVAL:-10}
KINDS=${BENCH_PROBES_KINDS:-command tcp}
. "$(dirname "$0")/lib.sh"
RESULTS=${BENCH_RESULTS:-$here/results}

bench_need_root
bench_need_build
[[ $N =~ ^[0-9]+$ && $WINDOW =~ ^[0-9]+$ && $INTERVAL =~ ^[0-9]+$ ]] ||
  die "BENCH_PROBES_N, BENCH_PROBES_WINDOW and BENCH_PROBES_INTERVAL must be numbers"
((N >= 1 && N <= 2000 && WINDOW >= 10 && WINDOW <= 600 && INTERVAL >= 1 && INTERVAL <= 60)) ||
  die "BENCH_PROBES_N: 1..2000, BENCH_PROBES_WINDOW: 10..600, BENCH_PROBES_INTERVAL: 1..60"
for k in $KINDS; do [[ $k == command || $k == tcp ]] || die "BENCH_PROBES_KINDS: command and/or tcp, not '$k'"; done
bench_need_py_jq

P=bpr$$
bench_workdir probes

cat >"$W/h.py" <<'EOF'
import json, os, statistics, sys, time
from benchlib import ctl

HZ = os.sysconf("SC_CLK_TCK")

def stat(pid):
    """utime+stime of all threads, and cutime+cstime (reaped children), in ms."""
    with open("/proc/%s/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) * 1000 / HZ, (int(v[13]) + int(v[14])) * 1000 / HZ

def helpers(dpid):
    """berthd's long-lived children other than spawners of containers: the
    probe spawner (comm berthd-probes), if any."""
    r = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        ppid = s.rsplit(")", 1)[1].split()[1]
        if ppid == str(dpid) and comm == "berthd-probes":
            r.append(p)
    return r

def window(dpid, secs, interval, sample):
    """SECS seconds: berthd's CPU, its and the spawner's reaped children's
    (the probes' processes), the spawner's own;
    `berthctl ls --json` every 2 s (wall ms); then the probes of SAMPLE
    containers (interval realised, durations, failures)."""
    sp = helpers(dpid)
    c0, k0 = stat(dpid)
    s0 = sum(stat(p)[0] for p in sp)
    j0 = sum(stat(p)[1] for p in sp)  # the probes' processes: the spawner's children since 3114693
    t0 = time.monotonic()
    ls = []
    while time.monotonic() - t0 < secs:
        a = time.perf_counter_ns()
        ctl("ls", "--json")
        ls.append((time.perf_counter_ns() - a) / 1e6)
        time.sleep(max(0, min(2.0, secs - (time.monotonic() - t0))))
    el = time.monotonic() - t0
    c1, k1 = stat(dpid)
    s1 = sum(stat(p)[0] for p in sp)
    j1 = sum(stat(p)[1] for p in sp)
    gaps, durs, bad, probes = [], [], 0, 0
    for name in sample.split(","):
        pr = json.loads(ctl("inspect", name))["health_probes"]
        probes += len(pr)
        ts = sorted(p["time_usec"] for p in pr)
        gaps += [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
        durs += [p["duration_usec"] / 1000 for p in pr]
        bad += sum(1 for p in pr if not p["ok"])
    rate = 1 / statistics.mean(gaps) if gaps else 0
    print(json.dumps({"seconds": el, "berthd_cpu_ms": c1 - c0, "children_cpu_ms": k1 - k0 + j1 - j0,
                      "spawner_cpu_ms": s1 - s0, "ls_ms": ls, "interval_s_mean": statistics.mean(gaps) if gaps else None,
                      "probe_ms_median": statistics.median(durs) if durs else None,
                      "probe_ms_max": max(durs) if durs else None, "sampled_probes": probes, "sampled_failed": bad}))

fn = globals()[sys.argv[1]]
fn(*[int(a) if a.isdigit() else a for a in sys.argv[2:]])
EOF
bench_traps

bench_dirs
say "building the busybox template"
bench_template "$CTL" "$D/state" || die "berthctl template build busybox failed"

# write_confs KIND: every definition with that health check (on-failure
# none: a failed probe only reports; the bench counts failures instead).
write_confs() {
  local check i
  case $1 in
  command) check='command = { "/bin/true" }' ;;
  tcp) check='tcp = 8080' ;;
  esac
  for ((i = 0; i < N; i++)); do
    printf 'container %s {\n    template = "busybox"\n    command = { "/usr/sbin/httpd", "-f", "-p", "8080", "-h", "/var" }\n    autostart = true\n    network { mode = "none" }\n    health {\n        %s\n        interval = %ss\n        timeout = %ss\n        on-failure = "none"\n    }\n}\n' \
      "$P-$i" "$check" "$INTERVAL" "$((INTERVAL < 5 ? INTERVAL : 5))" >"$D/conf/$P-$i.conf.new"
    mv "$D/conf/$P-$i.conf.new" "$D/conf/$P-$i.conf"
  done
}

set -- $KINDS
write_confs "$1"
bench_notify_listen "$D/notify.sock" "$D/notify.out" 1800
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "autostart of $N containers"
NOTIFY_SOCKET=$D/notify.sock "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" \
  --log-level notice >>"$D/berthd.log" 2>&1 &
DPID=$!
for ((i = 0; i < 12000; i++)); do
  grep -q ' READY=1$' "$D/notify.out" && break
  alive "$DPID" || { tail -n 20 "$D/berthd.log" >&2; die "berthd exited before READY=1"; }
  sleep 0.05
done
grep -q ' READY=1$' "$D/notify.out" || { tail -n 20 "$D/berthd.log" >&2; die "no READY=1 within 600 s"; }
n=$("$CTL" ls --json | jq '[.containers[] | select(.state == "running")] | length')
[ "$n" = "$N" ] || { tail -n 20 "$D/berthd.log" >&2; "$CTL" ls >&2; die "$n of $N running at READY=1"; }
sample=$(seq 0 $(((N + 19) / 20)) $((N - 1)) | sed "s/^/$P-/" | paste -sd,)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
fds=$(ls "/proc/$DPID/fd" | wc -l)
phases='{}'
first=1
for kind in $KINDS; do
  if ((!first)); then
    say "reload: every health check becomes $kind"
    write_confs "$kind"
    "$CTL" reload >/dev/null
  fi
  first=0
  # Every container's probes in their rhythm (the first comes within 1 s of
  # the start, the next after a whole interval), and a reload's change seen.
  say "$kind probes: settling for $((INTERVAL + 2)) s, then $WINDOW s measured"
  sleep $((INTERVAL + 2))
  ppid=
  if [ -n "${BENCH_PROBES_PROFILE:-}" ]; then
    mkdir -p "$BENCH_PROBES_PROFILE"
    perf record -q -g -p "$DPID" -o "$BENCH_PROBES_PROFILE/perf-$kind.data" -- sleep "$WINDOW" >/dev/null 2>&1 &
    ppid=$!
  fi
  j=$(h window "$DPID" "$WINDOW" "$INTERVAL" "$sample")
  if [ -n "$ppid" ]; then
    wait "$ppid" || true
    # The system calls of berthd's own threads (not its children) for 10 s:
    # strace slows what it traces, so after the window, never during it.
    timeout -s INT 10 strace -c -p "$DPID" -o "$BENCH_PROBES_PROFILE/strace-$kind.txt" >/dev/null 2>&1 || true
  fi
  phases=$(jq -n --argjson p "$phases" --arg k "$kind" --argjson j "$j" '$p + { ($k): $j }')
done
rss_after=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
say "SIGTERM: stop of $N"
berthd_stop
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

commit=${BENCH_BERTH_REV:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}
mkdir -p "$RESULTS"
out=$RESULTS/probes-$(date -u +%FT%H%M%S)-n$N.json
jq -n --arg date "$(date -u +%FT%TZ)" --arg commit "$commit" --arg cores "$(nproc)" --arg kernel "$(uname -r)" \
  --arg lb "$load_before" --arg la "$load_after" --argjson n "$N" --argjson interval "$INTERVAL" \
  --argjson rss "$rss" --argjson rss_after "$rss_after" --argjson fds "$fds" --argjson phases "$phases" '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  { date: $date, berth_commit: $commit, machine: { cores: ($cores | tonumber), kernel: $kernel,
    loadavg_before: $lb, loadavg_after: $la }, containers: $n, interval_s: $interval,
    berthd_rss_kb: $rss, berthd_rss_after_kb: $rss_after, berthd_fds: $fds,
    phases: ($phases | with_entries(.value += {
      probes_per_s: ($n / .value.interval_s_mean),
      berthd_cpu_pct: (.value.berthd_cpu_ms / .value.seconds / 10),
      berthd_cpu_ms_per_probe: (.value.berthd_cpu_ms / (.value.seconds * $n / .value.interval_s_mean)),
      spawner_cpu_ms_per_probe: (.value.spawner_cpu_ms / (.value.seconds * $n / .value.interval_s_mean)),
      children_cpu_ms_per_probe: (.value.children_cpu_ms / (.value.seconds * $n / .value.interval_s_mean)),
      ls_median_ms: (.value.ls_ms | med), ls_max_ms: (.value.ls_ms | max) })) }' >"$out"
jq -r '
  def r2: . * 100 | round / 100 | tostring;
  "\(.containers) busybox containers (network none), a probe every \(.interval_s) s each, berth \(.berth_commit), \(.date)",
  "load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after; berthd \(.berthd_rss_kb / 1024 | r2) MB RSS, \(.berthd_fds) fds",
  (.phases | to_entries[] | .key as $k | .value |
   "\($k): \(.probes_per_s | r2) probes/s; berthd \(.berthd_cpu_pct | r2)% of a CPU (target < 5), \(.berthd_cpu_ms_per_probe | r2) ms a probe; spawner \(.spawner_cpu_ms_per_probe | r2) ms, reaped children \(.children_cpu_ms_per_probe | r2) ms a probe; ls \(.ls_median_ms | r2) ms median, \(.ls_max_ms | r2) max; probe \(.probe_ms_median | r2) ms median, \(.probe_ms_max | r2) max; \(.sampled_failed) of \(.sampled_probes) sampled failed")' "$out"
echo "results: $out"
