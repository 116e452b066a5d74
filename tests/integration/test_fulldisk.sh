#!/bin/bash
# Integration test of a full disk under berth-monitor (crash-consistency
# issue, findings 5 and 9): the state directory is a small tmpfs of its own;
# a container writes numbered lines while the file system is filled up and
# freed again: no line is ever merged with another, and the log says how
# many lines were dropped; a container stopped while the disk is full still
# has its real exit status (143) recorded, not "monitor lost".
# Private berthd below one mktemp -d, containers bf<pid>-*; the EXIT trap
# unmounts the tmpfs and removes everything (lib.sh's daemon layer).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="fulldisk: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=bf$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bfull.XXXXXX)
STATE=$ROOT/state
mkdir -p "$STATE"
mount -t tmpfs -o size=64m,mode=0700 "bf$$" "$STATE" || { nok "cannot mount a tmpfs"; rm -rf "$ROOT"; exit 1; }
STATE_DIR=$STATE START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""

fill() { # fill: the tmpfs has no byte left
  dd if=/dev/zero of="$STATE/fill1" bs=1M 2>/dev/null
  dd if=/dev/zero of="$STATE/fill2" bs=4k 2>/dev/null
  dd if=/dev/zero of="$STATE/fill3" bs=64 2>/dev/null
  dd if=/dev/zero of="$STATE/fill4" bs=1 2>/dev/null
  true
}
unfill() { rm -f "$STATE"/fill[1-4]; }
running() { [ "$(jget "$1" state)" = running ]; }

env_new d
# about 2,000 lines a second, each "line N xxxx"
container "$P-w" 'autostart = true' \
  'command = { "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo \"line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"; [ $((i % 200)) = 0 ] && sleep 0.1; done" }'
daemon_start
if ! wait_until 60 running "$P-w"; then
  nok "the writer did not start"
else
  LOG=$STATE/containers/$P-w/console.log
  wait_until 10 test -s "$LOG"
  fill
  sleep 2
  unfill
  wait_until 10 grep -q 'dropped: the log.s file system was full' "$LOG"
  sleep 1
  # every line of the file is one whole record (lib/logfmt.h)
  bad=$(grep -avE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z (stdout|stderr|berth) [FP] ' "$LOG" | head -n 3)
  check "every line of the log file is a whole time-stamped record (bad: $(oneline "$bad"))" test -z "$bad"
  TEXT=$ROOT/text
  ctl logs --state-dir "$STATE" "$P-w" > "$TEXT" 2>&1
  bad=$(grep -avE '^(line [0-9]+ x{40}|\[berth-monitor: [0-9]+ lines \([0-9]+ bytes\) dropped: .*\])$' "$TEXT" | head -n 3)
  check "no line of the log is merged or cut (bad: $(oneline "$bad"))" test -z "$bad"
  LOG=$TEXT
  marker=$(grep -a 'dropped: the log.s file system was full' "$LOG" | head -n1)
  check "the log says how many lines were dropped ($marker)" \
    eval "printf '%s' \"\$marker\" | grep -qE '^\[berth-monitor: [1-9][0-9]* lines'"
  # the numbers jump exactly where the marker is
  gaps=$(grep -ao '^line [0-9]*' "$LOG" | awk '{ if (p && $2 != p + 1) g++; p = $2 } END { print g + 0 }')
  check "lines are lost only where the marker is (gaps: $gaps)" test "$gaps" -le 1
  # stopped while the disk is full: the exit status is still known
  fill
  ctl stop "$P-w" >/dev/null 2>&1
  wait_until 30 eval "grep -q '$P-w: exited' '$D/berthd.log'"
  got=$(grep -a "$P-w: exited" "$D/berthd.log" | tail -n1)
  check "stopped on a full disk, its exit status is recorded ($(oneline "$got"))" \
    eval "printf '%s' \"\$got\" | grep -q 'status 143'"
  unfill
fi
daemon_stop
daemon_finish ""
cleanup_extra() { umount -l "$STATE" 2>/dev/null; }
exit $fail
