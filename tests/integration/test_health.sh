#!/bin/bash
# Integration test of health checks driven by berthd (issue 8): unhealthy
# after retries and restarted, start-period, probe timeout killing the probe
# tree, after/requires gated on health, on-failure none and stop, a probe
# command that does not exist, a tcp probe on a bridge in 198.19.x, check's
# interval < timeout, a stuck probe spawner that delays neither restarts nor
# answers, and a bounded soak of many probed containers.
# Every check runs its own berthd on private conf/run directories below one
# mktemp -d (one state directory, so the busybox template is built once),
# with containers named bth<pid>-*. Waits are bounded polls of `berthctl
# inspect`. The EXIT trap stops every berthd started here, kills what is
# left of their monitors and containers (found by the temp dir in their
# argv, never by program name: a container's init carries berthd's command
# line), removes leftover cgroups and the bridge of ours, and the temp dir.
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="health: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=bth$$ # container names: unique on the host, cgroups are named after them
BR=bthn$$ # the bridge of check 8 (<= 15 characters)
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bthealthd.XXXXXX)
STATE=$ROOT/state
mkdir -p "$STATE"
STATE_DIR=$STATE SHARED_MODE=0777 START_TIMEOUT=60 STOP_TIMEOUT=60

SHARED='mount shared { type = "bind" source = "SHAREDDIR" target = "/shared" }'
shared() { echo "${SHARED/SHAREDDIR/$D/shared}"; }
# cmd SCRIPT: a command line running SCRIPT under /bin/sh
cmd() { printf 'command = { "/bin/sh", "-c", "%s" }' "$1"; }
# A workload that takes a second or two to stop: a window to inspect a
# container that is being stopped.
SLOWSTOP='trap \"sleep 1; exit 0\" TERM; while :; do sleep 1; done'
LOOP='while :; do sleep 1; done'

health_is() { [ "$(jget "$1" health)" = "$2" ]; }
running_healthy() { [ "$(inspect "$1" | "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(j["state"], j["health"])' 2>/dev/null)" = "running healthy" ]; }
# first_event NAME EVENT [DETAIL]: time_usec of the first such event
first_event() { events "$1" | awk -v e="$2" -v d="${3:-}" '$2 == e && index($0, d) { print $1; exit }'; }
# probes NAME: "OK EXIT_STATUS OUTPUT" of the kept probes, newest first
probes() {
  inspect "$1" | "$PY" -c '
import json, sys
for p in json.load(sys.stdin)["health_probes"]:
    print(int(p["ok"]), p["exit_status"], p["output"].replace("\n", "|"))' 2>/dev/null
}

cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

# ---- 1. unhealthy after retries failures, restarted, healthy again ------------------------

t_retries_restart() {
  env_new retries
  container "$P-r" "$(cmd "touch /ok; $SLOWSTOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 1s timeout = 800ms retries = 3 on-failure = restart }'
  daemon_start
  check "retries: the container becomes healthy" wait_until 30 running_healthy "$P-r"
  local pid
  pid=$(pid_of "$P-r")
  ctl exec -c "$D/conf" --state-dir "$STATE" "$P-r" -- rm /ok
  check "retries: berthctl exec removed the checked file" eval '[ $? = 0 ]'
  # Snapshots of inspect until the container runs again with a new PID:
  # "STATE HEALTH PID RESTARTS LEADING_FAILURES" (failed probes since the
  # newest success).
  local snaps=$D/snaps i
  : >"$snaps"
  for ((i = 0; i < 400; i++)); do
    inspect "$P-r" | "$PY" -c '
import json, sys
j = json.load(sys.stdin)
n = 0
for p in j["health_probes"]:
    if p["ok"]:
        break
    n += 1
print(j["state"], j["health"], j["pid"], j["restarts"], n)' >>"$snaps" 2>/dev/null
    tail -n1 "$snaps" | awk -v p="$pid" '$1 == "running" && $3 != p && $3 > 0 { f = 1 } END { exit !f }' && break
    sleep 0.05
  done
  local before at
  before=$(awk -v p="$pid" '$3 == p && $2 == "healthy" && $5 > m { m = $5 } END { print m + 0 }' "$snaps")
  # Once unhealthy it is stopping at once (ls shows no health then); the
  # probes are kept until it exits.
  at=$(awk -v p="$pid" '$3 == p && $1 == "stopping" && $5 > m { m = $5 } END { print m + 0 }' "$snaps")
  note "failed probes seen while still healthy: at most $before; when it was stopped: $at"
  check "retries: 2 failed probes leave it healthy, the 3rd (retries = 3) makes it unhealthy" \
    eval '[ "$before" = 2 ] && [ "$at" = 3 ]'
  check "retries: event health 'healthy → unhealthy: exit status 1'" has_event "$P-r" health "healthy → unhealthy: exit status 1"
  check "retries: event health-action restart" has_event "$P-r" health-action restart
  check "retries: restarted with a new PID, restarts = 1, the old init gone" \
    wait_until 30 eval 'state_is "$P-r" running && [ "$(pid_of "$P-r")" != "$pid" ] && [ "$(jget "$P-r" restarts)" = 1 ] && ! alive "$pid"'
  check "retries: healthy again after the restart" wait_until 30 running_healthy "$P-r"
  check "retries: ls shows it healthy" eval 'ctl ls | grep -E "^$P-r +running +healthy " >/dev/null'
  [ "$fail" = 0 ] || { note "snapshots: $(uniq -c <"$snaps" | tr '\n' '|')"; events "$P-r" | sed 's/^/# /'; }
  daemon_stop
}

# ---- 2. failures inside start-period do not count ------------------------------------------

t_start_period() {
  env_new startperiod
  container "$P-s" "$(cmd "sleep 2; touch /ok; $LOOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 400ms timeout = 300ms retries = 1 start-period = 5s on-failure = restart }'
  daemon_start
  wait_until 30 state_is "$P-s" running
  local pid seen_fail=0 i
  pid=$(pid_of "$P-s")
  for ((i = 0; i < 200; i++)); do
    probes "$P-s" | grep -q '^0 ' && seen_fail=1
    running_healthy "$P-s" && break
    sleep 0.1
  done
  check "start-period: probes failed during the start period" test "$seen_fail" = 1
  check "start-period: it ends healthy" running_healthy "$P-s"
  sleep 1
  check "start-period: never unhealthy, no restart, same PID" \
    eval '! has_event "$P-s" health unhealthy && [ "$(count_events "$P-s" health-action)" = 0 ] && [ "$(jget "$P-s" restarts)" = 0 ] && [ "$(pid_of "$P-s")" = "$pid" ]'
  check "start-period: event health 'starting → healthy'" has_event "$P-s" health "starting → healthy"
  daemon_stop
}

