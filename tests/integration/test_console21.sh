#!/bin/bash
# Integration test of issue 21 (console and attach): `console = true` gives
# a container a pty of its own devpts held by its monitor; `berthctl
# console` drives it from a pty of the test (console21_drive.py: typed
# commands and their output, the window size seen by `stty size`, two
# viewers at once, Ctrl-] q detaching and the local terminal restored);
# the console outlives a kill -9 of berthd and re-adoption; its output is
# in `berthctl logs`. `berthctl attach` follows a container's stdout and
# stderr, and with `stdin = true` feeds its stdin. A viewer that never
# reads does not hold the container or the other viewers. Errors: no
# console, not running, no such container, a bad --escape, console and
# stdin together.
# Private berthd below one mktemp -d, containers con21-<pid>-*; the EXIT
# trap (daemon_cleanup) stops everything and removes it. Re-runnable.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317 # eval'd check strings; daemon_start takes no args; cleanup_extra runs from the trap
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="console21: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=con21-$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_TIMEOUT
ROOT=$(mktemp -d /tmp/con21.XXXXXX)
trap daemon_cleanup EXIT
daemon_require "console21: "
DRIVE=$(dirname "$0")/console21_drive.py
export DRIVE_TMP=$ROOT

env_new main
container "$P-con" 'autostart = true' 'console = true' 'restart = "no"' 'command = { "/bin/sh" }'
container "$P-pipe" 'autostart = true' \
  'command = { "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo out-$i; echo err-$i >&2; sleep 0.2; done" }'
container "$P-in" 'autostart = true' 'stdin = true' \
  'command = { "/bin/sh", "-c", "while read l; do echo got-$l; done; echo stdin-ended; sleep 1000" }'
# flood: about 1 MB/s of output, for the viewer that never reads
container "$P-flood" \
  'command = { "/bin/sh", "-c", "while :; do yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c 100000; sleep 0.1; done" }'
container "$P-off" 'command = { "/bin/sh", "-c", "sleep 1000" }'
daemon_start
for n in con pipe in; do
  wait_until 60 state_is "$P-$n" running || nok "$P-$n runs (state $(jget "$P-$n" state))"
done
export BERTH_SOCKET=$D/run/control.sock
drive() { timeout -k 5 90 "$PY" "$DRIVE" "$CTL" "$@" 2>&1; }

# ---- the console ----------------------------------------------------------------------------

sock=$D/state/containers/$P-con/console.sock
check "the monitor's socket is there, a socket of mode 0600" \
  eval '[ -S "$sock" ] && [ "$(stat -c %a "$sock")" = 600 ]'
pid1=$(pid_of "$P-con")
out=$(drive "$P-con" open:A 'expect:A:connected to the console' 'send:A:echo hi-$((6*7))\r' 'expect:A:hi-42' \
  'winsz:A:33x101' 'send:A:stty size\r' 'expect:A:33 101' \
  open:B 'expect:B:connected' 'send:B:echo both-$((3*5))\r' 'expect:A:both-15' 'expect:B:both-15' \
  'send:A:tty; ls -l /proc/self/fd/0\r' 'expect:A:/dev/pts/[0-9]' \
  detach:B 'send:A:echo after-b-$((2*4))\r' 'expect:A:after-b-8' detach:A restored:A 'expect:A:detached from')
check "console: a command typed is run and its output seen; the window size reaches stty size; two viewers both see output; Ctrl-] q detaches and restores the terminal ($(oneline "$out"))" \
  test "$(tail -n 1 <<<"$out")" = ok
check "console: after the viewers left the container runs on, same pid ($pid1)" \
  eval 'state_is "$P-con" running && [ "$(pid_of "$P-con")" = "$pid1" ]'
# the pty is the container's own: its devpts holds it (pts/0), not the host's
out=$(ctl exec "$P-con" -- /bin/sh -c 'ls /dev/pts; for p in /proc/[0-9]*; do readlink $p/fd/0; done' 2>&1)
check "console: the terminal is a pty of the container's own devpts ($(oneline "$out"))" \
  eval 'grep -qx 0 <<<"$out" && grep -qx /dev/pts/0 <<<"$out"'
