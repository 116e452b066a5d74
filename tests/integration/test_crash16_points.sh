#!/bin/bash
# The crash harness (issue 16): berthd started with BERTH_CRASH_AT=POINT dies
# as kill -9 would at that named step of a start, stop, restart, cleanup or
# reload (docs/design.md lists the points); a new berthd is started on the
# same directories and must find: no orphan (the container that runs is the
# one ls shows, and stop stops it), no duplicate (one monitor per
# container), no healthy container killed (same pid), every exit status
# recorded (the real one, not -1), the operator's intent kept, the
# definitions applied. Each check has its own berthd on private directories
# below one mktemp -d, busybox containers named c16<pid>-*; the EXIT trap
# (daemon_cleanup) removes everything even when a check fails. Re-runnable.
#   test_crash16_points.sh [t_NAME...]: only those checks
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=c16$$
OK_PREFIX='crash16: '
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_CRASH_AT
ROOT=$(mktemp -d /tmp/btcrash16.XXXXXX)

SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'
DEAF='command = { "/bin/sh", "-c", "trap \"\" TERM; while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require "crash16: "

# monitors NAME: pids of the monitors of container NAME (argv "berth-monitor DIR ...")
monitors() {
  local p
  for p in $(procs_with "$D/state/containers/$1"); do
    [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -d' ' -f1,2)" = "berth-monitor $D/state/containers/$1" ] &&
      echo "$p"
  done
}
n_monitors() { monitors "$1" | wc -l; }
# the init its (only) monitor holds: the monitor's argv[2]
monitor_init() { tr '\0' ' ' <"/proc/$(monitors "$1" | head -n1)/cmdline" 2>/dev/null | cut -d' ' -f3; }
last_status() { jget "$1" last_status; }

# crash_run POINT ACTION...: a berthd that dies at POINT, then ACTION; waits
# until it died (checked), then a new berthd
crash_run() {
  local point=$1 dp; shift
  daemon_start env BERTH_CRASH_AT="$point"
  dp=$DPID
  "$@" >/dev/null 2>&1
  check "$point: berthd died at the crash point" wait_until 20 eval '! alive $dp'
  grep -q "crash point '$point' reached" "$D/berthd.log" || note "$point: no crash line in the log"
  wait "$dp" 2>/dev/null
  DPID=
  daemon_start
}

# the container runs exactly once, and the new berthd knows it (no orphan, no duplicate)
known_running() {
  [ "$(n_monitors "$1")" = 1 ] && state_is "$1" running && [ "$(pid_of "$1")" = "$(monitor_init "$1")" ]
}
# stop works and leaves nothing of it
stops() { ctl stop "$1" >/dev/null 2>&1 && wait_until 20 eval '[ "$(n_monitors "$1")" = 0 ]' && state_is "$1" stopped; }

# ---- start ------------------------------------------------------------------------------------

t_start() {
  local point
  for point in start-requested spawner-forked record-written running; do
    env_new "start-$point"
    container "$P-s" "$SLEEPER"
    crash_run "$point" ctl start "$P-s"
    check "$point: the operator's start is carried out, once, and known" wait_until 20 known_running "$P-s"
    [ "$(n_monitors "$P-s")" = 1 ] || note "$point: monitors: $(monitors "$P-s" | tr '\n' ' ')"
    sleep 1
    check "$point: still one container a second later" known_running "$P-s"
    check "$point: stop stops it" stops "$P-s"
    daemon_stop
  done
}

# ---- stop (and the cleanup after it) -----------------------------------------------------------

t_stop() {
  local point
  for point in operator-stop-recorded stop-requested stop-signalled exit-recorded cleanup-state-unlinked \
    cleanup-exit-unlinked exit-handled; do
    env_new "stop-$point"
    container "$P-t" "$SLEEPER" 'autostart = true'
    container "$P-h" "$SLEEPER" 'autostart = true'
    daemon_start
    wait_until 30 eval 'state_is "$P-t" running && state_is "$P-h" running'
    local h
    h=$(pid_of "$P-h")
    daemon_kill9
    crash_run "$point" ctl stop "$P-t"
    check "$point: the stop is finished, not undone" wait_until 20 eval '[ "$(n_monitors "$P-t")" = 0 ] && state_is "$P-t" stopped'
    check "$point: its real exit status is recorded (143)" wait_until 5 eval '[ "$(last_status "$P-t")" = 143 ]'
    [ "$(last_status "$P-t")" = 143 ] || note "$point: last_status $(last_status "$P-t")"
    check "$point: the other container was not touched (same pid)" eval '[ "$(pid_of "$P-h")" = "$h" ] && alive "$h"'
    # The operator's stop outlives one more restart of berthd.
    daemon_kill9
    daemon_start
    sleep 1
    check "$point: an operator-stopped autostart container stays stopped" \
      eval '[ "$(n_monitors "$P-t")" = 0 ] && state_is "$P-t" stopped && [ "$(last_status "$P-t")" = 143 ]'
    daemon_stop
  done
}

# A container that ignores its stop-signal: killed after stop-timeout.
t_stop_killed() {
  env_new stop-killed
  container "$P-k" "$DEAF" 'autostart = true' 'stop-timeout = 1s'
  daemon_start
  wait_until 30 state_is "$P-k" running
  daemon_kill9
  crash_run stop-killed ctl stop "$P-k"
  check "stop-killed: the stop is finished" wait_until 20 eval '[ "$(n_monitors "$P-k")" = 0 ] && state_is "$P-k" stopped'
  check "stop-killed: its real exit status is recorded (137)" wait_until 5 eval '[ "$(last_status "$P-k")" = 137 ]'
  daemon_stop
}

