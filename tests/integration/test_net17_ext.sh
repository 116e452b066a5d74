#!/bin/bash
# Networks berth does not own (issue 17), through a private berthd: a host
# bridge the operator made (network.bridge naming no declared network, with
# address A.B.C.D/N and gateway, or dhcp), macvlan and ipvlan children of a
# host interface. Checked from inside (address, route, MAC, link kind, ping
# between containers and to the host bridge) and on the host (the veth on
# the operator's bridge; the bridge and its address untouched by stops and
# by berthd's shutdown). Bad definitions are FILE:LINE errors of check; a
# missing parent interface fails the start with its name, nothing else.
# This test makes its own bridge n17b<pid> and parents on the host: the
# host ends of veth pairs n17m<pid>/n17M<pid> and n17i<pid>/n17I<pid> (a
# kernel without the dummy driver has veths); addresses 198.19.X.0/24 and
# 198.19.Y.0/24. ipvlan is checked where the kernel has it.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 ext: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17x$$
HB=n17b$$ DM=n17m$$ DI=n17i$$ DG=n17g$$
HB=${HB:0:12} DM=${DM:0:12} DI=${DI:0:12} DG=${DG:0:12}
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17x.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { for l in "$HB" "$DM" "$DI" "$DG"; do ip link del "$l" 2>/dev/null; done; }
trap daemon_cleanup EXIT
daemon_require ""

free_oct() {
  local o=$1 i
  for ((i = 0; i < 200; i++)); do
    ip -4 addr | grep -q " 198\.19\.$o\." || ip -4 route | grep -q "^198\.19\.$o\." || { echo "$o"; return; }
    o=$(((o + 1) % 200 + 20))
  done
}
o1=$(free_oct $(($$ % 200 + 20)))
ip link add "$HB" type bridge && ip addr add "198.19.$o1.1/24" dev "$HB" && ip link set "$HB" up
o2=$(free_oct $(((o1 + 7) % 200 + 20)))
s1=198.19.$o1 s2=198.19.$o2
for l in "$DM" "$DI" "$DG"; do
  ip link add "$l" type veth peer name "${l^^}" && ip link set "$l" up && ip link set "${l^^}" up
done
# ipvlan: a module some kernels lack (this test's own probe link).
HAVE_IPVLAN=1
if ip link add "$P-iv" link "$DI" type ipvlan mode l2 2>/dev/null; then ip link del "$P-iv"; else HAVE_IPVLAN=; fi

env_new a
SLEEP='command = { "/bin/sleep", "100000" }'
container "$P-hb" "$SLEEP" 'autostart = true' "network { bridge = \"$HB\" address = \"$s1.10/24\" gateway = \"$s1.1\" }"
container "$P-dh" "$SLEEP" 'autostart = true' "network { bridge = \"$HB\" address = \"dhcp\" }"
container "$P-m1" "$SLEEP" 'autostart = true' "network { mode = \"macvlan\" parent = \"$DM\" address = \"$s2.11/24\" }"
container "$P-m2" "$SLEEP" 'autostart = true' "network { mode = \"macvlan\" parent = \"$DM\" address = \"$s2.12/24\" gateway = \"$s2.1\" }"
IV=false; [ -n "$HAVE_IPVLAN" ] && IV=true
container "$P-i1" "$SLEEP" "autostart = $IV" "network { mode = \"ipvlan\" parent = \"$DI\" address = \"$s2.21/24\" }"
container "$P-i2" "$SLEEP" "autostart = $IV" "network { mode = \"ipvlan\" parent = \"$DI\" address = \"$s2.22/24\" }"
# A parent that is there at check and gone before the start.
container "$P-np" "$SLEEP" 'autostart = false' "network { mode = \"macvlan\" parent = \"$DG\" address = \"$s2.31/24\" }"
out=$(ctl check -c "$D/conf" 2>&1); rc=$?
check "check accepts the definitions (rc $rc: $(oneline "$out"))" test "$rc" = 0
daemon_start
running() { [ "$(jget "$1" state)" = running ]; }
inside() { local n=$1; shift; ctl exec "$n" -- "$@" 2>&1; }
nsx() { nsenter -t "$(pid_of "$1")" -n "${@:2}" 2>&1; }

settled() { local st; st=$(jget "$1" state); [ "$st" = running ] || [ "$st" = failed ]; }
names="hb dh m1 m2"; [ -n "$HAVE_IPVLAN" ] && names="$names i1 i2"
for n in $names; do
  wait_until 60 settled "$P-$n"
  running "$P-$n" || nok "$P-$n did not start: $(oneline "$(grep "$P-$n" "$D/berthd.log" | tail -n 3)")"
done
if running "$P-hb"; then
  check "host bridge: eth0 has the static address" eval "inside $P-hb ip -4 addr show eth0 | grep -q 'inet $s1.10/24'"
  check "host bridge: the default route is the definition's gateway" \
    eval "inside $P-hb ip route | grep -q 'default via $s1.1'"
  check "host bridge: the container reaches the host bridge's own address" \
    eval "inside $P-hb ping -c1 -W2 $s1.1 | grep -q '1 packets received'"
  check "host bridge: its veth is on the operator's bridge" eval "ip -o link show master $HB | grep -q 'vb-\\|vx'"
  check "host bridge: the operator's bridge got no berth alias" \
    eval "[ -z \"\$(cat /sys/class/net/$HB/ifalias 2>/dev/null)\" ]"
  rc=$(inside "$P-hb" cat /etc/resolv.conf)
  check "host bridge: no name server is berth's gateway forwarder" eval "! printf '%s' \"\$rc\" | grep -q 'nameserver $s1.1'"
