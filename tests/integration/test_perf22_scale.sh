#!/bin/bash
# A bounded soak at scale (issue 22): one berthd runs PERF22_N busybox
# containers (default 200, at most 1000; network none) and 3 on a bridge of
# its own, then a reload that restarts one of them, a kill -9 of berthd and
# its re-adoption of all, a second reload, and the ordered stop of all by
# SIGTERM. Checked at each step, from the host: every container runs (the
# same init pids across the restart), and nothing leaks: berthd's fds and
# memory, mounts below the test's directory, cgroups, the bridge's veths,
# monitors and containers. Times are printed as notes, never judged.
# Everything lives below one mktemp -d with names p22<pid>-*; the EXIT trap
# (daemon_cleanup) stops berthd and removes what is left even on failure.
# Re-runnable. Takes about a minute at 200 on an idle 2-core machine.
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=p22$$
BR=p22b$$
OK_PREFIX='scale: '
unset NOTIFY_SOCKET BERTH_SOCKET
N=${PERF22_N:-200}
NB=3
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 1 || N > 1000)); then
  echo "not ok scale: PERF22_N must be a number from 1 to 1000, not '$N'"
  exit 1
fi
ROOT=$(mktemp -d /tmp/btperf22.XXXXXX)
STOP_TIMEOUT=$((60 + N / 5))
SETTLE=$((60 + N / 4)) # seconds allowed for all to run (bounded waits)
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require "scale: "

# ---- what the host shows --------------------------------------------------------------------