# ---- exits, back-off, failure --------------------------------------------------------------------

t_backoff() {
  env_new backoff
  container "$P-r" 'command = { "/bin/sh", "-c", "sleep 1; exit 3" }' 'autostart = true' 'restart = "always"' \
    'restart-delay = 3s'
  crash_run backoff-recorded true
  check "backoff-recorded: the new berthd keeps the back-off (not running at once)" \
    eval '[ "$(n_monitors "$P-r")" = 0 ] && state_is "$P-r" backoff'
  check "backoff-recorded: the exit status is recorded (3)" eval '[ "$(last_status "$P-r")" = 3 ]'
  check "backoff-recorded: it is restarted when the deadline passes" \
    wait_until 10 eval '[ "$(count_events "$P-r" started)" -ge 1 ]'
  check "backoff-recorded: the restart count survived" eval '[ "$(jget "$P-r" restarts)" -ge 1 ]'
  daemon_stop
}

t_failed() {
  env_new failed
  container "$P-f" 'command = { "/bin/sh", "-c", "exit 4" }' 'autostart = true' 'restart = "on-failure"' \
    'restart-delay = 100ms' 'restart-limit = 1' 'restart-window = 60s'
  crash_run failed-recorded true
  sleep 2
  check "failed-recorded: it stays failed (not started again)" \
    eval 'state_is "$P-f" failed && [ "$(count_events "$P-f" started)" = 0 ] && [ "$(n_monitors "$P-f")" = 0 ]'
  check "failed-recorded: its exit status and restart count survived" \
    eval '[ "$(last_status "$P-f")" = 4 ] && [ "$(jget "$P-f" restarts)" = 1 ]'
  daemon_stop
}

t_exit_no() {
  env_new exit-no
  container "$P-n" 'command = { "/bin/sh", "-c", "sleep 1; exit 1" }' 'autostart = true'
  crash_run exit-handled true
  sleep 2
  check "exit-handled: restart = no: it stays stopped (autostart does not start it)" \
    eval 'state_is "$P-n" stopped && [ "$(count_events "$P-n" started)" = 0 ] && [ "$(n_monitors "$P-n")" = 0 ]'
  check "exit-handled: its exit status is recorded (1)" eval '[ "$(last_status "$P-n")" = 1 ]'
  daemon_stop
}

# ---- reload and start-up ---------------------------------------------------------------------------

edit_and_reload() {
  container "$P-a" "$SLEEPER" 'autostart = true' 'limits { pids = 77 }'
  container "$P-b" "$SLEEPER" 'autostart = true'
  ctl reload
}
# pids_max NAME: pids.max of the container's cgroup (v1 or v2), found through its init
pids_max() {
  local pid ctrl path mnt
  pid=$(pid_of "$1")
  while IFS=: read -r _ ctrl path; do
    case ",$ctrl," in
      *,pids,*) mnt=$(awk '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == "pids") { print $5; exit } }' /proc/self/mountinfo)
        cat "$mnt$path/pids.max" 2>/dev/null; return ;;
      ,,) [ -f "/sys/fs/cgroup$path/pids.max" ] && { cat "/sys/fs/cgroup$path/pids.max"; return; } ;;
    esac
  done <"/proc/$pid/cgroup"
}

t_reload() {
  local point
  for point in reload-planned reload-applied; do
    env_new "reload-$point"
    container "$P-a" "$SLEEPER" 'autostart = true'
    daemon_start
    wait_until 30 state_is "$P-a" running
    local a
    a=$(pid_of "$P-a")
    daemon_kill9
    crash_run "$point" edit_and_reload
    check "$point: the new definitions are applied (the new container runs, once)" wait_until 20 known_running "$P-b"
    check "$point: the healthy container was not killed (same pid)" \
      eval '[ "$(pid_of "$P-a")" = "$a" ] && known_running "$P-a"'
    check "$point: the edited limit is applied to the running container (pids.max 77)" \
      wait_until 10 eval '[ "$(pids_max "$P-a")" = 77 ]'
    check "$point: nothing to do after (plan)" eval '! ctl plan 2>/dev/null | grep -qE "^(start|restart|stop|update)"'
    daemon_stop
  done
}

t_adopted() {
  env_new adopted
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  local a b
  a=$(pid_of "$P-a") b=$(pid_of "$P-b")
  daemon_kill9
  crash_run adopted true
  check "adopted: both are re-adopted with the same pids" \
    wait_until 10 eval '[ "$(pid_of "$P-a")" = "$a" ] && [ "$(pid_of "$P-b")" = "$b" ] && known_running "$P-a" && known_running "$P-b"'
  daemon_stop
}

t_bad_point() {
  env_new bad-point
  local out
  out=$(env BERTH_CRASH_AT=no-such-point "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" 2>&1)
  check "an unknown crash point is refused, named" eval '[[ $out == *"unknown crash point '"'"'no-such-point'"'"'"* ]]'
}

if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_bad_point
  t_start
  t_stop
  t_stop_killed
  t_backoff
  t_failed
  t_exit_no
  t_reload
  t_adopted
fi

daemon_finish ""
exit $fail
