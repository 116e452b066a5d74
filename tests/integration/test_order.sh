#!/bin/bash
# Integration test of start and stop order (issue "the declaration is the
# contract", ordering part): start-order groups, start-delay, a failing
# group member, reverse shutdown, a reload that restarts a container and its
# dependant together, and start/stop/restart with requires. Every check
# starts its own berthd on private conf/state/run directories below one
# mktemp -d, with busybox containers named or<pid>-*; the EXIT trap
# (daemon_cleanup) stops and removes everything, also after a failure.
# Times come from the "started" events of `berthctl inspect`; stop order
# from a line each container appends, on SIGTERM, to a shared bind mount.
# Run as root: BERTH_BUILD=$PWD/build bash tests/integration/test_order.sh [t_func...]
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=or$$ # container names: unique on the host, cgroups are named after them
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/border.XXXXXX)
OK_PREFIX='order: '

trap daemon_cleanup EXIT
daemon_require ""

# sleeper NAME [LINE...]: a container that appends its name to /shared/stops
# on SIGTERM and exits 0; LINEs are added to its definition.
sleeper() {
  local n=$1; shift
  container "$P-$n" \
    "command = { \"/bin/sh\", \"-c\", 'trap \"echo $n >> /shared/stops; exit 0\" TERM; ${CMD_PRE:-}while :; do sleep 0.2; done' }" \
    "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }" "$@"
}
# the time_usec of NAME's last EVENT, or nothing
last_event() { events "$1" | awk -v e="$2" '$2 == e { t = $1 } END { if (t) print t }'; }
first_event() { events "$1" | awk -v e="$2" '$2 == e { print $1; exit }'; }
# the time_usec of berthd's global "ready" event
ready_time() {
  BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" events --json 2>/dev/null |
    "$PY" -c '
import json, sys
for l in sys.stdin:
    try:
        e = json.loads(l)
    except ValueError:
        continue
    if e.get("event") == "ready" and not e.get("name"):
        print(e["time_usec"]); break'
}
stops() { tr '\n' ' ' <"$D/shared/stops" 2>/dev/null; }
now_usec() { echo $(($(date +%s%N) / 1000)); }
all_running() { local n; for n in "$@"; do state_is "$P-$n" running || return 1; done; }

# The health checks below probe seldom: a stop that meets a probe in flight
# can take until stop-timeout (also before start-order groups; a race in
# the probes, not in the order), which would make the shutdown checks flaky.

# ---- 1. the issue's three containers: 10, 20 (after the 10), 30, start-delay 1s -----------

three() { # three TAG DELAY_LINE
  env_new "$1"
  chmod 0777 "$D/shared"
  sleeper a 'autostart = true' 'start-order = 10' 'start-timeout = 20s' "$2"
  sleeper b 'autostart = true' 'start-order = 20' "after = { \"$P-a\" }" 'start-timeout = 20s' "$2"
  sleeper c 'autostart = true' 'start-order = 30' 'start-timeout = 20s' "$2"
  T0=$(now_usec)
  daemon_start
  check "$1: all three run within 12 s (start-timeout is 20 s)" wait_until 12 all_running a b c
  TA=$(first_event "$P-a" started) TB=$(first_event "$P-b" started) TC=$(first_event "$P-c" started)
  TR=$(ready_time)
  note "$1: started a +$(((TA - T0) / 1000)) ms, b +$(((TB - T0) / 1000)) ms, c +$(((TC - T0) / 1000)) ms, ready +$(((${TR:-0} - T0) / 1000)) ms"
  check "$1: all three started within 12 s of berthd's start (wall clock)" \
    eval '[ -n "$TB" ] && [ -n "$TC" ] && [ $((TB - T0)) -lt 12000000 ] && [ $((TC - T0)) -lt 12000000 ]'
  check "$1: started in groups: a < b < c" \
    eval '[ -n "$TA" ] && [ -n "$TB" ] && [ -n "$TC" ] && [ "$TA" -lt "$TB" ] && [ "$TB" -lt "$TC" ]'
  check "$1: READY=1 (the ready event) came once all ran, before any start-timeout" \
    eval '[ -n "$TR" ] && [ "$TR" -ge "$TC" ] && [ $((TR - T0)) -lt 12000000 ]'
  daemon_stop
  check "$1: shutdown is the exact reverse: c b a" eval '[ "$(stops)" = "c b a " ]'
  [ "$(stops)" = "c b a " ] || note "stops: $(stops)"
}

t_three_delay() {
  three delay 'start-delay = 1s'
  # each delay counts from its own turn: a +1 s, b +1 s after a, c +1 s after b
  check "delay: b started at least 1 s after a, c at least 1 s after b" \
    eval '[ $((TB - TA)) -ge 1000000 ] && [ $((TC - TB)) -ge 1000000 ]'
  check "delay: and not much later (no start-timeout in between): c within 6 s of a" \
    eval '[ $((TC - TA)) -lt 6000000 ]'
}

