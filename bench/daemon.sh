#!/bin/bash
# berthd at scale (issue 7's performance items), next to LXC and conmon:
#  1. plan and reload of 1,000 definitions with one changed,
#  2. berthd's memory with 200 running containers, each container's
#     berth-monitor (and berth-init) against lxc's [lxc monitor] and conmon,
#  3. autostart of 100 containers to READY=1 against 100 lxc-start -d.
# A benchmark, not a test: it judges nothing. See bench/README.md.
#   daemon.sh BUILD      BUILD holds berthd, berthctl, berth-monitor (absolute path)
# Every berthd runs on private conf/state/run directories below one mktemp -d
# and is stopped with SIGTERM; the EXIT trap removes what is left (processes
# found by that directory in their argv, lxc and runc containers, cgroups
# named after this run, mounts, lxc's lock directory, the directory).
set -euo pipefail

BUILD=${1:?usage: daemon.sh BUILD}
N_DEFS=${BENCH_DAEMON_DEFS:-1000}       # definitions for plan/reload
N_DEFS_RUN=${BENCH_DAEMON_DEFS_RUN:-5}  # of which running
PLAN_RUNS=${BENCH_DAEMON_PLANS:-10}
RELOAD_RUNS=${BENCH_DAEMON_RELOADS:-5}
N_RSS=${BENCH_DAEMON_RUNNING:-200}      # running containers for the memory figures
N_AUTO=${BENCH_DAEMON_AUTOSTART:-100}   # autostart against lxc-start
N_LXC=${BENCH_DAEMON_LXC:-$N_AUTO}      # lxc containers started one after another
N_CONMON=${BENCH_DAEMON_CONMON:-5}
ROUNDS=${BENCH_DAEMON_ROUNDS:-3}        # autostart rounds, berthd and lxc alternating
. "$(dirname "$0")/lib.sh"
RESULTS=${BENCH_RESULTS:-$here/results}

bench_need_root
bench_need_build
for v in "$N_DEFS" "$N_DEFS_RUN" "$PLAN_RUNS" "$RELOAD_RUNS" "$N_RSS" "$N_AUTO" "$N_LXC" "$N_CONMON" "$ROUNDS"; do
  [[ $v =~ ^[0-9]+$ ]] || die "the BENCH_DAEMON_* settings must be numbers"
done
((N_DEFS >= 1 && N_DEFS_RUN >= 1 && N_DEFS_RUN <= N_DEFS && PLAN_RUNS >= 1 && RELOAD_RUNS >= 1 && N_RSS >= 1 && N_AUTO >= 1 && ROUNDS >= 1)) ||
  die "need at least one of everything, and BENCH_DAEMON_DEFS_RUN <= BENCH_DAEMON_DEFS"
((N_DEFS <= 10000 && N_RSS <= 1000 && N_AUTO <= 1000 && N_LXC <= 1000 && N_CONMON <= 100 && ROUNDS <= 20)) || die "too many"
PY=$(command -v python3) || die "needs python3"