# ---- 3. a probe that outlives its timeout is killed with its tree ----------------------------

# probe_lifetimes INIT_PID CGROUP_PROCS SECONDS: samples /proc every 50 ms
# for "sleep 30" processes in the PID namespace of INIT_PID; prints
# "PID LIFETIME_MS IN_CGROUP" for each one seen.
probe_lifetimes() {
  "$PY" - "$1" "$2" "$3" <<'EOF'
import os, sys, time
init, cgprocs, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
ns = os.readlink('/proc/%s/ns/pid' % init)
seen = {}
end = time.monotonic() + secs
while time.monotonic() < end:
    now = time.monotonic()
    try:
        cg = set(open(cgprocs).read().split())
    except OSError:
        cg = set()
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            if open('/proc/%s/cmdline' % p, 'rb').read() != b'sleep\x0030\x00':
                continue
            if os.readlink('/proc/%s/ns/pid' % p) != ns:
                continue
        except OSError:
            continue
        first, _, incg = seen.get(p, (now, now, False))
        seen[p] = (first, now, incg or p in cg)
    time.sleep(0.05)
for p, (first, last, incg) in sorted(seen.items()):
    print(p, int((last - first) * 1000), int(incg))
EOF
}

t_timeout() {
  env_new timeout
  container "$P-t" "$(cmd "$LOOP")" 'autostart = true' \
    'health { command = { "/bin/sh", "-c", "sleep 30 & sleep 30" } interval = 1s timeout = 300ms retries = 1 on-failure = none }'
  daemon_start
  wait_until 30 state_is "$P-t" running
  local pid out
  pid=$(pid_of "$P-t")
  check "timeout: the probe fails and the container is unhealthy" wait_until 20 health_is "$P-t" unhealthy
  out=$(probes "$P-t" | head -n1)
  note "newest probe: $out"
  check "timeout: the probe result says 'timed out'" eval 'echo "$out" | grep -q "^0 .*timed out"'
  check "timeout: the health event says timed out" has_event "$P-t" health "timed out"
  # Each probe's "sleep 30" lives about 300 ms of every second; one that
  # outlived its timeout would be seen for longer.
  local d cg='' life
  for d in $(berth_cgroup_dirs); do
    [ -f "$d/$P-t/cgroup.procs" ] && cg=$d/$P-t/cgroup.procs && break
  done
  life=$(probe_lifetimes "$pid" "$cg" 5)
  note "probe 'sleep 30' processes seen in 5 s (pid, lifetime ms, in cgroup): $(echo "$life" | tr '\n' ' ')"
  check "timeout: probes ran as 'sleep 30' in the container's PID namespace and cgroup" \
    eval '[ "$(echo "$life" | awk "\$3 == 1" | wc -l)" -ge 3 ]'
  check "timeout: each was gone within 1 s (killed at its 300 ms timeout, none left behind)" \
    eval '[ -n "$life" ] && echo "$life" | awk "\$2 > 1000 { f = 1 } END { exit f }"'
  check "timeout: on-failure = none keeps it running with the same PID" \
    eval 'state_is "$P-t" running && [ "$(pid_of "$P-t")" = "$pid" ] && [ "$(jget "$P-t" restarts)" = 0 ]'
  daemon_stop
}