t_three_nodelay() {
  three nodelay ''
}

# ---- 2. a chain by start-order alone, the earlier group healthy first; reverse stop -------

t_chain() {
  env_new chain
  chmod 0777 "$D/shared"
  # names against their order, so that name order cannot pass for start order
  CMD_PRE='sleep 1; touch /ok; ' sleeper z 'autostart = true' 'start-order = 1' \
    'health { command = { "test", "-e", "/ok" } interval = 1s timeout = 500ms start-period = 10s }'
  CMD_PRE='sleep 1; touch /ok; ' sleeper y 'autostart = true' 'start-order = 2' \
    'health { command = { "test", "-e", "/ok" } interval = 1s timeout = 500ms start-period = 10s }'
  sleeper x 'autostart = true' 'start-order = 3'
  daemon_start
  check "chain: x, y, z run" wait_until 20 all_running x y z
  local tz ty tx hz hy
  wait_until 10 eval '[ -n "$(first_event "$P-z" health)" ] && [ -n "$(first_event "$P-y" health)" ]'
  tz=$(first_event "$P-z" started) ty=$(first_event "$P-y" started) tx=$(first_event "$P-x" started)
  hz=$(first_event "$P-z" health) hy=$(first_event "$P-y" health)
  note "chain: z started $tz healthy $hz; y started $ty healthy $hy; x started $tx"
  check "chain: group 2 started after group 1 was healthy, group 3 after group 2 was" \
    eval '[ -n "$hz" ] && [ -n "$hy" ] && [ -n "$tx" ] && [ "$ty" -ge "$hz" ] && [ "$tx" -ge "$hy" ]'
  daemon_stop
  check "chain: shutdown from the highest group down: x y z" eval '[ "$(stops)" = "x y z " ]'
  [ "$(stops)" = "x y z " ] || note "stops: $(stops)"
}

# ---- 3. a failing member does not hold the next group ---------------------------------------

t_failing_member() {
  env_new failing
  chmod 0777 "$D/shared"
  # never healthy: holds group 10 until its start-timeout (5 s), no longer
  sleeper sick 'autostart = true' 'start-order = 10' 'start-timeout = 5s' \
    'health { command = { "test", "-e", "/never" } interval = 2s timeout = 500ms start-period = 60s }'
  # requires a container that does not autostart: fails at once, with the reason
  sleeper off
  sleeper needy 'autostart = true' 'start-order = 10' "requires = { \"$P-off\" }" 'start-timeout = 30s'
  sleeper next 'autostart = true' 'start-order = 20'
  local t0 tn ts
  t0=$(now_usec)
  daemon_start
  check "failing: 'needy' fails within 5 s saying it requires a stopped container" \
    wait_until 5 eval 'state_is "$P-needy" failed && has_event "$P-needy" failed "requires '\''$P-off'\'', which is stopped"'
  check "failing: meanwhile ls shows the next group waiting (for the sick one)" \
    wait_until 4 eval "ctl ls 2>/dev/null | grep -q '^$P-next  *waiting (for $P-sick)'"
  check "failing: the next group runs within 15 s" wait_until 15 state_is "$P-next" running
  local tt
  tn=$(first_event "$P-next" started) ts=$(first_event "$P-sick" started) tt=$(first_event "$P-sick" start-timeout)
  note "failing: sick started +$(((ts - t0) / 1000)) ms, start-timeout +$(((${tt:-0} - t0) / 1000)) ms, next +$(((tn - t0) / 1000)) ms"
  check "failing: the sick one's start-timeout (5 s) is reported" has_event "$P-sick" start-timeout "start-timeout 5s"
  check "failing: the next group started only then: it waited for the sick one, and no longer" \
    eval '[ -n "$tn" ] && [ -n "$tt" ] && [ "$tn" -ge "$tt" ] && [ $((tn - tt)) -lt 2000000 ] && [ $((tn - t0)) -ge 5000000 ]'
  check "failing: berthd is ready" eval '[ -n "$(ready_time)" ]'
  daemon_stop
}

# ---- 4. the reload of a and its dependant b together -------------------------------------------

