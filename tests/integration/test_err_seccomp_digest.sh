#!/bin/bash
# Integration test of issue 14 (one error carrier, spawn takes prepared
# params): a seccomp profile is compiled only when its text is the one
# validated when the definitions were loaded. A private berthd loads a
# container with a profile; the file is edited; a start before the next
# reload fails with a message naming the container and the file, and
# after `berthctl reload` the edited profile is what confines the
# container. Its own berthd on private conf/run/state directories below
# one mktemp -d, containers named berr<pid>-*; the EXIT trap stops berthd,
# kills what is left of its monitors and containers (found by the temp dir
# in their argv) and removes leftover cgroups and the temp dir.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="err: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=berr$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/berr.XXXXXX)
STATE_DIR='' SHARED_MODE='' START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""

# profile ERRNO: mkdir fails with ERRNO, everything else is allowed
profile() {
  cat > "$D/profile.json" <<J
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": [ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" ],
  "syscalls": [ { "names": [ "mkdir", "mkdirat" ], "action": "SCMP_ACT_ERRNO", "errnoRet": $1 } ]
}
J
}
# refused NAME TEXT: not running, its last error contains TEXT
refused() { ! state_is "$1" running && jget "$1" error | grep -qF "$2"; }

env_new digest
profile 1 # EPERM
container "$P-s" 'autostart = false' "seccomp = \"$D/profile.json\"" \
  'command = { "/bin/sh", "-c", "mkdir /m 2>/shared/err; echo rc=$? > /shared/rc; while :; do sleep 1; done" }' \
  "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }"
daemon_start
check "berthd runs with the container's profile validated" daemon_up

profile 13 # EACCES: edited after the load
ctl start "$P-s" >/dev/null 2>&1
check "a start after the profile was edited fails before the next reload" \
  wait_until 30 refused "$P-s" "container '$P-s': seccomp: $D/profile.json changed since the definitions were loaded"
check "nothing of the refused start runs" eval '[ -z "$(jget "$P-s" pid | grep -v "^0$")" ] && [ ! -e "$D/shared/rc" ]'

# The reload restarts it: the profile's content is part of the definition.
ctl reload >/dev/null 2>&1
ctl start "$P-s" >/dev/null 2>&1
check "after a reload the container starts" wait_until 30 state_is "$P-s" running
check "and the edited profile confines it: mkdir fails with EACCES ($(oneline "$(cat "$D/shared/err" 2>/dev/null)"))" \
  wait_until 20 eval 'grep -qx "rc=1" "$D/shared/rc" 2>/dev/null && grep -q "Permission denied" "$D/shared/err"'
ctl stop "$P-s" >/dev/null 2>&1
check "it stops" wait_until 30 state_is "$P-s" stopped

daemon_stop
daemon_finish ""
exit $fail
