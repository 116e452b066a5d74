#!/bin/bash
# Published ports over IPv6 and NAT66 (issue 17): a private berthd runs
# inside a network namespace this test makes (the "host"; IPv6
# documentation addresses only inside namespaces a test made), with a
# dual-stack network 198.19.X.0/24 + 2001:db8:X::/64 and an uplink
# 2001:db8:X:ff::/64 to a second namespace (the "other host", which has no
# route to the containers' prefix). A busybox httpd published on a wildcard
# port answers over IPv6 on the host's own addresses (from the host itself
# and from the other host) and through the host from another container
# (hairpin); "[V6]:H:C" answers only on that address; IPv4 publishing still
# works beside it; net.ipv6.conf.all.forwarding is on in the host namespace;
# nat6 = true (applied live by a reload) lets a container reach the other
# host, which it cannot without it. Bad values are FILE:LINE errors
# (unit: test_config, test_nat, test_hostports).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 v6 publish: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17q$$
BR=n17y$$
BR=${BR:0:12}
NS=b17q$$
NSC=b17c$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17q.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip netns del "$NSC" 2>/dev/null; ip netns del "$NS" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""
ip netns add "$NS" && ip -n "$NS" link set lo up
ip netns add "$NSC" && ip -n "$NSC" link set lo up
x=$(($$ % 200 + 20))
hex=$(printf '%x' "$x")
sub=198.19.$x sub6=2001:db8:$hex up6=2001:db8:$hex:ff
WPORT=$((20000 + $$ % 5000)) LPORT=$((WPORT + 1))
# the uplink: the host's up0 $up6::1, the other host's eth0 $up6::2, on-link only
ip -n "$NS" link add up0 type veth peer name eth0 netns "$NSC"
ip -n "$NS" addr add "$up6::1/64" dev up0 nodad && ip -n "$NS" link set up0 up
ip -n "$NSC" addr add "$up6::2/64" dev eth0 nodad && ip -n "$NSC" link set eth0 up

env_new a
netconf() {
  cat >"$D/conf/net.conf" <<EOF2
network $BR {
    subnet  = "$sub.0/24"
    subnet6 = "$sub6::/64"
    nat6    = $1
}
EOF2
}
netconf false
container "$P-web" 'autostart = true' \
  'command = { "/bin/sh", "-c", "echo hello-v6 > /tmp/index.html; exec httpd -f -p 80 -h /tmp" }' \
  "network { bridge = \"$BR\" address = \"$sub.10\" publish = { \"$WPORT:80\", \"[$up6::1]:$LPORT:80\" } }"
container "$P-cli" 'autostart = true' 'command = { "/bin/sleep", "100000" }' \
  "network { bridge = \"$BR\" address = \"$sub.11\" }"
cat >"$ROOT/in-ns.sh" <<'EOF2'
#!/bin/sh
set -e
keep=$(mktemp -d /tmp/bnet17q-cg.XXXXXX)
mount --rbind /sys/fs/cgroup "$keep"
mount -t sysfs sysfs /sys
mount --move "$keep" /sys/fs/cgroup
rmdir "$keep"
exec "$@"
EOF2
chmod +x "$ROOT/in-ns.sh"
daemon_start nsenter --net=/run/netns/"$NS" unshare -m --propagation private "$ROOT/in-ns.sh"
running() { [ "$(jget "$1" state)" = running ]; }
# get NETNS HOST PORT: the page over plain HTTP with busybox nc
get() {
  printf 'GET /index.html HTTP/1.0\r\n\r\n' | ip netns exec "$1" timeout 5 busybox nc -w 2 "$2" "$3" 2>/dev/null | tail -n1
}
got() { [ "$(get "$@")" = hello-v6 ]; }
cget() { ctl exec "$1" -- sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 2 $2 $3" 2>/dev/null | tail -n1; }
cgot() { [ "$(cget "$@")" = hello-v6 ]; }
ping6_other() { ctl exec "$P-cli" -- ping -6 -c1 -W2 "$up6::2" 2>&1 | grep -q '1 packets received'; }

if ! wait_until 60 running "$P-web" || ! wait_until 60 running "$P-cli"; then
  nok "the containers did not start: $(oneline "$(tail -n 5 "$D/berthd.log")")"
else
  wait_until 5 got "$NS" "$sub6::a" 80 >/dev/null
  check "the container serves on its IPv6 address (direct)" got "$NS" "$sub6::a" 80
  check "the host reaches the wildcard publish on its own IPv6 address" wait_until 5 got "$NS" "$up6::1" "$WPORT"
  check "the host reaches it on the bridge's IPv6 address" got "$NS" "$sub6::1" "$WPORT"
  check "the other host reaches the wildcard publish over IPv6" wait_until 5 got "$NSC" "$up6::1" "$WPORT"
  check "the other host reaches [$up6::1]:$LPORT" got "$NSC" "$up6::1" "$LPORT"
  check "a [V6] publish answers only on that address" eval "! got '$NS' '$sub6::1' '$LPORT'"
  check "IPv4 publishing still works beside it (127.0.0.1)" got "$NS" 127.0.0.1 "$WPORT"
  check "another container reaches it through the host's IPv6 address (hairpin)" cgot "$P-cli" "$up6::1" "$WPORT"
  check "net.ipv6.conf.all.forwarding is on in berthd's namespace" \
    eval "[ \"\$(ip netns exec $NS cat /proc/sys/net/ipv6/conf/all/forwarding)\" = 1 ]"
  check "without nat6 a container cannot reach the other host (no route back)" eval "! ping6_other"
  pid=$(jget "$P-cli" pid)
  netconf true
  out=$(ctl reload 2>&1)
  check "a reload turns nat6 on (exit $?)" test $? = 0
  check "with nat6 the container reaches the other host (masqueraded)" wait_until 5 ping6_other
  check "nat6 was applied live (the container kept its pid)" test "$(jget "$P-cli" pid)" = "$pid"
  [ "$fail" = 0 ] || note "reload said: $(oneline "$out")"
  check "nothing of it is in the host's namespace" eval "! ip -6 -o addr | grep -q '$sub6:'"
fi
daemon_stop
daemon_finish ""
exit $fail