# ---- 4. after waits for a dependency to be healthy -------------------------------------------

t_after_healthy() {
  env_new after
  container "$P-db" "$(cmd "sleep 2; touch /ok; $LOOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 3 start-period = 10s }'
  container "$P-web" "$(cmd "$LOOP")" 'autostart = true' "after = { \"$P-db\" }"
  daemon_start
  check "after: both run" wait_until 30 eval 'state_is "$P-db" running && state_is "$P-web" running'
  local tdb_start tdb_healthy tweb
  tdb_start=$(first_event "$P-db" started)
  tdb_healthy=$(first_event "$P-db" health "→ healthy")
  tweb=$(first_event "$P-web" started)
  note "db started $tdb_start, healthy $tdb_healthy (+$(((tdb_healthy - tdb_start) / 1000)) ms), web started $tweb"
  check "after: the dependant starts only after the dependency turned healthy" \
    eval '[ -n "$tdb_healthy" ] && [ -n "$tweb" ] && [ "$tweb" -ge "$tdb_healthy" ] && [ $((tdb_healthy - tdb_start)) -ge 1500000 ]'
  daemon_stop
}

# ---- 5. on-failure none and stop --------------------------------------------------------------

t_on_failure() {
  env_new onfailure
  container "$P-n" "$(cmd "$LOOP")" 'autostart = true' 'restart = "always"' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 1 on-failure = none }'
  container "$P-x" "$(cmd "$LOOP")" 'autostart = true' 'restart = "always"' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 1 on-failure = stop }'
  container "$P-lim" "$(cmd "$LOOP")" 'autostart = true' 'restart-delay = 100ms' 'restart-limit = 1' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 1 on-failure = restart }'
  daemon_start
  wait_until 30 state_is "$P-n" running
  local pid
  pid=$(pid_of "$P-n")
  check "on-failure none: unhealthy" wait_until 20 health_is "$P-n" unhealthy
  sleep 2 # several intervals
  check "on-failure none: still running, unhealthy, same PID, restarts 0, no health-action" \
    eval 'state_is "$P-n" running && health_is "$P-n" unhealthy && [ "$(pid_of "$P-n")" = "$pid" ] && alive "$pid" && [ "$(jget "$P-n" restarts)" = 0 ] && [ "$(count_events "$P-n" health-action)" = 0 ]'
  check "on-failure none: it is probed on (more than 3 probes kept)" eval '[ "$(probes "$P-n" | wc -l)" -ge 4 ]'
  check "on-failure stop: ends failed even with restart = always" wait_until 20 state_is "$P-x" failed
  check "on-failure stop: events health-action stop and failed 'unhealthy'" \
    eval 'has_event "$P-x" health-action stop && has_event "$P-x" failed unhealthy'
  sleep 1
  check "on-failure stop: not restarted (started once, restarts 0)" \
    eval 'state_is "$P-x" failed && [ "$(count_events "$P-x" started)" = 1 ] && [ "$(jget "$P-x" restarts)" = 0 ]'
  check "on-failure restart: restart-limit 1 still applies (restarted once, then failed)" \
    wait_until 30 eval 'state_is "$P-lim" failed && [ "$(jget "$P-lim" restarts)" = 1 ] && has_event "$P-lim" failed "restart-limit 1"'
  daemon_stop
}

# ---- 6. requires: the dependant follows a health restart ---------------------------------------

