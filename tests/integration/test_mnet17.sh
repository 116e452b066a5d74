#!/bin/bash
# Several networks per container (issue 17), through a private berthd: a
# container on two berth networks (network { bridge = A } is eth0,
# network B { } is eth1) reaches a peer on each, has both IPAM addresses,
# its default route via eth0, and its names on both networks; kill -9 of
# berthd and a restart re-adopt it with both veths; deleting B's bridge
# heals both attachments; a deleted extra veth is made again; stop removes
# every veth; the plan names a change of the set of networks. Also
# mode = "none" (only lo) and mode = "host" (the host's interfaces, no veth),
# and the bad inputs check refuses. Bridges mn17a/mn17b, subnets 198.18.X.0/24.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="mnet17: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=mnet17
BA=mn17a
BB=mn17b
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/mnet17.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip link del "$BA" 2>/dev/null; ip link del "$BB" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""
cleanup_extra

# Two free /24s of 198.18.0.0/15.
free_24s 198.18 2 120 100 || { echo "not ok no two free /24s in 198.18.120-219"; exit 1; }
oct=$FREE24
SA=198.18.$oct SB=198.18.$((oct + 1))

env_new a
cat >"$D/conf/net.conf" <<EOF2
network $BA {
    subnet = "$SA.0/24"
    nat    = false
}
network $BB {
    subnet = "$SB.0/24"
    nat    = false
}
EOF2
SLEEP='command = { "/bin/sleep", "100000" }'
container "$P-multi" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" }" "network $BB { }"
container "$P-pa" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" address = \"$SA.10\" }"
container "$P-pb" 'autostart = true' "$SLEEP" "network { bridge = \"$BB\" address = \"$SB.11\" }"
container "$P-none" 'autostart = true' "$SLEEP" 'network { mode = "none" }'
container "$P-host" 'autostart = true' "$SLEEP" 'network { mode = "host" }'
daemon_start