need=()
for p in lxc runc jq util-linux; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || need+=("$p")
done
# conmon is in Debian 12 (2.1.6); it is only a peer, so its absence is not fatal.
if ! command -v conmon >/dev/null && apt-cache show conmon >/dev/null 2>&1; then need+=(conmon); fi
if ((${#need[@]})); then
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
    die "apt-get install ${need[*]} failed"
fi

P=bdb$$ # every host-visible name: containers (and so cgroups), lxc and runc ids
W=$(mktemp -d /tmp/berth-dbench.XXXXXX)
: >"$W/cgroups" # "mountpoint<TAB>our path" of every hierarchy we are in
: >"$W/created" # parent cgroups (berth, lxc.pivot) that did not exist before
: >"$W/lxc-started"
: >"$W/conmon-started"
DPID= # the berthd running now
HPIDS=()

# ---- helpers ------------------------------------------------------------------------

cat >"$W/h.py" <<'EOF'
import json, os, statistics, subprocess, sys, time
from benchlib import cpu_ns, first_events, listen, mem, procs_with

def ctl(*args):
    return subprocess.run([os.environ["CTL"], *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, check=True).stdout

def time_plan(runs, dpid):
    """berthctl plan RUNS times: wall ms each, and berthd's CPU ms each
    (schedstat: what the load on the machine does not change much);
    checks it names the change."""
    out, cpu = [], []
    for _ in range(runs):
        c0 = cpu_ns(dpid)
        t0 = time.perf_counter_ns()
        text = ctl("plan")
        out.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((cpu_ns(dpid) - c0) / 1e6)
        if b"restart" not in text:
            sys.exit("plan does not show the pending restart: %r" % text[:200])
    print(json.dumps({"wall": out, "cpu": cpu}))

def toggle(conf):
    with open(conf) as f:
        text = f.read()
    a, b = '"1000"', '"1001"'
    text = text.replace(a, b) if a in text else text.replace(b, a)
    with open(conf + ".new", "w") as f:
        f.write(text)
    os.rename(conf + ".new", conf)

def time_reload(runs, conf, name, dpid):
    """berthctl reload RUNS times, the command of NAME toggled before each but
    the first (whose change is pending). Per reload: total ms (exec to exit of
    berthctl) and, from berthd's events of NAME: parse+plan (to the "plan"
    event), stop (to "exited"), the container's own start ("exited" to
    "started"), and the rest (to berthctl's exit)."""
    out = []
    for i in range(runs):
        if i:
            toggle(conf)
        c0 = cpu_ns(dpid)
        t0 = time.time_ns()
        ctl("reload")
        t1 = time.time_ns()
        c1 = cpu_ns(dpid)
        ev = json.loads(ctl("inspect", name))["events"]
        at = first_events(ev, t0)
        if not all(k in at for k in ("plan", "exited", "started")):
            sys.exit("reload %d: missing events of %s: %r" % (i, name, [e for e in ev if e["time_usec"] * 1000 >= t0]))
        out.append({"total": (t1 - t0) / 1e6, "plan": (at["plan"] - t0) / 1e6,
                    "stop": (at["exited"] - at["plan"]) / 1e6, "start": (at["started"] - at["exited"]) / 1e6,
                    "after": (t1 - at["started"]) / 1e6, "berthd_cpu": (c1 - c0) / 1e6})
    print(json.dumps(out))

def status(pid, key):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1]
    return ""

def comm(pid):
    with open("/proc/%s/comm" % pid) as f:
        return f.read().strip()

def stats(label, pids):
    ms = [mem(p) for p in pids]
    r = {"what": label, "n": len(ms)}
    for k in ("rss", "pss", "uss"):
        v = sorted(m[k] for m in ms)
        r[k] = {"min": v[0], "median": statistics.median(v), "max": v[-1], "sum": sum(v)} if v else None
    return r

def berth_mem(dpid, expect):
    """berthd's memory and its fds, and every running container's monitor
    (the parent of the container's init) and berth-init."""
    cs = [c for c in json.loads(ctl("ls", "--json"))["containers"] if c["state"] == "running"]
    inits, mons = [], []
    for c in cs:
        p = str(c["pid"])
        m = status(p, "PPid")
        if comm(m) != "berth-monitor":
            sys.exit("%s: the parent of pid %s is %s (%s), not berth-monitor" % (c["name"], p, m, comm(m)))
        mons.append(m)
        inits.append(p)
    nofile = [l.split()[3] for l in open("/proc/%s/limits" % dpid) if l.startswith("Max open files")][0]
    out = {"running": len(cs), "berthd": mem(dpid), "berthd_fds": len(os.listdir("/proc/%s/fd" % dpid)),
           "berthd_nofile_soft": nofile,
           "monitor": stats("berth-monitor", mons), "init": stats("berth-init (" + comm(inits[0]) + ")", inits) if inits else None,
           "monitor_fds": statistics.median(len(os.listdir("/proc/%s/fd" % m)) for m in mons) if mons else None}
    if len(cs) != expect:
        sys.exit("expected %d running containers, found %d" % (expect, len(cs)))
    print(json.dumps(out))

def lxc_mem(lxcpath, *names):
    """[lxc monitor] of each container: the parent of its init."""
    mons = []
    for n in names:
        p = subprocess.run(["lxc-info", "-p", "-H", "-n", n, "-P", lxcpath], stdout=subprocess.PIPE,
                           timeout=30, check=True).stdout.decode().strip()
        m = status(p, "PPid")
        cmd = open("/proc/%s/cmdline" % m, "rb").read()
        if not cmd.startswith(b"[lxc monitor]"):
            sys.exit("%s: the parent of %s is not [lxc monitor]: %r" % (n, p, cmd))
        mons.append(m)
    print(json.dumps(stats("[lxc monitor]", mons)))

def pids_mem(label, *pidfiles):
    print(json.dumps(stats(label, [open(f).read().strip() for f in pidfiles])))

fn = globals()[sys.argv[1]]
fn(*[int(a) if a.isdigit() and fn not in (listen, comm, procs_with, pids_mem) else a for a in sys.argv[2:]])
EOF

# ---- cleanup ------------------------------------------------------------------------

# berthd_stop (lib.sh): SIGTERM, then wait at most 180 s (SIGKILL after). Sets stop_ms.
BENCH_STOP_S=180


cleanup() {
  set +e
  trap - EXIT INT TERM
  local p n mp own b
  for p in "${HPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  berthd_stop
  while read -r n; do lxc-stop -k -n "$n" -P "$W/lxc" >/dev/null 2>&1; done <"$W/lxc-started"
  while read -r n; do runc --root "$W/runc" delete -f "$n" >/dev/null 2>&1; done <"$W/conmon-started"
  # Monitors, inits, lxc monitors and conmons of ours: their argv holds $W.
  # An init is PID 1 of its namespace: SIGKILL takes the whole container.
  for n in 1 2; do
    for p in $(h procs_with "$W/"); do kill -KILL "$p" 2>/dev/null; done
    sleep 0.3
  done
  while IFS=$'\t' read -r mp own; do
    b=${mp}${own%/}
    for n in "$b/berth/$P"-* "$b/lxc.payload.$P"-* "$b/lxc.monitor.$P"-* "$b/$P"-*; do
      [ -d "$n" ] && rmdir "$n" 2>/dev/null
    done
  done <"$W/cgroups"
  # Parents we made (empty unless another run uses them now: then rmdir fails).
  while read -r n; do [ -d "$n" ] && rmdir "$n" 2>/dev/null; done <"$W/created"
  findmnt -rn -o TARGET | grep "^$W/" | sort -r | while read -r m; do umount -l "$m"; done
  mountpoint -q "$W/rootfs" && umount -l "$W/rootfs"
  rm -rf "/run/lxc/lock$W"
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every cgroup hierarchy this process is in (berthd, lxc and runc create
# below it): "mountpoint<TAB>our path".
while IFS=: read -r hid ctrls path; do
  mp=
  if [ "$hid" = 0 ]; then
    mp=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
  else
    while read -r t o; do
      ok=1
      IFS=, read -ra cs <<<"$ctrls"
      for c in "${cs[@]}"; do [[ ,$o, == *,$c,* ]] || ok=0; done
      if ((ok)); then mp=$t; break; fi
    done < <(findmnt -rn -t cgroup -o TARGET,OPTIONS)
  fi
  if [ -n "$mp" ]; then printf '%s\t%s\n' "$mp" "$path" >>"$W/cgroups"; fi
done </proc/self/cgroup
while IFS=$'\t' read -r mp own; do
  for n in berth lxc.pivot; do
    [ -d "$mp${own%/}/$n" ] || echo "$mp${own%/}/$n" >>"$W/created"
  done
done <"$W/cgroups"

# ---- berthd ---------------------------------------------------------------------------

export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$repo/templates}
export CTL
say "building the busybox template"
mkdir -p "$W/tmpl"
"$CTL" template --state-dir "$W/tmpl" build busybox >"$W/template.log" 2>&1 ||
  { cat "$W/template.log" >&2; die "berthctl template build busybox failed"; }
rootfs=$W/tmpl/templates/busybox
[ -x "$rootfs/bin/busybox" ] || die "no template at $rootfs"

# env_new TAG: $D with conf/ run/ and a state/ holding a copy of the template
env_new() {
  D=$W/$1
  mkdir -p "$D/conf" "$D/run" "$D/state/templates"
  cp -a "$rootfs" "$D/state/templates/busybox"
  export BERTH_SOCKET=$D/run/control.sock
}

# define NAME AUTOSTART: a busybox container running sleep, network none
define() {
  printf 'container %s {\n    template = "busybox"\n    command = { "/bin/sleep", "1000" }\n    autostart = %s\n    network { mode = "none" }\n}\n' \
    "$1" "$2" >"$D/conf/$1.conf"
}

# berthd_start: starts berthd on $D with NOTIFY_SOCKET; waits (at most 300 s)
# for READY=1. Sets ready_ms (exec of berthd to READY=1 received).
ready_ms=
berthd_start() {
  bench_notify_listen "$D/notify.sock" "$D/notify.out" 900
  local i t0 tr
  t0=$(now_ns)
  NOTIFY_SOCKET=$D/notify.sock "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" \
    --log-level notice >"$D/berthd.log" 2>&1 &
  DPID=$!
  for ((i = 0; i < 3000; i++)); do
    grep -q ' READY=1$' "$D/notify.out" && break
    alive "$DPID" || { tail -n 20 "$D/berthd.log" >&2; die "berthd exited before READY=1"; }
    sleep 0.1
  done
  tr=$(awk '$2 == "READY=1" { print $1; exit }' "$D/notify.out")
  [ -n "$tr" ] || { tail -n 20 "$D/berthd.log" >&2; die "no READY=1 within 300 s"; }
  ready_ms=$(awk -v a="$t0" -v b="$tr" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}

vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. plan and reload of N_DEFS definitions, one changed ------------------------------

say "1: $N_DEFS definitions ($N_DEFS_RUN running): plan x$PLAN_RUNS, reload x$RELOAD_RUNS"
env_new reload
for ((i = 0; i < N_DEFS; i++)); do
  n=$(printf '%s-r%04d' "$P" "$i")
  if ((i < N_DEFS_RUN)); then define "$n" true; else define "$n" false; fi
done
berthd_start
r_ready=$ready_ms
r_rss=$(vmrss "$DPID")
target=$(printf '%s-r%04d' "$P" 0)
sed -i 's/"1000"/"1001"/' "$D/conf/$target.conf"
plan_json=$(h time_plan "$PLAN_RUNS" "$DPID")
reload_json=$(h time_reload "$RELOAD_RUNS" "$D/conf/$target.conf" "$target" "$DPID")
r_rss_after=$(vmrss "$DPID")
berthd_stop
r_stop=$stop_ms

# ---- 2. memory with N_RSS running containers --------------------------------------------

say "2: memory with $N_RSS running containers"
env_new rss
for ((i = 0; i < N_RSS; i++)); do define "$(printf '%s-s%03d' "$P" "$i")" true; done
berthd_start
s_ready=$ready_ms
sleep 1 # let the last monitors settle
berth_mem_json=$(h berth_mem "$DPID" "$N_RSS")
berthd_stop
s_stop=$stop_ms

# ---- 3. autostart of N_AUTO containers against N_LXC lxc-start -d, alternating -----------

# The template through a read-only bind, as in startup.sh: lxc cannot change it.
mkdir "$W/rootfs"
mount --bind "$rootfs" "$W/rootfs"
mount -o remount,bind,ro "$W/rootfs"
names=()
for ((i = 0; i < N_LXC; i++)); do
  n=$(printf '%s-l%03d' "$P" "$i")
  names+=("$n")
  mkdir -p "$W/lxc/$n"
  cat >"$W/lxc/$n/config" <<EOF
lxc.uts.name = $n
lxc.rootfs.path = dir:$W/rootfs
lxc.rootfs.options = ro
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:ro
lxc.autodev = 1
lxc.cgroup.relative = 1
lxc.init.cmd = /bin/sleep 1000
EOF
done
# berthd's own part of "start to READY=1": no definitions at all.
env_new empty
berthd_start
e_ready=$ready_ms
berthd_stop
a_ready=() a_stop=() l_start=() l_stop=() lxc_json=null
for ((r = 1; r <= ROUNDS; r++)); do
  say "3: round $r/$ROUNDS: berthd autostart of $N_AUTO, then $N_LXC lxc-start -d one after another"
  env_new auto$r
  for ((i = 0; i < N_AUTO; i++)); do define "$(printf '%s-a%03d' "$P" "$i")" true; done
  berthd_start
  a_ready+=("$ready_ms")
  n=$("$CTL" ls --json | jq '[.containers[] | select(.state == "running")] | length')
  [ "$n" = "$N_AUTO" ] || die "autostart: $n of $N_AUTO running at READY=1"
  berthd_stop
  a_stop+=("$stop_ms")
  rm -rf --one-file-system "$D" # the next round starts afresh
  ((N_LXC > 0)) || continue
  t0=$(now_ns)
  for n in "${names[@]}"; do
    echo "$n" >>"$W/lxc-started"
    lxc-start -d -n "$n" -P "$W/lxc" -o "$W/lxc/$n.log" || { tail -n 5 "$W/lxc/$n.log" >&2; die "lxc-start $n failed"; }
  done
  l_start+=("$(ms_since "$t0")")
  if ((r == 1)); then lxc_json=$(h lxc_mem "$W/lxc" "${names[@]}"); fi
  t0=$(now_ns)
  for n in "${names[@]}"; do lxc-stop -k -n "$n" -P "$W/lxc" >/dev/null 2>&1 || say "lxc-stop $n failed"; done
  l_stop+=("$(ms_since "$t0")")
  : >"$W/lxc-started"
done
jarr() { if (($#)); then printf '%s\n' "$@" | jq -s -c .; else echo '[]'; fi; }

# ---- 4. conmon (with runc) --------------------------------------------------------------

conmon_json=null conmon_note=
if ((N_CONMON == 0)); then
  conmon_note="not measured (BENCH_DAEMON_CONMON=0)"
elif ! command -v conmon >/dev/null; then
  conmon_note="not measured: conmon is not installed and apt has no conmon package"
else
  say "4: $N_CONMON conmon + runc containers"
  mkdir -p "$W/cm"
  (cd "$W/cm" && runc spec)
  jq --arg root "$W/rootfs" '
      .root.path = $root | .process.args = ["/bin/sleep", "1000"] | .process.terminal = false
    | .linux.namespaces = [{type:"pid"},{type:"network"},{type:"ipc"},{type:"uts"},{type:"mount"},{type:"cgroup"}]' \
    "$W/cm/config.json" >"$W/cm/config.new"
  pidfiles=()
  for ((i = 0; i < N_CONMON; i++)); do
    n=$(printf '%s-c%02d' "$P" "$i")
    b=$W/cm/$n
    mkdir -p "$b/exits" "$b/sock"
    jq --arg h "$n" '.hostname = $h' "$W/cm/config.new" >"$b/config.json"
    echo "$n" >>"$W/conmon-started"
    # conmon daemonizes and runs `runc create`; the pid file appears when it is done.
    conmon --api-version 1 -c "$n" -u "$n" -n "$n" -r "$(command -v runc)" -b "$b" \
      -p "$b/pid" -P "$b/conmon.pid" -l "k8s-file:$b/ctr.log" --exit-dir "$b/exits" \
      --socket-dir-path "$b/sock" --runtime-arg --root --runtime-arg "$W/runc" --log-level error ||
      die "conmon $n failed"
    for ((k = 0; k < 100; k++)); do [ -s "$b/pid" ] && break; sleep 0.05; done
    [ -s "$b/pid" ] || die "conmon $n: runc create did not finish in 5 s"
    runc --root "$W/runc" start "$n" || die "runc start $n failed"
    pidfiles+=("$b/conmon.pid")
  done
  sleep 0.5
  conmon_json=$(h pids_mem conmon "${pidfiles[@]}")
  while read -r n; do runc --root "$W/runc" delete -f "$n" >/dev/null 2>&1 || say "runc delete $n failed"; done <"$W/conmon-started"
  : >"$W/conmon-started"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
commit=${BENCH_BERTH_REV:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}
jq -n \
  --arg date "$(date -u +%FT%TZ)" --arg host "$(hostname)" --arg cpu "$cpu" --arg cores "$(nproc)" \
  --arg kernel "$(uname -r)" --arg load_before "$load_before" --arg load_after "$load_after" --arg commit "$commit" \
  --arg lxc_v "$(lxc-start --version 2>/dev/null || true)" --arg conmon_v "$(conmon --version 2>/dev/null | head -n1 || true)" \
  --argjson n_defs "$N_DEFS" --argjson n_defs_run "$N_DEFS_RUN" --argjson n_rss "$N_RSS" --argjson n_auto "$N_AUTO" \
  --argjson n_lxc "$N_LXC" \
  --argjson plan "$plan_json" --argjson reload "$reload_json" \
  --argjson r_ready "$r_ready" --argjson r_rss "$r_rss" --argjson r_rss_after "$r_rss_after" --argjson r_stop "$r_stop" \
  --argjson a_ready "$(jarr "${a_ready[@]}")" --argjson a_stop "$(jarr "${a_stop[@]}")" \
  --argjson e_ready "$e_ready" --argjson s_ready "$s_ready" --argjson s_stop "$s_stop" --argjson mem "$berth_mem_json" \
  --argjson lxc "$lxc_json" --argjson lxc_start "$(jarr "${l_start[@]}")" --argjson lxc_stop "$(jarr "${l_stop[@]}")" \
  --argjson conmon "$conmon_json" --arg conmon_note "$conmon_note" '
  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  { date: $date, machine: { host: $host, cpu: $cpu, cores: ($cores | tonumber), kernel: $kernel,
                            loadavg_before: $load_before, loadavg_after: $load_after },
    berth_commit: $commit, versions: { lxc: $lxc_v, conmon: $conmon_v },
    reload: { definitions: $n_defs, running: $n_defs_run, ready_ms: $r_ready, stop_ms: $r_stop,
              berthd_rss_kb: $r_rss, berthd_rss_after_kb: $r_rss_after,
              plan_ms: $plan.wall, plan_median_ms: ($plan.wall | med),
              plan_berthd_cpu_ms: $plan.cpu, plan_berthd_cpu_median_ms: ($plan.cpu | med),
              reload_berthd_cpu_median_ms: ($reload | map(.berthd_cpu) | med),
              reloads: $reload, reload_median_ms: ($reload | map(.total) | med),
              reload_parse_plan_median_ms: ($reload | map(.plan) | med),
              reload_stop_median_ms: ($reload | map(.stop) | med),
              reload_start_median_ms: ($reload | map(.start) | med),
              reload_without_start_median_ms: ($reload | map(.total - .start) | med) },
    autostart: { containers: $n_auto, rounds: ($a_ready | length), berthd_empty_ready_ms: $e_ready,
                 berthd_ready_all_ms: $a_ready, berthd_ready_ms: ($a_ready | med),
                 berthd_stop_all_ms: $a_stop, berthd_stop_ms: ($a_stop | med),
                 lxc_containers: $n_lxc, lxc_start_all_ms: $lxc_start, lxc_stop_all_ms: $lxc_stop,
                 lxc_start_ms: (if ($lxc_start | length) > 0 then $lxc_start | med else null end),
                 lxc_stop_ms: (if ($lxc_stop | length) > 0 then $lxc_stop | med else null end) },
    memory: ($mem + { containers: $n_rss, ready_ms: $s_ready, stop_ms: $s_stop, lxc_monitor: $lxc, conmon: $conmon,
                      conmon_note: $conmon_note }) }' >"$W/summary.json"

mkdir -p "$RESULTS"
out=$RESULTS/daemon-$(date -u +%F).json
cp "$W/summary.json" "$out"

jq -r '
  def r1: . * 10 | round / 10 | tostring;
  def mb: . / 1024 | . * 100 | round / 100 | tostring;
  def ratio($a; $b): if $a and $b and $b > 0 then ($a / $b * 100 | round / 100 | tostring) + " x" else "-" end;
  def m3($s): if $s then "\($s.min)/\($s.median)/\($s.max)" else "-" end;
  "berthd at scale, \(.machine.cpu), \(.machine.cores) cores, kernel \(.machine.kernel), \(.date)",
  "berth \(.berth_commit); load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after", "",
  "1. \(.reload.definitions) definitions, \(.reload.running) running, one command changed"' "$out"
jq -r '
  def r1: . * 10 | round / 10 | tostring;
  (["measure", "median_ms", "all_ms", "target"] | @tsv),
  (["berthctl plan", (.reload.plan_median_ms | r1), (.reload.plan_ms | map(r1) | join(" ")), "< 50"] | @tsv),
  (["  berthd CPU time per plan", (.reload.plan_berthd_cpu_median_ms | r1), (.reload.plan_berthd_cpu_ms | map(r1) | join(" ")), ""] | @tsv),
  (["berthctl reload (restarts 1)", (.reload.reload_median_ms | r1), (.reload.reloads | map(.total | r1) | join(" ")), "-"] | @tsv),
  (["  of which: parse + plan", (.reload.reload_parse_plan_median_ms | r1), (.reload.reloads | map(.plan | r1) | join(" ")), ""] | @tsv),
  (["  of which: stop (SIGTERM to exited)", (.reload.reload_stop_median_ms | r1), (.reload.reloads | map(.stop | r1) | join(" ")), ""] | @tsv),
  (["  of which: the container start", (.reload.reload_start_median_ms | r1), (.reload.reloads | map(.start | r1) | join(" ")), ""] | @tsv),
  (["  berthd CPU time per reload", (.reload.reload_berthd_cpu_median_ms | r1), (.reload.reloads | map(.berthd_cpu | r1) | join(" ")), ""] | @tsv),
  (["reload without the container start", (.reload.reload_without_start_median_ms | r1), (.reload.reloads | map(.total - .start | r1) | join(" ")), "< 200"] | @tsv),
  (["berthd start to READY=1", (.reload.ready_ms | r1), "", ""] | @tsv),
  (["berthd SIGTERM to exit", (.reload.stop_ms | r1), "", ""] | @tsv)' "$out" | column -t -s $'\t'
jq -r '
  def mb: . / 1024 | . * 100 | round / 100 | tostring;
  "berthd RSS with \(.reload.definitions) definitions: \(.reload.berthd_rss_kb | mb) MB at READY, \(.reload.berthd_rss_after_kb | mb) MB after the reloads", ""' "$out"
jq -r '
  def mb: . / 1024 | . * 100 | round / 100 | tostring;
  def kb3($s; $k): if $s and $s[$k] then "\($s[$k].min)/\($s[$k].median)/\($s[$k].max)" else "-" end;
  "2. memory, \(.memory.containers) running busybox sleep containers (network none); kB min/median/max"' "$out"
jq -r '
  def mb: . / 1024 | . * 100 | round / 100 | tostring;
  def kb3($s; $k): if $s and $s[$k] then "\($s[$k].min)/\($s[$k].median)/\($s[$k].max)" else "-" end;
  (["process", "n", "VmRSS_kB", "Pss_kB", "USS_kB", "target"] | @tsv),
  (["berthd", "1", "\(.memory.berthd.rss) (\(.memory.berthd.rss | mb) MB)", .memory.berthd.pss, .memory.berthd.uss, "RSS < 20 MB"] | @tsv),
  (["berth-monitor", .memory.monitor.n, kb3(.memory.monitor; "rss"), kb3(.memory.monitor; "pss"), kb3(.memory.monitor; "uss"), "RSS < 1 MB"] | @tsv),
  (["berth-init", .memory.init.n, kb3(.memory.init; "rss"), kb3(.memory.init; "pss"), kb3(.memory.init; "uss"), "-"] | @tsv),
  (if .memory.lxc_monitor then ["[lxc monitor]", .memory.lxc_monitor.n, kb3(.memory.lxc_monitor; "rss"), kb3(.memory.lxc_monitor; "pss"), kb3(.memory.lxc_monitor; "uss"), "peer"] | @tsv else empty end),
  (if .memory.conmon then ["conmon", .memory.conmon.n, kb3(.memory.conmon; "rss"), kb3(.memory.conmon; "pss"), kb3(.memory.conmon; "uss"), "peer"] | @tsv else empty end)' "$out" |
  column -t -s $'\t'
jq -r '
  def r2: . * 100 | round / 100 | tostring;
  def ratio($a; $b): if $a and $b and $b > 0 then ($a / $b | r2) else "-" end;
  (if .memory.conmon_note != "" then "conmon: \(.memory.conmon_note)" else empty end),
  "berthd: \(.memory.berthd_fds) open fds with \(.memory.running) running (soft RLIMIT_NOFILE \(.memory.berthd_nofile_soft)); median berth-monitor: \(.memory.monitor_fds) fds",
  "RSS ratios (medians): berth-monitor / [lxc monitor] = \(ratio(.memory.monitor.rss.median; .memory.lxc_monitor.rss.median)), berth-monitor / conmon = \(ratio(.memory.monitor.rss.median; .memory.conmon.rss.median)), (berth-monitor + berth-init) / [lxc monitor] = \(ratio(.memory.monitor.rss.median + .memory.init.rss.median; .memory.lxc_monitor.rss.median))",
  "private memory (USS) per container, medians: berth-monitor + berth-init = \(.memory.monitor.uss.median + .memory.init.uss.median) kB, [lxc monitor] = \(.memory.lxc_monitor.uss.median // "-") kB, conmon = \(.memory.conmon.uss.median // "-") kB",
  "berthd with \(.memory.containers) running: start to READY=1 \(.memory.ready_ms | r2) ms, SIGTERM to exit \(.memory.stop_ms | r2) ms", "",
  "3. autostart, \(.autostart.containers) containers without dependencies; medians of \(.autostart.rounds) rounds, berthd and lxc alternating"' "$out"
jq -r '
  def r1: . * 10 | round / 10 | tostring;
  (["how", "containers", "median_ms", "per_container_ms", "rounds_ms"] | @tsv),
  (["berthd start to READY=1, no definitions", 0, (.autostart.berthd_empty_ready_ms | r1), "-", ""] | @tsv),
  (["berthd start to READY=1", .autostart.containers, (.autostart.berthd_ready_ms | r1), (.autostart.berthd_ready_ms / .autostart.containers | r1), (.autostart.berthd_ready_all_ms | map(r1) | join(" "))] | @tsv),
  (if .autostart.lxc_start_ms then ["lxc-start -d, one after another", .autostart.lxc_containers, (.autostart.lxc_start_ms | r1), (.autostart.lxc_start_ms / .autostart.lxc_containers | r1), (.autostart.lxc_start_all_ms | map(r1) | join(" "))] | @tsv else empty end),
  (["berthd SIGTERM to exit (stops all)", .autostart.containers, (.autostart.berthd_stop_ms | r1), (.autostart.berthd_stop_ms / .autostart.containers | r1), (.autostart.berthd_stop_all_ms | map(r1) | join(" "))] | @tsv),
  (if .autostart.lxc_stop_ms then ["lxc-stop -k, one after another", .autostart.lxc_containers, (.autostart.lxc_stop_ms | r1), (.autostart.lxc_stop_ms / .autostart.lxc_containers | r1), (.autostart.lxc_stop_all_ms | map(r1) | join(" "))] | @tsv else empty end)' "$out" |
  column -t -s $'\t'
jq -r '
  def r2: . * 100 | round / 100 | tostring;
  if .autostart.lxc_start_ms then "per container, berthd autostart / lxc-start -d = \((.autostart.berthd_ready_ms / .autostart.containers) / (.autostart.lxc_start_ms / .autostart.lxc_containers) | r2)" else empty end' "$out"
echo "results: $out"