t_requires() {
  env_new requires
  container "$P-db" "$(cmd "touch /ok; $LOOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 500ms timeout = 300ms retries = 2 }'
  container "$P-app" "$(cmd "$LOOP")" 'autostart = true' "requires = { \"$P-db\" }"
  daemon_start
  check "requires: both run, db healthy" \
    wait_until 30 eval 'running_healthy "$P-db" && state_is "$P-app" running'
  local dbpid apppid t0
  dbpid=$(pid_of "$P-db") apppid=$(pid_of "$P-app")
  t0=$(($(date +%s%N) / 1000))
  ctl exec -c "$D/conf" --state-dir "$STATE" "$P-db" -- rm /ok
  check "requires: db is restarted for its health (new PID)" \
    wait_until 30 eval '[ "$(jget "$P-db" restarts)" = 1 ] && state_is "$P-db" running && [ "$(pid_of "$P-db")" != "$dbpid" ]'
  check "requires: the dependant runs again with a new PID" \
    wait_until 30 eval 'state_is "$P-app" running && [ "$(pid_of "$P-app")" != "$apppid" ] && ! alive "$apppid"'
  local t_unh t_stop t_dbstart t_dbhealthy t_appstart
  t_unh=$(events "$P-db" | awk -v t="$t0" '$1 > t && $2 == "health" && /unhealthy/ { print $1; exit }')
  t_stop=$(events "$P-app" | awk -v t="$t0" '$1 > t && $2 == "stop" { print $1; exit }')
  t_dbstart=$(events "$P-db" | awk -v t="$t0" '$1 > t && $2 == "started" { print $1; exit }')
  t_dbhealthy=$(events "$P-db" | awk -v t="$t0" '$1 > t && $2 == "health" && /→ healthy/ { print $1; exit }')
  t_appstart=$(events "$P-app" | awk -v t="$t0" '$1 > t && $2 == "started" { print $1; exit }')
  note "after rm /ok (usec since): db unhealthy +$((t_unh - t0)), app stop +$((t_stop - t0)), db started +$((t_dbstart - t0)), db healthy +$((t_dbhealthy - t0)), app started +$((t_appstart - t0))"
  check "requires: event stop 'requires '$P-db', which is unhealthy'" has_event "$P-app" stop "requires '$P-db', which is unhealthy"
  check "requires: order db unhealthy ≤ app stop < db started < db healthy ≤ app started" \
    eval '[ -n "$t_unh" ] && [ -n "$t_stop" ] && [ -n "$t_dbstart" ] && [ -n "$t_dbhealthy" ] && [ -n "$t_appstart" ] &&
          [ "$t_unh" -le "$t_stop" ] && [ "$t_stop" -lt "$t_dbstart" ] && [ "$t_dbstart" -lt "$t_dbhealthy" ] && [ "$t_dbhealthy" -le "$t_appstart" ]'
  [ "$fail" = 0 ] || { events "$P-db" | sed 's/^/# db /'; events "$P-app" | sed 's/^/# app /'; }
  daemon_stop
}

# ---- 7. a probe command that does not exist ------------------------------------------------------

t_not_found() {
  env_new notfound
  container "$P-nf" "$(cmd "$LOOP")" 'autostart = true' \
    'health { command = { "/no/such-probe" } interval = 300ms timeout = 200ms retries = 2 on-failure = none }'
  daemon_start
  wait_until 30 state_is "$P-nf" running
  check "not found: the container becomes unhealthy" wait_until 20 health_is "$P-nf" unhealthy
  local out
  out=$(probes "$P-nf" | head -n1)
  note "newest probe: $out"
  check "not found: the probe output names the missing command (exit status 127)" \
    eval 'echo "$out" | grep -q "^0 127 .*not found.*/no/such-probe"'
  check "not found: berthd keeps running and serving" eval 'alive "$DPID" && ctl ls | grep -q "^$P-nf .*running"'
  daemon_stop
}

# ---- 8. tcp on a bridge network ------------------------------------------------------------------

t_tcp_bridge() {
  env_new tcp
  local oct=$(($$ % 200 + 20)) i
  for ((i = 0; i < 200; i++)); do
    ip -4 addr | grep -q " 198\.19\.$oct\." || ip -4 route | grep -q "^198\.19\.$oct\." || break
    oct=$(((oct + 1) % 200 + 20))
  done
  local sub=198.19.$oct
  cat >"$D/conf/net.conf" <<EOF
network $BR {
    subnet  = "$sub.0/24"
    gateway = "$sub.1"
    nat     = false
}
EOF
  container "$P-h" "$(cmd "mkdir -p /tmp/www && echo hi > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www")" \
    'autostart = true' "network { bridge = \"$BR\" address = \"$sub.10\" }" \
    'health { tcp = 8080 interval = 500ms timeout = 400ms retries = 2 }'
  daemon_start
  check "tcp: the httpd container on bridge $BR ($sub.0/24) becomes healthy" wait_until 30 running_healthy "$P-h"
  local out rc
  out=$(timeout 30 "$CTL" health -c "$D/conf" --state-dir "$STATE" "$P-h" 2>&1); rc=$?
  note "berthctl health: $out"
  check "tcp: berthctl health prints a passed tcp result to $sub.10:8080 and exits 0" \
    eval '[ $rc = 0 ] && echo "$out" | grep -q "tcp probe passed" && echo "$out" | grep -q "$sub.10:8080"'
  daemon_stop
  check "tcp: berthd removes the bridge at exit" eval '! ip link show "$BR" >/dev/null 2>&1'
}