# running containers of ours per `ls --json`, as "NAME PID" lines
running() {
  ctl ls --json 2>/dev/null | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["containers"]:
    if c["state"] == "running":
        print(c["name"], c["pid"])' 2>/dev/null | sort
}
n_running() { running | wc -l; }
all_running() { [ "$(n_running)" = "$((N + NB))" ]; }
fds() { find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status"; }
# mounts below ROOT but berthd's own read-only copy of berth-init (RUN/init)
mounts() { grep -F " $ROOT/" /proc/self/mountinfo | grep -c -v -F " $D/run/init "; }
cgroups() { our_cgroups | wc -l; }
veths() { ip -o link show master "$BR" 2>/dev/null | wc -l; }
procs() { procs_with "$D/" | wc -l; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
snapshot() { # snapshot LABEL: the counters, as a note and in $snap
  snap="fds $(fds) mounts $(mounts) cgroups $(cgroups) veths $(veths) processes $(procs)"
  note "$1: $snap, berthd RSS $(rss_kb) kB"
}

# ---- definitions --------------------------------------------------------------------------------

env_new scale
oct=$(($$ % 200 + 20))
for ((i = 0; i < 200; i++)); do
  ip -4 addr | grep -q " 198\.18\.$oct\." || ip -4 route | grep -q "^198\.18\.$oct\." || break
  oct=$(((oct + 1) % 200 + 20))
done
cat >"$D/conf/net.conf" <<EOF
network $BR {
    subnet  = "198.18.$oct.0/24"
    gateway = "198.18.$oct.1"
    nat     = false
}
EOF
SLEEP='command = { "/bin/sleep", "100000" }'
for ((i = 0; i < N; i++)); do
  container "$P-$i" "$SLEEP" 'autostart = true' 'network { mode = "none" }'
done
for ((i = 0; i < NB; i++)); do
  container "$P-b$i" "$SLEEP" 'autostart = true' "network { bridge = \"$BR\" }"
done

# ---- 1. autostart ------------------------------------------------------------------------------

# Under ASan freed memory sits in a quarantine (256 MB by default) and RSS
# grows until it is full: without it, RSS shows what berthd keeps. The
# absolute bound is for a normal build (ASan's shadow alone is tens of MB).
ASAN_BUILD=false
if ldd "$BERTHD" 2>/dev/null | grep -q libasan; then ASAN_BUILD=true; fi
DENV=(env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0")
t0=$(date +%s%N)
daemon_start "${DENV[@]}"
check "all $((N + NB)) containers run after autostart" wait_until "$SETTLE" all_running
note "autostart of $((N + NB)): $(ms "$t0") ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
sleep 1 # the last monitors settle
snapshot "after autostart"
start_snap=$snap start_fds=$(fds) start_rss=$(rss_kb)
check "one mount namespace each: no mount of a container below $ROOT in the host's table" test "$(mounts)" = 0
check "the bridged containers have one veth each on $BR" test "$(veths)" = "$NB"
t0=$(date +%s%N)
ctl ls >/dev/null 2>&1
note "berthctl ls with $((N + NB)) running: $(ms "$t0") ms"

# ---- 2. a reload that restarts one ----------------------------------------------------------------

before=$(running)
old=$(pid_of "$P-0")
sed -i 's/"100000"/"100001"/' "$D/conf/$P-0.conf"
t0=$(date +%s%N)
ctl reload >/dev/null 2>&1
note "reload restarting 1 of $((N + NB)): $(ms "$t0") ms"
restarted() { local p; p=$(pid_of "$P-0"); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && all_running; }
check "the reload restarts the changed container, the rest keep running" wait_until 60 restarted
check "no other container was touched by the reload" \
  eval '[ "$(running | grep -v "^$P-0 ")" = "$(printf "%s\n" "$before" | grep -v "^$P-0 ")" ]'
sleep 0.5
snapshot "after a reload"
check "no fd, mount, cgroup, veth or process leaked across the reload" test "$snap" = "$start_snap"
[ "$snap" = "$start_snap" ] || note "before: $start_snap"

# ---- 3. kill -9 and re-adoption ------------------------------------------------------------------

before=$(running)
daemon_kill9
check "every container's monitor outlives a killed berthd" eval '[ "$(procs)" = "$((N + NB))" ]'
t0=$(date +%s%N)
daemon_start "${DENV[@]}"
check "a new berthd re-adopts all $((N + NB))" wait_until "$SETTLE" all_running
note "restart to all re-adopted: $(ms "$t0") ms"
check "with the same init pids" eval '[ "$(running)" = "$before" ]'
check "each adopted once" eval '[ "$(grep -c ": adopted: pid " "$D/berthd.log")" = "$((N + NB))" ]'
sleep 0.5
snapshot "after the restart"
check "the new berthd holds no more fds than the first did" test "$(fds)" -le "$start_fds"
adopt_snap=${snap#fds * } first_snap=${start_snap#fds * }
check "no mount, cgroup, veth or process leaked across the restart" test "$adopt_snap" = "$first_snap"
adopt_fds=$(fds) adopt_rss=$(rss_kb)

# ---- 4. a second reload, on the adopted set ----------------------------------------------------------

old=$(pid_of "$P-0")
sed -i 's/"100001"/"100000"/' "$D/conf/$P-0.conf"
ctl reload >/dev/null 2>&1
check "a reload after the restart restarts the changed container" wait_until 60 restarted
sleep 0.5
snapshot "after the second reload"
check "no fd leaked across the second reload" test "$(fds)" = "$adopt_fds"
check "berthd's memory grew by less than 4 MB over the second reload ($adopt_rss -> $(rss_kb) kB)" \
  test "$(rss_kb)" -lt "$((adopt_rss + 4096))"
if $ASAN_BUILD; then
  ok "berthd's RSS stays below 50 MB # skip under ASan ($(rss_kb) kB with its shadow memory)"
else
  check "berthd's RSS stays below 50 MB" test "$(rss_kb)" -lt 51200
fi

# ---- 5. the ordered stop of all ---------------------------------------------------------------------

t0=$(date +%s%N)
daemon_stop
rc=$?
note "SIGTERM to exit, stopping $((N + NB)): $(ms "$t0") ms"
check "berthd exits 0 after stopping all" test "$rc" = 0
check "no monitor or container is left" wait_until 20 nothing_left
check "no cgroup of ours is left" test "$(cgroups)" = 0
check "no mount below $ROOT is left" test "$(mounts)" = 0
check "the bridge and its veths are gone" eval '! ip link show "$BR" >/dev/null 2>&1'

daemon_finish ""
exit $fail