fi
if running "$P-dh"; then
  a=$(nsx "$P-dh" ip -4 -o addr show dev eth0)
  check "dhcp: eth0 is up with no address (the container's own client asks)" \
    eval "nsx $P-dh ip -o link show eth0 | grep -q ',UP' && [ -z '$a' ]"
  check "dhcp: eth0 has a stable locally administered MAC (02:63:...)" \
    eval "nsx $P-dh ip -o link show eth0 | grep -q 'link/ether 02:63:'"
fi
if running "$P-m1" && running "$P-m2"; then
  check "macvlan: eth0 is a macvlan child in bridge mode" \
    eval "nsx $P-m1 ip -d -o link show eth0 | grep -q 'macvlan mode bridge'"
  check "macvlan: eth0 has the static address" eval "inside $P-m1 ip -4 addr show eth0 | grep -q 'inet $s2.11/24'"
  check "macvlan: two children of one parent reach each other" \
    eval "inside $P-m1 ping -c1 -W2 $s2.12 | grep -q '1 packets received'"
  check "macvlan: the gateway's default route" eval "inside $P-m2 ip route | grep -q 'default via $s2.1'"
  check "macvlan: no default route without a gateway" eval "! inside $P-m1 ip route | grep -q default"
  check "macvlan: nothing of it is on the host but the parent" \
    eval "[ \"\$(ip -o link show | grep '@$DM:' | grep -vc '${DM^^}@')\" = 0 ]"
fi
if [ -z "$HAVE_IPVLAN" ]; then
  ok "ipvlan: two children of one parent reach each other # skip this kernel has no ipvlan"
elif running "$P-i1" && running "$P-i2"; then
  check "ipvlan: eth0 is an ipvlan child in l2 mode" eval "nsx $P-i1 ip -d -o link show eth0 | grep -q 'ipvlan.*mode l2'"
  check "ipvlan: two children of one parent reach each other" \
    eval "inside $P-i1 ping -c1 -W2 $s2.22 | grep -q '1 packets received'"
fi
ip link del "$DG"
ctl start "$P-np" >/dev/null 2>&1
wait_until 20 eval "grep -q \"$P-np.*parent interface '$DG' does not exist\" '$D/berthd.log'"
check "a parent interface gone since the check fails the start, naming it" \
  grep -q "$P-np.*parent interface '$DG' does not exist" "$D/berthd.log"
check "the others keep running" running "$P-m1"
ctl stop "$P-hb" >/dev/null 2>&1
wait_until 30 eval "! running '$P-hb'"
check "a stop takes its veth off the operator's bridge" \
  eval "! ip -o link show master $HB | grep -q 'berth-veth:$P-hb@'"
daemon_stop
check "the operator's bridge survives berthd's shutdown, with its address" \
  eval "ip -4 -o addr show dev $HB | grep -q 'inet $s1.1/24'"

# Bad definitions: FILE:LINE errors of check.
env_new bad
bad() { # bad NAME NETWORK-BLOCK EXPECTED-TEXT
  rm -f "$D"/conf/"$P"-*.conf
  container "$P-$1" "$SLEEP" "$2"
  out=$(ctl check -c "$D/conf" 2>&1); rc=$?
  check "check refuses $1 with FILE:LINE ($(oneline "$out"))" \
    eval "[ $rc != 0 ] && printf '%s' \"\$out\" | grep -q '$P-$1.conf:[0-9]*:.*$3'"
}
bad noparent 'network { mode = "macvlan" address = "198.19.1.5/24" }' "needs parent"
bad badparent 'network { mode = "ipvlan" parent = "eth0/x" address = "198.19.1.5/24" }' "not an interface name"
bad autovlan 'network { mode = "macvlan" parent = "lo" address = "auto" }' "needs A.B.C.D/N or dhcp"
bad noaddr 'network { mode = "macvlan" parent = "lo" }' "needs address"
bad undeclared "network { bridge = \"$HB\" }" "not declared by any file"
bad gwout "network { bridge = \"$HB\" address = \"198.19.1.5/24\" gateway = \"198.19.2.1\" }" "is outside"
bad gwnoprefix "network { bridge = \"$HB\" address = \"dhcp\" gateway = \"198.19.2.1\" }" "needs address"
bad pubext "network { bridge = \"$HB\" address = \"198.19.1.5/24\" publish = { \"8080:80\" } }" "only on a network berth manages"
bad parentbridge 'network { bridge = "x" parent = "lo" }' "only for mode"
# What the host has (check and reload look; a start refuses the same).
bad nobridge "network { bridge = \"n17none$$\" address = \"198.19.1.5/24\" }" "host interface .n17none$$. does not exist on this host"
bad notbridge "network { bridge = \"$DM\" address = \"198.19.1.5/24\" }" "host interface .$DM. exists but is not a bridge"
bad noparentlink "network { mode = \"macvlan\" parent = \"n17none$$\" address = \"198.19.1.5/24\" }" "host interface .n17none$$. does not exist on this host"
bad prefix "network { mode = \"macvlan\" parent = \"lo\" address = \"198.19.1.5/33\" }" "prefix is not 1 to 32"
cat >"$D/conf/net.conf" <<EOF2
network n17own$$ {
    subnet = "198.19.1.0/24"
}
EOF2
bad dhcpown "network { bridge = \"n17own$$\" address = \"dhcp\" }" "dhcp is not used"
bad gwown "network { bridge = \"n17own$$\" gateway = \"198.19.1.1\" }" "its gateway is the network"
daemon_finish ""
exit $fail
