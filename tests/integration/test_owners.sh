#!/bin/bash
# Integration test of two berthds on one host (crash-consistency issue,
# finding 7): every bridge carries the identity of the berthd that made it
# (its state directory), and no berthd changes or removes another's. Daemon
# A runs a container on its own network; daemon B, with other directories
# and no network, reloads and shuts down: A's bridge, and the container's
# link on it, are untouched. A network of the same name declared by B is
# refused, not taken over. The container's veth and cgroup carry A's
# identity, and daemon E, declaring a container of A's container's name,
# neither kills nor removes it (start, stop, shutdown).
# Private berthds below one mktemp -d, containers bo<pid>-*, bridge bon<pid>;
# the EXIT trap removes everything (lib.sh's daemon layer).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="owners: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=bo$$
BR=bon$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bowners.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""
running() { [ "$(jget "$1" state)" = running ]; }

oct=$(($$ % 200 + 20))
for ((i = 0; i < 200; i++)); do
  ip -4 addr | grep -q " 198\.19\.$oct\." || ip -4 route | grep -q "^198\.19\.$oct\." || break
  oct=$(((oct + 1) % 200 + 20))
done
sub=198.19.$oct
netconf() {
  cat >"$D/conf/net.conf" <<EOF2
network $BR {
    subnet  = "$sub.0/24"
    gateway = "$sub.1"
    nat     = false
}
EOF2
}

env_new a
netconf
container "$P-a" 'command = { "/bin/sleep", "100000" }' 'autostart = true' "network { bridge = \"$BR\" address = \"$sub.10\" }"
daemon_start
A_PID=$DPID A_D=$D
if ! wait_until 60 running "$P-a"; then
  nok "daemon A's container did not start"
else
  alias_a=$(cat /sys/class/net/"$BR"/ifalias 2>/dev/null)
  check "A's bridge carries A's identity ($alias_a)" eval "[[ '$alias_a' == berth:$BR@???????????????? ]]"
  # daemon B: no network at all; reload, then an orderly stop
  env_new b
  container "$P-b" 'command = { "/bin/sleep", "100000" }' 'autostart = true' 'network { mode = "none" }'
  daemon_start
  ctl reload >/dev/null 2>&1
  check "B's reload leaves A's bridge alone" ip link show "$BR"
  daemon_stop
  check "B's shutdown leaves A's bridge alone" ip link show "$BR"
  check "A's container is still on it" eval "ip link show master '$BR' | grep -q 'vb-'"
  # The container's veth and cgroup carry A's identity too. Daemon E declares
  # a container of the same name: its cgroup would be A's (one base cgroup
  # for both), and E refuses to take it over instead of killing A's
  # container as "a leftover of a crash"; E's shutdown leaves it alone.
  D=$A_D
  pid_a=$(pid_of "$P-a")
  veth_a=$(ip -o link show master "$BR" | awk -F': ' '{print $2}' | cut -d@ -f1 | head -n1)
  check "A's veth carries A's identity" \
    eval "[[ \"\$(cat /sys/class/net/$veth_a/ifalias 2>/dev/null)\" == berth-veth:$P-a@???????????????? ]]"
  cg_a=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid_a/cgroup" 2>/dev/null)
  [ -d "$cg_a" ] || cg_a=/sys/fs/cgroup$(awk -F: '$1 == "0" {print $3}' "/proc/$pid_a/cgroup" 2>/dev/null)
  own_a=$("$PY" -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.berth.owner").decode())' "$cg_a" 2>/dev/null)
  check "A's cgroup carries A's identity ($own_a)" eval "[[ '$own_a' == ???????????????? ]]"
  env_new e
  container "$P-a" 'command = { "/bin/sleep", "100000" }' 'autostart = true' 'network { mode = "none" }'
  daemon_start
  wait_until 30 eval "grep -q 'belongs to another berthd' '$D/berthd.log'"
  check "E is told the cgroup belongs to another berthd's container" grep -q "cgroup .* belongs to another berthd" "$D/berthd.log"
  check "A's container was not killed by E's start" alive "$pid_a"
  check "A still sees it running with the same pid" eval "[ \"\$(D=$A_D pid_of $P-a)\" = '$pid_a' ]"
  ctl stop "$P-a" >/dev/null 2>&1
  daemon_stop
  check "E's stop and shutdown leave A's container alone" alive "$pid_a"
  check "E's shutdown leaves A's veth" ip link show "$veth_a"
  check "E's shutdown leaves A's cgroup" test -d "$cg_a"
  # daemon C declares a network with A's bridge: refused, A's bridge unchanged
  env_new c
  netconf
  container "$P-c" 'command = { "/bin/sleep", "100000" }' 'autostart = true' "network { bridge = \"$BR\" address = \"$sub.11\" }"
  daemon_start
  wait_until 20 eval "grep -q 'belongs to another berthd' '$D/berthd.log'"
  check "C is told the bridge belongs to another berthd" grep -q "belongs to another berthd" "$D/berthd.log"
  check "C did not take it over ($(cat /sys/class/net/"$BR"/ifalias 2>/dev/null))" \
    eval "[ \"\$(cat /sys/class/net/$BR/ifalias)\" = '$alias_a' ]"
  daemon_stop
  check "A's bridge survives C too" ip link show "$BR"
  D=$A_D DPID=$A_PID
  daemon_stop
  check "A removes its own bridge at its shutdown" eval "! ip link show '$BR' >/dev/null 2>&1"
fi
daemon_finish ""
exit $fail
