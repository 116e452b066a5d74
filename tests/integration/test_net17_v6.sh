#!/bin/bash
# Dual-stack networks (issue 17, subnet6): a private berthd runs inside a
# network namespace this test makes (IPv6 documentation addresses only
# inside namespaces a test made), with a network 198.19.X.0/24 +
# 2001:db8:X::/64. Checked: the bridge has 2001:db8:X::1 beside the IPv4
# gateway; each container's eth0 has the IPv6 address with its IPv4 host
# number and a default IPv6 route via ::1; containers reach each other and
# the gateway over IPv6 at once (no DAD wait); inspect shows address6; the
# address is the same after a restart. Bad subnet6 values are FILE:LINE
# errors (unit: test_config).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 v6: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17v$$
BR=n17w$$
BR=${BR:0:12}
NS=b17v6$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17v.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip netns del "$NS" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""
ip netns add "$NS" && ip -n "$NS" link set lo up
x=$(($$ % 200 + 20))
hex=$(printf '%x' "$x")
sub=198.19.$x sub6=2001:db8:$hex

env_new a
cat >"$D/conf/net.conf" <<EOF2
network $BR {
    subnet  = "$sub.0/24"
    subnet6 = "$sub6::/64"
}
EOF2
container "$P-a" 'autostart = true' 'command = { "/bin/sleep", "100000" }' "network { bridge = \"$BR\" address = \"$sub.10\" }"
container "$P-b" 'autostart = true' 'command = { "/bin/sleep", "100000" }' "network { bridge = \"$BR\" address = \"$sub.11\" }"
# berthd in the namespace: its own net namespace, and a mount namespace
# whose /sys is that namespace's sysfs (bridge ports' knobs) with the
# host's cgroup hierarchies moved back in (ip netns exec would hide them).
cat >"$ROOT/in-ns.sh" <<'EOF2'
#!/bin/sh
set -e
keep=$(mktemp -d /tmp/bnet17v-cg.XXXXXX)
mount --rbind /sys/fs/cgroup "$keep"
mount -t sysfs sysfs /sys
mount --move "$keep" /sys/fs/cgroup
rmdir "$keep"
exec "$@"
EOF2
chmod +x "$ROOT/in-ns.sh"
daemon_start nsenter --net=/run/netns/"$NS" unshare -m --propagation private "$ROOT/in-ns.sh"
running() { [ "$(jget "$1" state)" = running ]; }
inside() { local n=$1; shift; ctl exec "$n" -- "$@" 2>&1; }
if ! wait_until 60 running "$P-a" || ! wait_until 60 running "$P-b"; then
  nok "the containers did not start: $(oneline "$(tail -n 5 "$D/berthd.log")")"
else
  check "the bridge has the prefix's first address" \
    eval "ip -n $NS -6 -o addr show dev $BR | grep -q 'inet6 $sub6::1/64'"
  check "the bridge keeps its IPv4 gateway" eval "ip -n $NS -4 -o addr show dev $BR | grep -q 'inet $sub.1/24'"
  check "eth0 has the IPv6 address with the IPv4 host number (::a)" \
    eval "inside $P-a ip -6 addr show eth0 | grep -q 'inet6 $sub6::a/64'"
  check "the default IPv6 route is via ::1" eval "inside $P-a ip -6 route | grep -q 'default via $sub6::1'"
  check "a reaches b over IPv6 at once" eval "inside $P-a ping -6 -c1 -W2 $sub6::b | grep -q '1 packets received'"
  check "a reaches the gateway over IPv6" eval "inside $P-a ping -6 -c1 -W2 $sub6::1 | grep -q '1 packets received'"
  check "a still reaches b over IPv4" eval "inside $P-a ping -c1 -W2 $sub.11 | grep -q '1 packets received'"
  check "inspect shows address6" eval "[ \"\$(jget $P-b address6)\" = '$sub6::b' ]"
  ctl restart "$P-b" >/dev/null 2>&1
  wait_until 60 running "$P-b"
  check "after a restart b has the same IPv6 address" \
    eval "inside $P-b ip -6 addr show eth0 | grep -q 'inet6 $sub6::b/64'"
  check "and is reachable again" eval "inside $P-a ping -6 -c1 -W2 $sub6::b | grep -q '1 packets received'"
  check "nothing of it is in the host's namespace" eval "! ip -6 -o addr | grep -q '$sub6:'"
fi
daemon_stop
check "berthd's shutdown removes its bridge in the namespace" eval "! ip -n $NS link show $BR >/dev/null 2>&1"
daemon_finish ""
exit $fail
