#!/bin/bash
# berthd started with relative directories (-c conf --state-dir state
# --run-dir run from the directory that holds them), as an operator trying
# it by hand does: it names them absolutely, its container starts and runs
# (the monitor and the spawner, which start elsewhere, used to get the
# relative paths and lose the container: "no valid parameters"), exec
# reaches it, and a stop and the shutdown work.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="relative dirs: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=brel$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/brel.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""
running() { [ "$(jget "$1" state)" = running ]; }
env_new a
container "$P-a" 'autostart = true' 'command = { "/bin/sleep", "100000" }' 'network { mode = "none" }'
( cd "$D" && exec "$BERTHD" -c conf --state-dir state --run-dir run ) >>"$D/berthd.log" 2>&1 &
DPID=$!
DPIDS+=("$DPID")
wait_until "$START_TIMEOUT" daemon_up
check "berthd names its directories absolutely" grep -q "definitions in $D/conf, state in $D/state, control socket in $D/run" "$D/berthd.log"
check "the container starts and runs" wait_until 60 running "$P-a"
check "exec reaches it (its hostname is the container's)" test "$(ctl exec "$P-a" -- hostname 2>/dev/null)" = "$P-a"
check "no monitor lost it" bash -c "! grep -q 'monitor lost\|no valid parameters' '$D/berthd.log'"
ctl stop "$P-a" >/dev/null 2>&1
check "stop works" test "$(jget "$P-a" state)" = stopped
daemon_stop
daemon_finish ""
exit $fail
