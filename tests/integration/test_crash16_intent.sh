#!/bin/bash
# Intent survives berthd (issue 16), with plain kill -9 of berthd at
# ordinary moments (test_crash16_points.sh kills it at each named step):
#   - an operator-stopped autostart container stays stopped after berthd
#     restarts (crash or orderly), and runs again after berthctl start
#   - a restart = "no" container that exited while berthd was down stays
#     stopped, with its real exit status
#   - a stop always ends: a state record whose init_start was edited no
#     longer makes stop (and shutdown) retry forever
#   - events outlive berthd: events --since / -n replay the journal on disk
# Each check has its own berthd on private directories below one mktemp -d,
# busybox containers named c16i<pid>-*; the EXIT trap (daemon_cleanup)
# removes everything even when a check fails. Re-runnable.
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=c16i$$
OK_PREFIX='crash16-intent: '
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_CRASH_AT
ROOT=$(mktemp -d /tmp/btcrash16i.XXXXXX)

SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require "crash16-intent: "

t_operator_stop() {
  env_new opstop
  container "$P-o" "$SLEEPER" 'autostart = true' 'restart = "always"'
  daemon_start
  wait_until 30 state_is "$P-o" running
  local o
  o=$(pid_of "$P-o")
  ctl stop "$P-o" >/dev/null 2>&1
  wait_until 20 eval '! alive "$o"'
  daemon_kill9
  daemon_start
  sleep 1
  check "an operator-stopped autostart container stays stopped after berthd was killed" \
    eval 'state_is "$P-o" stopped && [ "$(count_events "$P-o" started)" = 0 ]'
  check "... with its exit status" eval '[ "$(jget "$P-o" last_status)" = 143 ]'
  daemon_stop
  daemon_start
  sleep 1
  check "... and after an orderly restart of berthd" \
    eval 'state_is "$P-o" stopped && [ "$(count_events "$P-o" started)" = 0 ]'
  ctl start "$P-o" >/dev/null 2>&1
  check "berthctl start runs it again" wait_until 20 state_is "$P-o" running
  o=$(pid_of "$P-o")
  daemon_kill9
  daemon_start
  check "... and a restarted berthd keeps it running (same pid)" \
    wait_until 10 eval 'state_is "$P-o" running && [ "$(pid_of "$P-o")" = "$o" ]'
  daemon_stop
}

t_exit_while_down() {
  env_new exit-down
  container "$P-x" 'command = { "/bin/sh", "-c", "sleep 2; exit 1" }' 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-x" running
  local x
  x=$(pid_of "$P-x")
  daemon_kill9
  wait_until 20 eval '! alive "$x"'
  daemon_start
  sleep 2
  check "restart = no: a container that exited while berthd was down stays stopped" \
    eval 'state_is "$P-x" stopped && [ "$(count_events "$P-x" started)" = 0 ]'
  check "... with its real exit status (1)" eval '[ "$(jget "$P-x" last_status)" = 1 ]'
  daemon_kill9
  daemon_start
  sleep 1
  check "... also after one more restart of berthd" \
    eval 'state_is "$P-x" stopped && [ "$(count_events "$P-x" started)" = 0 ] && [ "$(jget "$P-x" last_status)" = 1 ]'
  daemon_stop
}

t_stop_edited_record() {
  env_new edited
  container "$P-e" "$SLEEPER" 'autostart = true' 'stop-timeout = 2s'
  daemon_start
  wait_until 30 state_is "$P-e" running
  local e f=$D/state/containers/$P-e/state
  e=$(pid_of "$P-e")
  daemon_kill9
  sed -i 's/^init_start=.*/init_start=12345/' "$f"
  daemon_start
  wait_until 10 state_is "$P-e" running
  check "an edited init_start: the container is still re-adopted (same pid)" eval '[ "$(pid_of "$P-e")" = "$e" ]'
  ctl stop "$P-e" >/dev/null 2>&1
  check "... and stop stops it" wait_until 15 eval '! alive "$e" && state_is "$P-e" stopped'
  ctl start "$P-e" >/dev/null 2>&1
  wait_until 20 state_is "$P-e" running
  e=$(pid_of "$P-e")
  daemon_kill9
  sed -i 's/^init_start=.*/init_start=12345/' "$f"
  daemon_start
  wait_until 10 state_is "$P-e" running
  local t0=$SECONDS
  STOP_TIMEOUT=20 daemon_stop
  check "... and an orderly shutdown ends (in $((SECONDS - t0)) s), with the container gone" \
    eval '[ $((SECONDS - t0)) -lt 15 ] && ! alive "$e"'
}

# events NAME-less replay: "EVENT DETAIL" lines of `events --json ARGS`, for 3 s
replay() { BERTH_SOCKET=$D/run/control.sock timeout 3 "$CTL" events --json "$@" 2>/dev/null |
  "$PY" -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l); print(e.get("name") or "-", e["event"], e["detail"])'; }

t_journal() {
  env_new journal
  container "$P-j" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-j" running && [ "$(pid_of "$P-j")" -gt 0 ]'
  local j
  j=$(pid_of "$P-j")
  daemon_kill9
  daemon_start
  wait_until 10 state_is "$P-j" running
  local out
  out=$(replay --since 1h)
  check "events --since replays the events of the berthd that was killed" \
    eval '[[ $out == *"$P-j started pid $j"* ]] && [[ $out == *"$P-j adopted pid $j"* ]]'
  [[ $out == *"started pid $j"* ]] || note "replay (pid $j): $(oneline "$out")"
  out=$(replay -n 1)
  check "events -n 1 replays exactly the last one" eval '[ -n "$out" ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ]'
  check "the journal is one JSON object a line" \
    eval '"$PY" -c "import json, sys; [json.loads(l) for l in open(sys.argv[1])]" "$D/state/events.log"'
  out=$(ctl events -n 0 2>&1)
  check "events -n 0 is refused, saying why" eval '[[ $out == *"-n expects"* ]]'
  daemon_stop
}

if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_operator_stop
  t_exit_while_down
  t_stop_edited_record
  t_journal
fi

daemon_finish ""
exit $fail