running() { [ "$(jget "$1" state)" = running ]; }
cx() { ctl exec "$1" -- "${@:2}" 2>/dev/null; }
pings() { cx "$1" ping -c 1 -W 2 "$2" >/dev/null; }
# The address of a container's interface inside it.
ifaddr() { cx "$1" ip -4 -o addr show "$2" | awk '{ print $4 }' | cut -d/ -f1; }
# The interfaces inspect lists: "IF NETWORK ADDRESS VETH" lines.
ifaces() {
  inspect "$1" | "$PY" -c 'import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    print(i["interface"], i["network"], i["address"], i["host_veth"] or "-")'
}
veths_of() { # host veths whose alias is the container's (eth0's and extra ones)
  local l
  for l in /sys/class/net/*; do
    case "$(cat "$l/ifalias" 2>/dev/null)" in "berth-veth:$1@"* | "berth-veth:$1/"*) basename "$l" ;; esac
  done
}
on_bridge() { [ "$(cat "/sys/class/net/$1/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$2/ifindex" 2>/dev/null)" ]; }

if ! wait_until 60 running "$P-multi" || ! wait_until 30 running "$P-pa" || ! wait_until 30 running "$P-pb"; then
  nok "the containers did not start"
  note "$(tail -n 20 "$D/berthd.log")"
else
  A0=$(ifaddr "$P-multi" eth0) A1=$(ifaddr "$P-multi" eth1)
  check "eth0 has an address of $BA ($A0)" eval "[[ '$A0' == $SA.* ]]"
  check "eth1 has an address of $BB ($A1)" eval "[[ '$A1' == $SB.* ]]"
  check "the addresses are the ones IPAM recorded" eval "grep -qx '$P-multi $A0' '$D/state/networks/$BA.ipam' &&
    grep -qx '$P-multi $A1' '$D/state/networks/$BB.ipam'"
  mac=$(cx "$P-multi" cat /sys/class/net/eth1/address)
  check "eth1's MAC derives from its address ($mac)" eval "[ '$mac' = \"\$(printf '02:62:%02x:%02x:%02x:%02x' \$(echo '$A1' | tr . ' '))\" ]"
  # shellcheck disable=SC2034 # read by the eval strings below
  routes=$(cx "$P-multi" ip -4 route)
  check "the default route is via eth0 (the gateway of $BA)" eval "printf '%s\n' \"\$routes\" | grep -q '^default via $SA.1 dev eth0'"
  check "no default route via eth1, only its subnet" eval "! printf '%s\n' \"\$routes\" | grep -q 'default.*eth1' &&
    printf '%s\n' \"\$routes\" | grep -q '^$SB.0/24 dev eth1'"
  check "it pings the peer on $BA (eth0)" wait_until 5 pings "$P-multi" "$SA.10"
  check "it pings the peer on $BB (eth1)" wait_until 5 pings "$P-multi" "$SB.11"
  check "the peer on $BB pings it at its $BB address" pings "$P-pb" "$A1"
  check "the peer on $BA pings it at its $BA address" pings "$P-pa" "$A0"
  check "the peer on $BB resolves NAME to its $BB address" eval "cx '$P-pb' ping -c 1 -W 2 '$P-multi' | grep -q '($A1)'"
  check "the peer on $BB resolves NAME.$BB" eval "cx '$P-pb' ping -c 1 -W 2 '$P-multi.$BB' | grep -q '($A1)'"
  check "the peer on $BA resolves NAME to its $BA address" eval "cx '$P-pa' ping -c 1 -W 2 '$P-multi.$BA' | grep -q '($A0)'"
  check "it resolves the peer of its primary network" eval "cx '$P-multi' ping -c 1 -W 2 '$P-pa' | grep -q '($SA.10)'"
  IF=$(ifaces "$P-multi")
  check "inspect lists eth0 on $BA and eth1 on $BB with their addresses" \
    eval "printf '%s\n' \"\$IF\" | grep -q '^eth0 $BA $A0 vb-' && printf '%s\n' \"\$IF\" | grep -q '^eth1 $BB $A1 vn'"
  V1=$(printf '%s\n' "$IF" | awk '$1 == "eth1" { print $4 }')
  V0=$(printf '%s\n' "$IF" | awk '$1 == "eth0" { print $4 }')
  check "the extra veth $V1 is on $BB's bridge" on_bridge "$V1" "$BB"
  check "its alias names the container and the network" \
    eval "[[ \"\$(cat /sys/class/net/$V1/ifalias)\" == 'berth-veth:$P-multi/$BB@'???????????????? ]]"

  # kill -9 berthd, start it again: re-adopted, both veths as they were.
  pid=$(jget "$P-multi" pid)
  daemon_kill9
  daemon_start
  check "after kill -9 and a restart of berthd it is re-adopted with the same pid" \
    eval "wait_until 20 running '$P-multi' && [ \"\$(jget '$P-multi' pid)\" = '$pid' ]"
  check "both veths are still there, each on its bridge" eval "on_bridge '$V0' '$BA' && on_bridge '$V1' '$BB'"
  check "it still pings both peers" eval "pings '$P-multi' '$SA.10' && pings '$P-multi' '$SB.11'"

  # The bridge of the extra network deleted: made again, both its members back.
  VB=$(ifaces "$P-pb" | awk '$1 == "eth0" { print $4 }')
  ip link del "$BB"
  check "$BB's bridge is back within 3 s with the extra veth and the peer's on it" \
    wait_until 3 eval "on_bridge '$V1' '$BB' && on_bridge '$VB' '$BB'"
  check "berthd logs 2 containers re-attached" wait_until 3 grep -q "network '$BB': bridge '$BB' was deleted by someone else: made again, 2 containers re-attached" "$D/berthd.log"
  check "traffic on $BB resumes" wait_until 5 pings "$P-multi" "$SB.11"
  # The extra veth itself deleted (eth1 with it): made again, same address.
  ip link del "$V1"
  check "the extra veth is made again within 3 s" wait_until 3 on_bridge "$V1" "$BB"
  check "eth1 has its address again" wait_until 3 eval "[ \"\$(ifaddr '$P-multi' eth1)\" = '$A1' ]"
  check "traffic on eth1 resumes" wait_until 5 pings "$P-multi" "$SB.11"
  check "eth0 was left alone" on_bridge "$V0" "$BA"

  # The plan names a change of the set of networks as a restart.
  cp "$D/conf/$P-multi.conf" "$ROOT/multi.conf.bak"
  sed -i "/network $BB/d" "$D/conf/$P-multi.conf"
  plan=$(ctl plan 2>&1)
  check "the plan restarts it for the networks it leaves" eval "printf '%s\n' \"\$plan\" | grep '$P-multi' | grep -q 'restart.*networks $BB → none'"
  [ -n "${VERBOSE:-}" ] && note "$plan"
  cp "$ROOT/multi.conf.bak" "$D/conf/$P-multi.conf"

  # Stop: no veth of it is left, its names leave both hosts files.
  ctl stop "$P-multi" >/dev/null 2>&1
  wait_until 30 eval "! running '$P-multi'"
  check "stop removes every veth of it" wait_until 3 eval "[ -z \"\$(veths_of '$P-multi')\" ]"
  check "its lines leave both hosts files" eval "! grep -q '$P-multi' '$D/state/networks/$BA.hosts' && ! grep -q '$P-multi' '$D/state/networks/$BB.hosts'"
  check "its addresses stay recorded (sticky)" grep -qx "$P-multi $A1" "$D/state/networks/$BB.ipam"
  ctl start "$P-multi" >/dev/null 2>&1
  check "started again, it gets the same eth1 address" wait_until 20 eval "[ \"\$(ifaddr '$P-multi' eth1)\" = '$A1' ]"
fi

# mode = "none": only lo. mode = "host": the host's interfaces, no veth.
if wait_until 30 running "$P-none"; then
  links=$(cx "$P-none" ip -o link | awk -F': ' '{ print $2 }' | tr '\n' ' ')
  check "mode none: only lo inside ($links)" test "$links" = "lo "
else
  nok "mode none: the container did not start"
fi
if wait_until 30 running "$P-host"; then
  inside=$(cx "$P-host" cat /proc/net/dev | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | sort | tr '\n' ' ')
  host=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort | tr '\n' ' ')
  check "mode host: it sees the host's interfaces" test "$inside" = "$host"
  check "mode host: same network namespace as the host" \
    test "$(readlink "/proc/$(jget "$P-host" pid)/ns/net")" = "$(readlink /proc/$$/ns/net)"
  check "mode host: no veth made for it" test -z "$(veths_of "$P-host")"
else
  nok "mode host: the container did not start"
fi
daemon_stop
check "no veth of the test's containers is left after berthd's stop" \
  eval "[ -z \"\$(veths_of '$P-multi')\$(veths_of '$P-pa')\$(veths_of '$P-pb')\" ]"

# Bad input: each a FILE:LINE error at check.
B=$ROOT/bad
mkdir -p "$B"
cat >"$B/nets.conf" <<EOF2
network $BA { subnet = "$SA.0/24" }
network $BB { subnet = "$SB.0/24" }
EOF2
bad() { # bad NAME EXPECTED LINES...: a definition whose check names line 3 with EXPECTED
  local n=$1 want=$2; shift 2
  { echo "container $n {"; echo '  template = "busybox"'; printf '  %s\n' "$@"; echo "}"; } >"$B/$n.conf"
  local out
  out=$(timeout 30 "$CTL" check -c "$B" --state-dir "$ROOT/bstate" --socket "$ROOT/no.sock" 2>&1)
  rm -f "$B/$n.conf"
  if printf '%s\n' "$out" | grep -qF "$B/$n.conf:$want"; then ok "check refuses: ${want#*: }"; else
    nok "check does not say '$B/$n.conf:$want'"; note "$(oneline "$out")"; fi
}
bad x1 "4: network 'nosuch': not declared by any file" "network { bridge = \"$BA\" }" 'network nosuch { }'
bad x2 "4: network '$BA': the container is on it already" "network { bridge = \"$BA\" }" "network $BA { }"
bad x3 "5: network '$BB': the container is on it already" "network { bridge = \"$BA\" }" "network $BB { }" "network $BB { }"
bad x4 "4: network '$BB'.address: $SA.9 is outside network '$BB' ($SB.0/24)" "network { bridge = \"$BA\" }" \
  "network $BB { address = \"$SA.9\" }"
bad x5 "8: network.address: $SB.11 is already used by container 'x5' ($B/x5.conf:4)" "network { bridge = \"$BA\" }" \
  "network $BB { address = \"$SB.11\" }
}
container x5b {
  template = \"busybox\"
  network { bridge = \"$BB\" address = \"$SB.11\" }"
bad x6 "4: network '$BB': an extra network needs the container on a berth network (network { bridge = NETWORK }), not mode 'host'" \
  'network { mode = "host" }' "network $BB { }"
bad x7 "4: network '$BB': an extra network needs the container on a berth network (network { bridge = NETWORK }), not mode 'none'" \
  'network { mode = "none" }' "network $BB { }"
bad x8 "4: network '$BB': an extra network needs the container on a berth network (network { bridge = NETWORK }), not mode 'macvlan'" \
  'network { mode = "macvlan" parent = "eth0" address = "198.18.9.2/24" }' "network $BB { }"
bad x9 "4: unknown key 'bridge' in network '$BB' (only address and mode)" "network { bridge = \"$BA\" }" "network $BB { bridge = \"x\" }"
bad x10 "4: network '$BB'.address: 'nope' is not an IPv4 address (or auto)" "network { bridge = \"$BA\" }" \
  "network $BB { address = \"nope\" }"
many=()
for i in 1 2 3 4 5 6 7 8 9; do
  many+=("network n$i { }")
  printf 'network n%s { subnet = "198.19.%s.0/24" }\n' "$i" "$((200 + i))" >>"$B/nets.conf"
done
bad x11 "12: network 'n9': more than 8 extra networks" "network { bridge = \"$BA\" }" "${many[@]}"
bad x12 "4: network '$BB': extra networks only beside a network berth manages ('br9' is a host bridge)" \
  'network { bridge = "br9" address = "198.18.9.2/24" }' "network $BB { }"
daemon_finish ""
exit $fail