out=$(ctl logs "$P-con" 2>&1)
check "console: its output is in berthctl logs, lines without their CR" \
  eval 'grep -qx "hi-42" <<<"$out" && grep -qx "33 101" <<<"$out" && ! grep -q $'"'"'\r$'"'"' <<<"$out"'
out=$(ctl logs -t --stdout "$P-con" 2>&1)
check "console: logged as stream stdout" eval 'grep -qE "Z stdout hi-42$" <<<"$out"'
out=$(drive "$P-con" 'open:A:--escape ^a' 'expect:A:detach with Ctrl-A q' 'send:A:echo esc-$((1+1))\r' \
  'expect:A:esc-2' 'send:A:\x1dq' 'send:A:\x03' 'send:A:echo still-$((2+2))\r' 'expect:A:still-4' \
  'send:A:\x01q' 'exit:A:0')
check "console --escape ^a: Ctrl-] q is typed into the container (Ctrl-C clears the shell's line), Ctrl-A q detaches ($(oneline "$out"))" \
  test "$(tail -n 1 <<<"$out")" = ok

# ---- kill -9 of berthd ----------------------------------------------------------------------

mon=$(jget "$P-con" monitor_pid)
daemon_kill9
check "kill -9 of berthd: the monitor and the container stay" eval 'alive "$mon" && alive "$pid1"'
daemon_start
wait_until 30 state_is "$P-con" running
check "a new berthd re-adopts the console container, same pid" eval '[ "$(pid_of "$P-con")" = "$pid1" ]'
out=$(drive "$P-con" open:A 'expect:A:connected' 'send:A:echo again-$((7*7))\r' 'expect:A:again-49' detach:A)
check "console after the re-adoption: the same shell answers ($(oneline "$out"))" test "$(tail -n 1 <<<"$out")" = ok

# ---- attach ---------------------------------------------------------------------------------

ppid=$(pid_of "$P-pipe")
timeout -s INT --preserve-status 3 "$CTL" attach "$P-pipe" >"$ROOT/a.out" 2>"$ROOT/a.err"; rc=$?
n_out=$(grep -c '^out-[0-9]*$' "$ROOT/a.out"); n_err=$(grep -c '^err-[0-9]*$' "$ROOT/a.err")
check "attach: follows stdout and stderr live ($n_out, $n_err lines), SIGINT detaches with 0 (rc=$rc)" \
  eval '[ "$rc" = 0 ] && [ "$n_out" -ge 5 ] && [ "$n_err" -ge 5 ] && grep -q "detached from" "$ROOT/a.err"'
first=$(head -n 1 "$ROOT/a.out" | tr -dc 0-9)
check "attach: the output is new (out-$first), not the log replayed" eval '[ "${first:-0}" -gt 5 ]'
check "attach: the container runs on, same pid" eval 'state_is "$P-pipe" running && [ "$(pid_of "$P-pipe")" = "$ppid" ]'
ipid=$(pid_of "$P-in")
out=$( { echo "hello-in"; sleep 1.5; } | timeout 20 "$CTL" attach "$P-in" 2>"$ROOT/i.err"); rc=$?
check "attach with stdin = true: a line sent is read by the container and its echo seen (rc=$rc, $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && grep -qx "got-hello-in" <<<"$out"'
out=$( { echo "second"; sleep 1.5; } | timeout 20 "$CTL" attach "$P-in" 2>&1)
check "attach again: the container's stdin stayed open after the first viewer's EOF" \
  eval 'grep -qx "got-second" <<<"$out" && ! grep -q stdin-ended <<<"$out"'
check "attach with stdin: the container runs on, same pid" eval '[ "$(pid_of "$P-in")" = "$ipid" ]'
out=$(ctl logs "$P-in" 2>&1)
check "attach with stdin: the echoes are in the log" eval 'grep -qx got-hello-in <<<"$out" && grep -qx got-second <<<"$out"'
out=$(echo ignored | timeout -s INT --preserve-status 2 "$CTL" attach "$P-pipe" 2>&1 >/dev/null)
check "attach without stdin = true: the local stdin is not read, Ctrl-C still detaches" \
  eval 'grep -q "detached from" <<<"$out"'

