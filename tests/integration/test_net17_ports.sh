#!/bin/bash
# Published ports as a user expects them (issue 17), through a private
# berthd: a busybox httpd published on a wildcard port and on
# 127.0.0.1:PORT answers the host on 127.0.0.1, on the bridge's address and
# on another host address of its own (the host side of a veth), a client in another
# network namespace routed through the host ("another host"), and another
# container and itself through the host (hairpin). A port a host process
# listens on is refused by check and reload, at the publish line, naming
# the process.
# Addresses: 198.19.X.0/24 (bridge), 198.19.Y.0/24 (the other host's link);
# links n17*<pid>; all removed by the EXIT trap.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 ports: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17p$$
BR=n17b$$
BR=${BR:0:12}
NS=n17ns$$
VH=n17h$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17p.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
LPID=
cleanup_extra() {
  [ -z "$LPID" ] || kill "$LPID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  ip link del "$VH" 2>/dev/null
  ip link del "$BR" 2>/dev/null
}
trap daemon_cleanup EXIT
daemon_require ""

free_oct() { # a 198.19.N that no address or route of the host uses
  local o=$1 i
  for ((i = 0; i < 200; i++)); do
    ip -4 addr | grep -q " 198\.19\.$o\." || ip -4 route | grep -q "^198\.19\.$o\." || { echo "$o"; return; }
    o=$(((o + 1) % 200 + 20))
  done
}
sub=198.19.$(free_oct $(($$ % 200 + 20)))
oth=198.19.$(free_oct $((($$ + 97) % 200 + 20)))
[ "$oth" != "$sub" ] || oth=198.19.$(free_oct $((($$ + 151) % 200 + 20)))
WPORT=$((20000 + $$ % 5000)) LPORT=$((WPORT + 1)) HPORT=$((WPORT + 2))

env_new a
cat >"$D/conf/net.conf" <<EOF2
network $BR {
    subnet  = "$sub.0/24"
    gateway = "$sub.1"
    nat     = false
}
EOF2
container "$P-web" 'autostart = true' \
  'command = { "/bin/sh", "-c", "echo hello-net17 > /tmp/index.html; exec httpd -f -p 80 -h /tmp" }' \
  "network { bridge = \"$BR\" address = \"$sub.10\" publish = { \"$WPORT:80/tcp\", \"127.0.0.1:$LPORT:80/tcp\" } }"
container "$P-cli" 'autostart = true' 'command = { "/bin/sleep", "100000" }' \
  "network { bridge = \"$BR\" address = \"$sub.11\" }"
daemon_start
running() { [ "$(jget "$1" state)" = running ]; }
# get HOST PORT [netns]: the page over plain HTTP with busybox nc
get() {
  local pre=()
  [ -z "${3:-}" ] || pre=(ip netns exec "$3")
  printf 'GET /index.html HTTP/1.0\r\n\r\n' | "${pre[@]}" timeout 5 busybox nc -w 2 "$1" "$2" 2>/dev/null | tail -n1
}
got_page() { [ "$(get "$@")" = hello-net17 ]; }
# (busybox's wget crashes in these roots: nc there too)
cget() { ctl exec "$1" -- sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 2 $2 $3" 2>/dev/null | tail -n1; }
cgot_page() { [ "$(cget "$@")" = hello-net17 ]; }

if ! wait_until 60 running "$P-web" || ! wait_until 30 running "$P-cli"; then
  nok "the containers did not start"
else
  wait_until 5 got_page "$sub.10" 80 >/dev/null
  check "the host reaches the published port on 127.0.0.1" wait_until 5 got_page 127.0.0.1 "$WPORT"
  check "the host reaches 127.0.0.1:$LPORT:80 (host-ip form)" got_page 127.0.0.1 "$LPORT"
  check "a host-ip publish answers only on that address" eval "! got_page '$sub.1' '$LPORT'"
  check "the host reaches the published port on the bridge's address" got_page "$sub.1" "$WPORT"
  # another host: a namespace routed through this one, not on the bridge
  ip netns add "$NS"
  ip link add "$VH" type veth peer name eth0 netns "$NS"
  ip addr add "$oth.1/24" dev "$VH" && ip link set "$VH" up
  ip -n "$NS" addr add "$oth.2/24" dev eth0 && ip -n "$NS" link set eth0 up && ip -n "$NS" link set lo up
  ip -n "$NS" route add default via "$oth.1"
  check "the host reaches the published port on another address of its own" got_page "$oth.1" "$WPORT"
  check "another host reaches the published port" wait_until 5 got_page "$oth.1" "$WPORT" "$NS"
  check "another host does not reach a 127.0.0.1 publish" eval "! got_page '$oth.1' '$LPORT' '$NS'"
  check "another container reaches it through the host's address (hairpin)" cgot_page "$P-cli" "$sub.1" "$WPORT"
  check "the container reaches itself through the host's address (hairpin)" cgot_page "$P-web" "$sub.1" "$WPORT"
  check "route_localnet is on for the bridge" eval "[ \"\$(cat /proc/sys/net/ipv4/conf/$BR/route_localnet)\" = 1 ]"
  tbl=$(nft list tables | awk '/inet berth/ {print $3}' | while read -r t; do
    nft list table inet "$t" 2>/dev/null | grep -q "\"$BR\"" && echo "$t"; done | head -n1)
  check "berthd's table drops what arrives on the bridge for 127.0.0.0/8" \
    eval "nft list table inet '$tbl' | grep -q 'iifname \"$BR\" ip daddr 127.0.0.0/8 drop'"

  # A host process listens on HPORT: check refuses a publish of it.
  "$PY" -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$HPORT" &
  LPID=$!
  wait_until 5 eval "ss -Hltn 'sport = :$HPORT' | grep -q LISTEN"
  container "$P-dup" 'command = { "/bin/sleep", "100000" }' \
    "network { bridge = \"$BR\" publish = { \"$HPORT:80\" } }"
  out=$(ctl check 2>&1); rc=$?
  line=$(grep -n publish "$D/conf/$P-dup.conf" | cut -d: -f1)
  check "check refuses a port a host process listens on (exit $rc)" test "$rc" != 0
  check "the error is at FILE:LINE and names the process" \
    eval "printf '%s' \"\$out\" | grep -q \"$D/conf/$P-dup.conf:$line: network.publish: host port $HPORT/tcp is in use on this host: 'python3' (pid $LPID) listens on 0.0.0.0:$HPORT\""
  [ "$fail" = 0 ] || note "check said: $(oneline "$out")"
  out=$(ctl reload 2>&1); rc=$?
  check "reload is refused whole for it (exit $rc)" test "$rc" != 0
  check "the refusal names FILE:LINE and the process" \
    eval "printf '%s' \"\$out\" | grep -q \"$P-dup.conf:$line: network.publish: host port $HPORT/tcp is in use on this host: 'python3'\""
  check "nothing of the refused reload was applied" eval "[ -z \"\$(jget '$P-dup' state)\" ]"
  [ "$fail" = 0 ] || note "reload said: $(oneline "$out")"
  kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=
  out=$(ctl check 2>&1)
  check "with the listener gone, check accepts the publish" test $? = 0
  [ "$fail" = 0 ] || note "check said: $(oneline "$out")"
  rm -f "$D/conf/$P-dup.conf"
fi
daemon_stop
check "berthd's shutdown removes its bridge" eval "! ip link show '$BR' >/dev/null 2>&1"
daemon_finish ""
exit $fail
