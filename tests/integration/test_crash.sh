#!/bin/bash
# Crash-consistent supervision: nothing is destroyed by accident. Each check
# starts its own berthd on private conf/state/run directories below one
# mktemp -d, with busybox containers named cr<pid>-*; the EXIT trap
# (daemon_cleanup) stops every berthd started here and kills what is left of
# their monitors and containers, even when a check fails. Re-runnable.
#   - a definition that disappears stops its container and keeps its data
#     (orphaned); the definition's return adopts it again; destroy deletes it
#   - a reload that would stop all (or most) running containers because their
#     definitions vanished needs --force
#   - an invalid definition at start: berthd runs with the last valid set
#   - an empty, truncated, stale or missing state record never kills a
#     healthy container
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=cr$$
OK_PREFIX='crash: '
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/btcrash.XXXXXX)

SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require "crash: "

names() { ctl ls --names 2>/dev/null | sort | tr '\n' ' '; }
# the state column of NAME in `ls --all`
ls_all_state() { ctl ls --all 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
upper() { echo "$D/state/containers/$1/upper"; }
running3() { state_is "$P-a" running && state_is "$P-b" running && state_is "$P-c" running; }

# ---- A. a definition that disappears ---------------------------------------------------------

t_orphan() {
  env_new orphan
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  container "$P-c" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 running3
  local b
  b=$(pid_of "$P-b")
  echo precious >"$(upper "$P-b")/data.txt"
  cp "$D/conf/$P-b.conf" "$D/b.conf.saved"
  rm "$D/conf/$P-b.conf"
  local plan
  plan=$(ctl plan 2>&1)
  check "plan says the container stops and keeps its data" \
    eval 'printf "%s\n" "$plan" | grep -qE "^stop +$P-b +definition gone; data kept"'
  [[ $plan == *"definition gone; data kept"* ]] || note "plan: $(oneline "$plan")"
  ctl reload >/dev/null 2>&1
  check "a deleted definition stops its container" wait_until 20 eval '! alive "$b"'
  check "ls --all shows it orphaned" wait_until 10 eval '[ "$(ls_all_state "$P-b")" = orphaned ]'
  check "ls (without --all) no longer lists it" eval '[ "$(names)" = "$P-a $P-c " ]'
  check "its writable layer is kept" grep -qx precious "$(upper "$P-b")/data.txt"
  # A restart of berthd still knows the orphan.
  daemon_kill9
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running'
  check "a new berthd lists the orphan too" wait_until 10 eval '[ "$(ls_all_state "$P-b")" = orphaned ]'
  # The definition returns: adopted and started again, with its data.
  cp "$D/b.conf.saved" "$D/conf/$P-b.conf"
  local out rc
  out=$(ctl destroy "$P-b" 2>&1); rc=$?
  check "destroy refuses while a definition exists (non-zero, with a reason)" \
    eval '[ $rc != 0 ] && [[ $out == *definition* ]] && test -d "$(upper "$P-b")"'
  [[ $out == *definition* ]] || note "destroy: $(oneline "$out")"
  ctl reload >/dev/null 2>&1
  check "a restored definition starts the container again" wait_until 20 state_is "$P-b" running
  check "... with its data" eval '[ "$(ctl exec -c "$D/conf" --state-dir "$D/state" "$P-b" -- cat /data.txt 2>/dev/null)" = precious ]'
  out=$(ctl destroy "$P-b" 2>&1); rc=$?
  check "destroy refuses a running container" eval '[ $rc != 0 ] && test -d "$(upper "$P-b")"'
  # Orphaned again, then destroyed.
  rm "$D/conf/$P-b.conf"
  ctl reload >/dev/null 2>&1
  wait_until 20 eval '[ "$(ls_all_state "$P-b")" = orphaned ]'
  check "destroy deletes an orphan's data" eval 'ctl destroy "$P-b" && ! test -e "$D/state/containers/$P-b"'
  check "ls --all no longer shows it" eval '[ -z "$(ls_all_state "$P-b")" ]'
  check "destroy of an unknown name fails" eval '! ctl destroy "$P-zz" 2>/dev/null'
  check "the other containers kept running" eval 'state_is "$P-a" running && state_is "$P-c" running'
  daemon_stop
}

# ---- A. a definition directory that vanished (empty mount point) ----------------------------------

t_mass_vanish() {
  env_new vanish
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  local a b
  a=$(pid_of "$P-a") b=$(pid_of "$P-b")
  echo precious >"$(upper "$P-a")/data.txt"
  mkdir "$D/conf.away"
  mv "$D/conf/"*.conf "$D/conf.away/"
  local out rc
  out=$(ctl plan 2>&1)
  check "plan says a reload would be refused" eval '[[ $out == *"reload is refused"*"2 of the 2"* ]]'
  out=$(ctl reload 2>&1); rc=$?
  check "a reload that would stop every container is refused (non-zero)" test "$rc" != 0
  check "... naming the count" eval '[[ $out == *2* && $out == *--force* ]]'
  [[ $out == *--force* ]] || note "reload: $(oneline "$out")"
  check "... and nothing was stopped" eval 'alive "$a" && alive "$b" && state_is "$P-a" running'
  out=$(ctl reload --force 2>&1); rc=$?
  check "reload --force applies it" test "$rc" = 0
  check "... stops both" wait_until 20 eval '! alive "$a" && ! alive "$b"'
  check "... keeps their data" grep -qx precious "$(upper "$P-a")/data.txt"
  mv "$D/conf.away/"*.conf "$D/conf/"
  ctl reload >/dev/null 2>&1
  check "the definitions' return starts them again" \
    wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  daemon_stop
}

# The same at start: a berthd that finds the definition directory empty
# (its file system not mounted yet) keeps what runs, with the last valid set.
t_vanish_boot() {
  env_new vanish-boot
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  local a b
  a=$(pid_of "$P-a") b=$(pid_of "$P-b")
  daemon_kill9
  mkdir "$D/conf.away"
  mv "$D/conf/"*.conf "$D/conf.away/"
  daemon_start
  sleep 1
  check "a start with every definition gone keeps the containers running (same pids)" \
    eval 'alive "$a" && alive "$b" && state_is "$P-a" running && [ "$(pid_of "$P-a")" = "$a" ]'
  check "... and says so" grep -q "gone from $D/conf" "$D/berthd.log"
  local rc
  ctl reload >/dev/null 2>&1; rc=$?
  check "... a plain reload is still refused" eval '[ $rc != 0 ] && alive "$a"'
  ctl reload --force >/dev/null 2>&1
  check "... reload --force stops them, data kept" \
    wait_until 20 eval '! alive "$a" && ! alive "$b" && [ "$(ls_all_state "$P-a")" = orphaned ] && test -d "$(upper "$P-a")"'
  daemon_stop
}

# ---- B. an invalid definition at start -------------------------------------------------------

t_invalid_boot() {
  env_new badboot
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  local a b
  a=$(pid_of "$P-a") b=$(pid_of "$P-b")
  daemon_kill9
  container "$P-b" "$SLEEPER" 'autostart = true' 'limits { memory = "12Q" }'
  notify_listen
  daemon_start env NOTIFY_SOCKET="$NSOCK"
  check "berthd starts with an invalid definition in place" daemon_up
  check "berthctl ls works and the containers still run (same pids)" \
    eval 'state_is "$P-a" running && [ "$(pid_of "$P-a")" = "$a" ] && [ "$(pid_of "$P-b")" = "$b" ]'
  check "the errors are logged with file and line" grep -q "$P-b.conf:[0-9]*:" "$D/berthd.log"
  check "an event reports them" eval 'BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" events 2>/dev/null | grep -q "definitions-invalid"'
  check "berthctl check reports them" eval '! ctl check -c "$D/conf" >/dev/null 2>&1'
  check "sd_notify STATUS= reports them" wait_until 10 grep -q '^STATUS=.*1 error in .*last valid' "$NOUT"
  grep -q '^STATUS=' "$NOUT" || note "notify: $(tr '\n' '|' <"$NOUT")"
  check "stop works: the containers are supervised" \
    eval 'ctl stop "$P-a" && wait_until 20 eval "! alive $a && state_is $P-a stopped"'
  container "$P-b" 'command = { "/bin/sh", "-c", "while :; do sleep 2; done" }' 'autostart = true'
  local out rc
  out=$(ctl reload 2>&1); rc=$?
  check "the fixed files apply at the next reload" eval '[ $rc = 0 ] && [[ $out == *"$P-b"* ]]'
  check "... and the changed container restarts with them" \
    wait_until 30 eval 'state_is "$P-b" running && [ "$(pid_of "$P-b")" != "$b" ]'
  note "reload: $(oneline "$out")"
  daemon_stop

  # Without any last valid set (a first start), berthd refuses as before.
  env_new badfirst
  container "$P-x" "$SLEEPER" 'limits { memory = "12Q" }'
  timeout 20 "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" >>"$D/berthd.log" 2>&1
  rc=$?
  check "a first start with invalid definitions still exits 1" test "$rc" = 1
}

# NSOCK, NOUT: a datagram socket that appends what berthd notifies to NOUT
notify_listen() {
  export NSOCK=$D/notify.sock NOUT=$D/notify.out
  : >"$NOUT"
  "$PY" -c '
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(os.environ["NSOCK"])
s.settimeout(60)
with open(os.environ["NOUT"], "a") as f:
    while True:
        try:
            m = s.recv(65536)
        except socket.timeout:
            break
        f.write(m.decode(errors="replace") + "\n")
        f.flush()
' &
  HPIDS+=($!)
  wait_until 10 test -S "$NSOCK"
}

# ---- C. corrupted state records ---------------------------------------------------------------

state_case() { # TAG HOW
  env_new "state-$1"
  container "$P-s" "$SLEEPER" 'autostart = true' 'restart = "always"'
  daemon_start
  wait_until 30 state_is "$P-s" running
  local s f=$D/state/containers/$P-s/state
  s=$(pid_of "$P-s")
  daemon_kill9
  case $2 in
    empty) : >"$f" ;;
    truncated) head -c 40 "$f" >"$f.tmp" && mv "$f.tmp" "$f" ;;
    missing) rm "$f" ;;
    stale) sed -i -e "s/^monitor_pid=.*/monitor_pid=$$/" -e "s/^init_pid=.*/init_pid=$$/" "$f" ;; # whole, but wrong
  esac
  daemon_start
  sleep 2
  check "$1 state record: the healthy container is not killed" alive "$s"
  check "$1 state record: it is re-adopted running with the same pid" \
    eval 'state_is "$P-s" running && [ "$(pid_of "$P-s")" = "$s" ]'
  check "$1 state record: not counted as an exit" eval '[ "$(count_events "$P-s" exited)" = 0 ]'
  check "$1 state record: the record is reported" grep -qi "state record" "$D/berthd.log"
  check "$1 state record: stop works" eval 'ctl stop "$P-s" && wait_until 20 eval "! alive $s"'
  daemon_stop
}
t_state_empty() { state_case empty empty; }
t_state_truncated() { state_case truncated truncated; }
t_state_stale() { state_case stale stale; }
t_state_missing() { state_case missing missing; }

# test_crash.sh [t_NAME...]: only those checks
if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_orphan
  t_mass_vanish
  t_vanish_boot
  t_invalid_boot
  t_state_empty
  t_state_truncated
  t_state_stale
  t_state_missing
fi

daemon_finish ""
exit $fail