# ---- 9. check refuses interval < timeout -----------------------------------------------------------

t_check_interval() {
  env_new check
  cat >"$D/conf/bad.conf" <<EOF
container $P-c {
    template = "busybox"
    health {
        command = { "true" }
        timeout = 2s
        interval = 1s
    }
}
EOF
  local out rc
  out=$("$CTL" check -c "$D/conf" 2>&1); rc=$?
  note "check: $(echo "$out" | head -n3 | tr '\n' '|')"
  check "check: interval 1s < timeout 2s is refused with bad.conf:6" \
    eval '[ $rc != 0 ] && echo "$out" | grep -q "bad.conf:6" && echo "$out" | grep -qi "interval"'
}

# ---- 11. a health section added or removed by reload -------------------------------------------

t_reload_health() {
  env_new reload
  container "$P-l" "$(cmd "touch /ok; $LOOP")" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-l" running
  local pid
  pid=$(pid_of "$P-l")
  container "$P-l" "$(cmd "touch /ok; $LOOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 1 on-failure = none }'
  ctl reload >/dev/null 2>&1
  check "reload: a health section added by reload is probed: healthy, same PID" \
    wait_until 20 eval 'running_healthy "$P-l" && [ "$(pid_of "$P-l")" = "$pid" ]'
  ctl exec -c "$D/conf" --state-dir "$STATE" "$P-l" -- rm /ok
  check "reload: ... and turns unhealthy once its file is gone" wait_until 20 health_is "$P-l" unhealthy
  container "$P-l" "$(cmd "touch /ok; $LOOP")" 'autostart = true'
  ctl reload >/dev/null 2>&1
  check "reload: with the section removed, no health and no probes, same PID" \
    wait_until 20 eval '[ "$(jget "$P-l" health)" = "-" ] && [ "$(probes "$P-l" | wc -l)" = 0 ] && [ "$(pid_of "$P-l")" = "$pid" ]'
  daemon_stop
}

# ---- 12. re-adopted containers are probed again ---------------------------------------------------

t_adopt_health() {
  env_new adopt
  container "$P-a" "$(cmd "touch /ok; $LOOP")" 'autostart = true' \
    'health { command = { "test", "-e", "/ok" } interval = 300ms timeout = 200ms retries = 1 on-failure = none }'
  daemon_start
  wait_until 30 running_healthy "$P-a"
  local pid
  pid=$(pid_of "$P-a")
  kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
  daemon_start
  check "adopt: a re-adopted container is probed again and healthy, same PID" \
    wait_until 20 eval 'running_healthy "$P-a" && [ "$(pid_of "$P-a")" = "$pid" ] && has_event "$P-a" health "starting → healthy"'
  daemon_stop
}

# ---- 13. a frozen container: its probes fail, berthd keeps serving ----------------------------------

t_frozen() {
  env_new frozen
  container "$P-z" "$(cmd "$LOOP")" 'autostart = true' \
    'health { command = { "true" } interval = 300ms timeout = 200ms retries = 2 on-failure = none }'
  daemon_start
  check "frozen: healthy before" wait_until 30 running_healthy "$P-z"
  local pid
  pid=$(pid_of "$P-z")
  "$CTL" freeze --state-dir "$STATE" "$P-z"
  check "frozen: berthctl freeze succeeds" eval '[ $? = 0 ]'
  sleep 2
  local t0=$SECONDS
  check "frozen: berthd still answers within 5 s" eval 'BERTH_SOCKET=$D/run/control.sock timeout 5 "$CTL" ls >/dev/null 2>&1'
  note "frozen: ls answered after $((SECONDS - t0)) s"
  local n0; n0=$(inspect "$P-z" | "$PY" -c 'import json, sys; print(max(p["time_usec"] for p in json.load(sys.stdin)["health_probes"]))' 2>/dev/null)
  sleep 2
  local n1; n1=$(inspect "$P-z" | "$PY" -c 'import json, sys; print(max(p["time_usec"] for p in json.load(sys.stdin)["health_probes"]))' 2>/dev/null)
  check "frozen: probes are suspended while frozen (newest probe unchanged over 2 s)" test -n "$n0" -a "$n0" = "$n1"
  check "frozen: a frozen container stays healthy" health_is "$P-z" healthy
  check "frozen: ls and inspect say frozen" eval 'state_is "$P-z" frozen && ctl ls | grep -q "^$P-z  *frozen "' 
  note "frozen: newest probe: $(probes "$P-z" | head -n1)"
  "$CTL" unfreeze --state-dir "$STATE" "$P-z"
  check "frozen: healthy again after unfreeze, same PID" \
    wait_until 20 eval 'running_healthy "$P-z" && [ "$(pid_of "$P-z")" = "$pid" ]'
  daemon_stop
}