# ---- a viewer that never reads --------------------------------------------------------------

ctl start "$P-flood" >/dev/null 2>&1
wait_until 30 state_is "$P-flood" running
fdir=$D/state/containers/$P-flood
"$PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
time.sleep(60)' "$fdir/console.sock" &
stuck=$!
HPIDS+=("$stuck")
sleep 1
s1=$(stat -c %s "$fdir/console.log")
timeout -s INT --preserve-status 3 "$CTL" attach "$P-flood" >"$ROOT/f.out" 2>/dev/null
s2=$(stat -c %s "$fdir/console.log")
fbytes=$(stat -c %s "$ROOT/f.out")
check "a viewer that never reads: the container's output still reaches the log ($s1 -> $s2) and another viewer ($fbytes bytes)" \
  eval '[ "$s2" -gt $((s1 + 500000)) ] && [ "$fbytes" -gt 500000 ]'
fmon=$(jget "$P-flood" monitor_pid)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$fmon/status")
check "the flooded monitor stays small (VmRSS ${rss} kB)" eval '[ "${rss:-99999}" -lt 3000 ]'
ctl stop "$P-flood" >/dev/null 2>&1
stop_pids "$stuck"

# ---- errors ---------------------------------------------------------------------------------

out=$(ctl console "$P-pipe" 2>&1 </dev/null); rc=$?
check "console of a container without one: a clear error, rc 1 ($(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "$P-pipe has no console; set console = true" <<<"$out"'
out=$(ctl console "$P-off" 2>&1 </dev/null); rc=$?
check "console of a stopped container: not running, rc 1 ($(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "container .$P-off. is not running" <<<"$out"'
out=$(ctl attach "$P-off" 2>&1 </dev/null); rc=$?
check "attach to a stopped container: not running, rc 1" eval '[ "$rc" = 1 ] && grep -q "is not running" <<<"$out"'
out=$(ctl console "$P-nosuch" 2>&1 </dev/null); rc=$?
check "console of no such container: says so, rc 1 ($(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "no container .$P-nosuch." <<<"$out"'
out=$(ctl attach "$P-con" 2>&1 </dev/null); rc=$?
check "attach to a console container: points to console, rc 1" \
  eval '[ "$rc" = 1 ] && grep -q "use berthctl console" <<<"$out"'
out=$(ctl console --escape xy "$P-con" 2>&1 </dev/null); rc=$?
check "console --escape xy: a usage error naming it, rc 2" eval '[ "$rc" = 2 ] && grep -q "xy" <<<"$out"'
mkdir -p "$ROOT/bad"
printf 'container %s-both {\n    template = "busybox"\n    console = true\n    stdin = true\n}\n' "$P" >"$ROOT/bad/b.conf"
out=$("$CTL" check -c "$ROOT/bad" 2>&1); rc=$?
check "check: console and stdin together are refused at the stdin line ($(oneline "$out"))" \
  eval '[ "$rc" != 0 ] && grep -q "b.conf:4: stdin:" <<<"$out"'
printf 'container %s-both {\n    template = "busybox"\n    console = "maybe"\n}\n' "$P" >"$ROOT/bad/b.conf"
out=$("$CTL" check -c "$ROOT/bad" 2>&1); rc=$?
check "check: console = \"maybe\" is refused at its line ($(oneline "$out"))" \
  eval '[ "$rc" != 0 ] && grep -q "b.conf:3:" <<<"$out"'

# ---- the end: the container exits while a viewer watches --------------------------------------

out=$(drive "$P-con" open:A 'expect:A:connected' 'send:A:exit 3\r' 'expect:A:exited with status 3' 'exit:A:3')
check "console: the container's exit is told, and is berthctl's status ($(oneline "$out"))" \
  test "$(tail -n 1 <<<"$out")" = ok
wait_until 20 eval '! alive "$mon"'
check "the monitor removed its socket when the container ended" eval '! alive "$mon" && [ ! -e "$sock" ]'

daemon_stop
daemon_finish "console21: "
exit $fail