t_reload_pair() {
  env_new reload
  chmod 0777 "$D/shared"
  sleeper a 'autostart = true' 'env = { "V=1" }'
  sleeper b 'autostart = true' "after = { \"$P-a\" }" 'env = { "V=1" }'
  daemon_start
  check "reload: a and b run" wait_until 20 all_running a b
  local pa pb t0 rc out
  pa=$(pid_of "$P-a") pb=$(pid_of "$P-b")
  : >"$D/shared/stops"
  sleeper a 'autostart = true' 'env = { "V=2" }'
  sleeper b 'autostart = true' "after = { \"$P-a\" }" 'env = { "V=2" }'
  t0=$(now_usec)
  out=$(ctl reload 2>&1); rc=$?
  note "reload: rc=$rc after $((($(now_usec) - t0) / 1000)) ms: $(oneline "$out")"
  check "reload: returns 0 within 30 s" test "$rc" = 0
  check "reload: both run again with new PIDs" \
    wait_until 10 eval 'all_running a b && [ "$(pid_of "$P-a")" != "$pa" ] && [ "$(pid_of "$P-b")" != "$pb" ]'
  check "reload: b stopped before a" eval '[ "$(stops)" = "b a " ]'
  [ "$(stops)" = "b a " ] || note "stops: $(stops)"
  local ta tb
  ta=$(last_event "$P-a" started) tb=$(last_event "$P-b" started)
  check "reload: a started again before b" eval '[ -n "$ta" ] && [ -n "$tb" ] && [ "$ta" -lt "$tb" ]'
  check "reload: plan says nothing to do" eval 'ctl plan 2>&1 | grep -q "nothing to do"'
  out=$(ctl reload 2>&1); rc=$?
  check "reload: a second reload returns 0 and says nothing to do" \
    eval '[ "$rc" = 0 ] && printf "%s" "$out" | grep -q "nothing to do"'
  [ "$rc" = 0 ] || note "second reload: rc=$rc $(oneline "$out")"
  daemon_stop
}

# ---- 5. stop, start and restart with requires --------------------------------------------------

t_verbs() {
  env_new verbs
  chmod 0777 "$D/shared"
  sleeper db 'autostart = true'
  sleeper app 'autostart = true' "requires = { \"$P-db\" }"
  sleeper web 'autostart = true' "after = { \"$P-db\" }"
  daemon_start
  check "verbs: db, app, web run" wait_until 20 all_running db app web
  local out rc pweb pdb papp
  pweb=$(pid_of "$P-web")
  : >"$D/shared/stops"
  out=$(ctl stop "$P-db" 2>&1); rc=$?
  note "stop: rc=$rc $(oneline "$out")"
  check "verbs: stop db returns 0 and says it stops app first" \
    eval '[ "$rc" = 0 ] && printf "%s" "$out" | grep -q "stop '\''$P-app'\'' first"'
  check "verbs: db and app stop within 10 s" \
    wait_until 10 eval 'state_is "$P-db" stopped && state_is "$P-app" stopped'
  check "verbs: app stopped before db" eval '[ "$(stops)" = "app db " ]'
  [ "$(stops)" = "app db " ] || note "stops: $(stops)"
  check "verbs: web (only after db) still runs, same PID" \
    eval 'state_is "$P-web" running && [ "$(pid_of "$P-web")" = "$pweb" ]'

  out=$(ctl start "$P-app" 2>&1); rc=$?
  note "start: rc=$rc $(oneline "$out")"
  check "verbs: start app returns 0 and says it starts db first" \
    eval '[ "$rc" = 0 ] && printf "%s" "$out" | grep -q "start '\''$P-db'\'' first"'
  check "verbs: db and app run within 10 s" wait_until 10 all_running db app
  check "verbs: db started before app" \
    eval '[ "$(last_event "$P-db" started)" -lt "$(last_event "$P-app" started)" ]'

  pdb=$(pid_of "$P-db") papp=$(pid_of "$P-app")
  : >"$D/shared/stops"
  out=$(ctl restart "$P-db" 2>&1); rc=$?
  note "restart: rc=$rc $(oneline "$out")"
  check "verbs: restart db returns 0 and says it restarts app" \
    eval '[ "$rc" = 0 ] && printf "%s" "$out" | grep -q "restart '\''$P-app'\''"'
  check "verbs: db and app run again with new PIDs within 10 s" \
    wait_until 10 eval 'all_running db app && [ "$(pid_of "$P-db")" != "$pdb" ] && [ "$(pid_of "$P-app")" != "$papp" ]'
  check "verbs: app stopped before db, and started after it" \
    eval '[ "$(stops)" = "app db " ] && [ "$(last_event "$P-db" started)" -lt "$(last_event "$P-app" started)" ]'
  [ "$(stops)" = "app db " ] || note "stops: $(stops)"

  out=$(ctl stop "$P-web" 2>&1)
  wait_until 10 state_is "$P-web" stopped
  out=$(ctl kill "$P-web" 2>&1); rc=$?
  check "verbs: kill of a stopped container fails with the reason" \
    eval '[ "$rc" != 0 ] && printf "%s" "$out" | grep -q "no process to signal"'
  [ "$rc" != 0 ] || note "kill: rc=$rc $(oneline "$out")"
  out=$(ctl stop "$P-nosuch" 2>&1); rc=$?
  check "verbs: stop of an unknown container fails with a reason" \
    eval '[ "$rc" != 0 ] && printf "%s" "$out" | grep -q "no container"'
  daemon_stop
}

if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_three_delay
  t_three_nodelay
  t_chain
  t_failing_member
  t_reload_pair
  t_verbs
fi
daemon_finish ""
exit $fail