# ---- 14. a stuck probe set-up never delays supervision -------------------------------------------

# berthd sets probes up (and makes their sockets in a container's network
# namespace) in its spawner process, never on its event loop. With the
# spawner stopped (SIGSTOP: a fork that never ends), probes time out while
# another container that exits every second is restarted on time and
# berthd answers; after SIGCONT what it made for probes nobody waits for
# any more is reaped (no zombie left); killed, another spawner takes over.
spawner_of() { ps -o pid=,comm= --ppid "$1" | awk '$2 == "berthd-probes" { print $1 }'; }
zombies_of() { ps -o stat= --ppid "$1" | grep -c '^Z'; }
# gaps NAME T0_USEC: "STARTS MAX_MS": starts after T0 and the longest
# exited → started gap among them
restart_gaps() {
  events "$1" | awk -v t0="$2" '$1 >= t0 && $2 == "exited" { ex = $1 }
    $1 >= t0 && $2 == "started" { n++; if (ex) { g = ($1 - ex) / 1000; if (g > m) m = g; ex = 0 } }
    END { printf "%d %d\n", n, m }'
}
t_spawner_stuck() {
  env_new stuck
  container "$P-p" "$(cmd "$LOOP")" 'autostart = true' 'network { mode = "none" }' \
    'health { command = { "true" } interval = 300ms timeout = 200ms retries = 100 on-failure = "none" }'
  container "$P-q" 'command = { "/usr/sbin/httpd", "-f", "-p", "8080", "-h", "/var" }' 'autostart = true' \
    'network { mode = "none" }' 'health { tcp = 8080 interval = 300ms timeout = 200ms retries = 100 on-failure = "none" }'
  container "$P-e" 'command = { "/bin/sh", "-c", "sleep 1; exit 1" }' 'autostart = true' 'restart = "always"' \
    'restart-delay = 200ms' 'restart-max-delay = 200ms' 'restart-limit = 0' 'network { mode = "none" }'
  daemon_start
  check "stuck spawner: both probed containers healthy" \
    wait_until 30 eval 'running_healthy "$P-p" && running_healthy "$P-q"'
  local sp sp2 t0 g n gap
  sp=$(spawner_of "$DPID")
  check "stuck spawner: berthd has one spawner child (berthd-probes)" test -n "$sp"
  [ -n "$sp" ] || { daemon_stop; return; }
  kill -STOP "$sp"
  t0=$(($(date +%s%N) / 1000))
  sleep 4
  check "stuck spawner: berthd answers within 2 s" eval 'BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" ls >/dev/null 2>&1'
  check "stuck spawner: the command probe times out" eval 'probes "$P-p" | head -n1 | grep -q "^0 .*timed out"'
  check "stuck spawner: the tcp probe times out" eval 'probes "$P-q" | head -n1 | grep -q "^0 .*timed out"'
  g=$(restart_gaps "$P-e" "$t0")
  n=${g% *} gap=${g#* }
  note "stuck spawner: $n starts of $P-e in 4 s, longest exited → started $gap ms (restart-delay 200ms)"
  check "stuck spawner: the exiting container was restarted on time ($n starts, gap $gap ms < 2000)" \
    eval '[ "$n" -ge 2 ] && [ "$gap" -lt 2000 ]'
  kill -CONT "$sp"
  check "stuck spawner: healthy again after SIGCONT" \
    wait_until 20 eval 'running_healthy "$P-p" && running_healthy "$P-q"'
  sleep 1
  check "stuck spawner: no zombie child of berthd left ($(zombies_of "$DPID"))" \
    wait_until 10 eval '[ "$(zombies_of "$DPID")" = 0 ]'
  kill -KILL "$sp"
  check "stuck spawner: killed, another spawner takes over" \
    wait_until 20 eval 'sp2=$(spawner_of "$DPID"); [ -n "$sp2" ] && [ "$sp2" != "$sp" ]'
  local newest
  newest=$(($(date +%s%N) / 1000))
  check "stuck spawner: probes pass again through the new spawner" wait_until 20 eval \
    '[ "$(inspect "$P-p" | "$PY" -c "import json, sys; p = json.load(sys.stdin)[\"health_probes\"][0]; print(int(p[\"ok\"] and p[\"time_usec\"] > $newest))" 2>/dev/null)" = 1 ]'
  check "stuck spawner: no zombie child of berthd left" wait_until 10 eval '[ "$(zombies_of "$DPID")" = 0 ]'
  daemon_stop
}

# ---- 15. a probe cancelled while it runs leaves nothing ------------------------------------------

# A command probe is cancelled on timeout and when its container stops. Its
# processes (the intermediate, the workload, what it left in its group)
# belong to the probe spawner, which kills and reaps them: no zombie is
# left with berthd or the spawner (a zombie of the container's PID
# namespace would hold its teardown, and so its stop, for ever), nothing
# of the probe runs on in the container, and the container stops at once.
# in_ns_count INIT_PID PATTERN: processes in INIT_PID's PID namespace whose
# command line matches PATTERN
in_ns_count() {
  local ns p n=0
  ns=$(readlink "/proc/$1/ns/pid" 2>/dev/null) || { echo 0; return; }
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$2" && n=$((n + 1))
  done
  echo "$n"
}
# probe_def BG SECONDS INTERVAL TIMEOUT: a probe that leaves "sleep BG" behind and takes SECONDS
probe_def() {
  container "$P-c" "$(cmd "$LOOP")" 'autostart = true' 'network { mode = "none" }' \
    "health { command = { \"/bin/sh\", \"-c\", \"sleep $1 & sleep $2\" } interval = $3 timeout = $4 retries = 100 on-failure = \"none\" }"
}
# zombies_left: zombie children of berthd and of its probe spawner ($sp)
zombies_left() { { zombies_of "$DPID"; [ -n "$sp" ] && zombies_of "$sp"; } | awk '{ s += $1 } END { print s + 0 }'; }
t_probe_cancel() {
  env_new cancel
  probe_def 77 5 500ms 500ms
  daemon_start
  wait_until 30 state_is "$P-c" running
  local init sp n77 n5 t0
  init=$(pid_of "$P-c")
  sp=$(spawner_of "$DPID")
  check "cancel: a probe runs (its sleep 77 in the container)" wait_until 20 eval '[ "$(in_ns_count "$init" "sleep 77")" -ge 1 ]'
  sleep 6
  n77=$(in_ns_count "$init" "sleep 77") n5=$(in_ns_count "$init" "sleep 5")
  check "cancel: probes that time out are killed with what they left (after 6 s: $n77 sleep 77, $n5 sleep 5; at most 1 each)" \
    eval '[ "$n77" -le 1 ] && [ "$n5" -le 1 ]'
  check "cancel: ... and reported as timed out" eval 'probes "$P-c" | head -n1 | grep -q "^0 .*timed out"'
  # Cancelled at every point of the set-up: a timeout of 20 ms.
  probe_def 66 1 100ms 20ms
  check "cancel: reload to a probe that times out after 20 ms" eval 'ctl reload >/dev/null 2>&1'
  sleep 6
  check "cancel: ... its probes are cancelled (newest: $(probes "$P-c" | head -n1))" \
    eval 'probes "$P-c" | head -n1 | grep -q "^0 .*timed out after"'
  check "cancel: 6 s of probes cancelled after 20 ms: no zombie left with berthd or the spawner (now $(zombies_left))" \
    wait_until 10 eval '[ "$(zombies_left)" = 0 ]'
  check "cancel: ... nothing of them runs on (at most one probe's)" eval '[ "$(in_ns_count "$init" "sleep 66")" -le 1 ]'
  probe_def 55 30 40s 40s
  check "cancel: reload to a probe of 30 s" eval 'ctl reload >/dev/null 2>&1'
  wait_until 20 eval '[ "$(in_ns_count "$init" "sleep 30")" -ge 1 ]'
  t0=$SECONDS
  ctl stop "$P-c" >/dev/null 2>&1
  check "cancel: the container stops during a probe within 15 s ($((SECONDS - t0)) s)" \
    eval 'state_is "$P-c" stopped && [ $((SECONDS - t0)) -le 15 ]'
  check "cancel: its PID namespace is gone (init $init)" wait_until 10 eval '! test -e /proc/$init'
  check "cancel: no zombie left with berthd or the spawner, nothing of the probes runs" \
    wait_until 10 eval '[ "$(zombies_left)" = 0 ] && ! pgrep -f "^sleep (30|55|66|77)$" >/dev/null'
  daemon_stop
}

# ---- 10. soak ----------------------------------------------------------------------------------------

# cpu_ticks PID: utime + stime
cpu_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
# child_ticks PID: cutime + cstime (reaped children: the probes' forks before their exec)
child_ticks() { awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[14] + f[15] }' "/proc/$1/stat"; }
# fds_min PID: the fewest open fds over 2 s (sampled every 10 ms): probes in
# flight hold a few fds each, the baseline is what stays.
fds_min() {
  "$PY" - "$1" <<'EOF'
import os, sys, time
m = None
for _ in range(200):
    try:
        n = len(os.listdir('/proc/%s/fd' % sys.argv[1]))
    except OSError:
        continue
    m = n if m is None else min(m, n)
    time.sleep(0.01)
print(m)
EOF
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

t_soak() {
  local n=${SOAK_N:-50} secs=${SOAK_SECS:-60}
  env_new soak
  local i
  for ((i = 0; i < n; i++)); do
    container "$P-k$i" 'command = { "sleep", "100000" }' 'autostart = true' 'network { mode = "none" }' \
      'health { command = { "true" } interval = 2s timeout = 2s retries = 3 }'
  done
  local t_start=$SECONDS
  # Under ASan, freed memory sits in a quarantine (256 MB by default) and
  # RSS grows until it is full: without it, RSS shows what berthd keeps.
  # Leak detection at exit stays on.
  daemon_start env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
  all_healthy() { [ "$(ctl ls 2>/dev/null | grep -c "^$P-k.* running  *healthy ")" = "$n" ]; }
  check "soak: $n containers run and are healthy" wait_until 120 all_healthy
  local t_up=$((SECONDS - t_start))
  local hz c0 c1 f0 f1 r0 r1 w0 w1 k0 k1
  hz=$(getconf CLK_TCK)
  k0=$(child_ticks "$DPID")
  c0=$(cpu_ticks "$DPID") f0=$(fds_min "$DPID") r0=$(rss_kb "$DPID") w0=$(date +%s%N)
  sleep "$secs"
  c1=$(cpu_ticks "$DPID") f1=$(fds_min "$DPID") r1=$(rss_kb "$DPID") w1=$(date +%s%N)
  k1=$(child_ticks "$DPID")
  local cpu
  cpu=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v w=$((w1 - w0)) 'BEGIN { printf "%.1f", 100 * c / hz / (w / 1e9) }')
  # The 5 kept probes of a few containers: all passed, the newest within
  # 6 s, one every 6 s at most (interval 2 s is counted from the end of
  # the previous probe: the period is 2 s + the probe + event loop delays).
  # This is a soak for leaks and CPU, not a latency test: the timeout (2 s)
  # and the bounds leave room for a loaded machine (under ASan a probe's
  # fork of berthd takes 100-800 ms when other suites run beside it).
  local k span_ok=1 spans=''
  for k in 0 $((n / 2)) $((n - 1)); do
    local sp
    sp=$(ctl inspect "$P-k$k" | "$PY" -c '
import json, sys, time
p = json.load(sys.stdin)["health_probes"]
t = [x["time_usec"] for x in p]
fresh = time.time() * 1e6 - max(t)
period = (max(t) - min(t)) / (len(t) - 1)
dur = sum(x["duration_usec"] for x in p) / len(p)
good = len(p) == 5 and all(x["ok"] for x in p) and fresh < 6e6 and period < 6e6
print("%d:newest %.1fs ago, period %.2fs, probe %.0fms%s" % (good, fresh / 1e6, period / 1e6, dur / 1e3, "" if good else " " + json.dumps([(x["ok"], x.get("output", "")[:80]) for x in p])))' 2>/dev/null)
    spans+="k$k: ${sp#*:}; "
    [ "${sp%%:*}" = 1 ] || span_ok=0
  done
  note "soak: $n containers up and healthy in ${t_up}s; over $(((w1 - w0) / 1000000)) ms berthd used $((c1 - c0)) ticks = $cpu% of one CPU (its reaped children, the probes' forks: $((k1 - k0)) ticks)"
  note "soak: fds $f0 -> $f1, VmRSS $r0 kB -> $r1 kB"
  note "soak: kept probes: $spans"
  check "soak: containers were probed to the end, at least every 6 s, all passing" test "$span_ok" = 1
  check "soak: berthd CPU ${cpu}% < 50% of one CPU" awk -v c="$cpu" 'BEGIN { exit !(c < 50) }'
  check "soak: fd count did not grow (+2 at most): $f0 -> $f1" eval '[ $((f1 - f0)) -le 2 ]'
  check "soak: RSS grew by at most 20%: $r0 -> $r1 kB" eval '[ "$r1" -le $((r0 * 12 / 10)) ]'
  check "soak: all still healthy, no restarts" eval 'all_healthy && ! ctl ls | grep "^$P-k" | awk "\$6 != 0 { f = 1 } END { exit !f }"'
  local t_stop=$SECONDS
  daemon_stop
  note "soak: shutdown took $((SECONDS - t_stop))s"
  check "soak: berthd stops all $n containers" wait_until 30 eval '[ -z "$(procs_with "$D/")" ]'
}

# test_health.sh [t_NAME...]: only those checks (for debugging)
if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_check_interval
  t_retries_restart
  t_start_period
  t_timeout
  t_after_healthy
  t_on_failure
  t_requires
  t_not_found
  t_tcp_bridge
  t_reload_health
  t_adopt_health
  t_frozen
  t_spawner_stuck
  t_probe_cancel
  t_soak
fi

daemon_finish ""
exit $fail
