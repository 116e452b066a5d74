#!/bin/bash
# Names across several networks (issue 17), through a private berthd: a
# container on two berth networks (network { bridge = A } and network B { })
# resolves NAME and NAME.NETWORK of every container on either, including one
# started later, without a restart, and stops resolving one that left; a
# peer on both networks resolves by its bare name to its address on the
# viewer's first network; a container of a third network stays unknown.
# Its /etc/hosts is networks/hosts.d/NAME, rewritten in place (same inode).
# kill -9 of berthd while a peer ends and a restart keep it right. Extra
# interfaces on networks berth does not own: an operator's bridge mn17cx
# (network mn17cx { address = "A.B.C.D/N" }) and a macvlan on the host end
# of a veth pair mn17cm/mn17cM (this kernel has no dummy driver), checked
# from inside and on the host. Bridges mn17c[abcx], subnets 198.19.X.0/24.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="mnet17c: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=mnet17c
BA=mn17ca
BB=mn17cb
BC=mn17cc
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/mnet17c.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
HX=mn17cx VM=mn17cm
cleanup_extra() { local b; for b in "$BA" "$BB" "$BC" "$HX" "$VM"; do ip link del "$b" 2>/dev/null; done; }
trap daemon_cleanup EXIT
daemon_require ""
cleanup_extra

# Three free /24s of 198.18.0.0/15.
free_24s 198.19 3 20 80 || { echo "not ok no three free /24s in 198.19.20-99"; exit 1; }
oct=$FREE24
SA=198.19.$oct SB=198.19.$((oct + 1)) SC=198.19.$((oct + 2))
free_24s 198.19 2 20 80 || { echo "not ok no two more free /24s in 198.19.20-99"; exit 1; }
ox=$FREE24
SX=198.19.$ox SY=198.19.$((ox + 1))
# The operator's bridge (with an address of the host's) and a macvlan parent.
ip link add "$HX" type bridge && ip addr add "$SX.1/24" dev "$HX" && ip link set "$HX" up
ip link add "$VM" type veth peer name "${VM^^}" && ip link set "$VM" up && ip link set "${VM^^}" up

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
network $BC {
    subnet = "$SC.0/24"
    nat    = false
}
EOF2
SLEEP='command = { "/bin/sleep", "100000" }'
# multi: eth0 on A, eth1 on B. multi2: the other way round. both: on B and A.
container "$P-multi" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" }" "network $BB { }"
container "$P-multi2" 'autostart = true' "$SLEEP" "network { bridge = \"$BB\" }" "network $BA { }"
container "$P-both" 'autostart = true' "$SLEEP" 'hostname = "bothhost"' \
  "network { bridge = \"$BB\" address = \"$SB.20\" }" "network $BA { address = \"$SA.20\" }"
container "$P-pa" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" address = \"$SA.10\" }"
container "$P-pb" 'autostart = true' "$SLEEP" "network { bridge = \"$BB\" address = \"$SB.11\" }"
container "$P-pc" 'autostart = true' "$SLEEP" "network { bridge = \"$BC\" address = \"$SC.12\" }"
container "$P-late" 'autostart = false' "$SLEEP" "network { bridge = \"$BB\" address = \"$SB.30\" }"
container "$P-late2" 'autostart = false' "$SLEEP" "network { bridge = \"$BA\" address = \"$SA.31\" }"
container "$P-ext" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" }" \
  "network $HX { address = \"$SX.10/24\" }" "network $VM {
      mode = \"macvlan\"
      address = \"$SY.11/24\"
    }"
container "$P-ext2" 'autostart = true' "$SLEEP" "network { bridge = \"$BA\" address = \"$SA.40\" }" \
  "network $VM { mode = \"macvlan\"  address = \"$SY.12/24\" }" "network $HX { address = \"dhcp\" }"
out=$(ctl check -c "$D/conf" 2>&1); rc=$?
check "check accepts the definitions (rc $rc: $(oneline "$out"))" test "$rc" = 0
daemon_start

running() { [ "$(jget "$1" state)" = running ]; }
# addr_of FROM NAME: the address NAME resolves to inside FROM (ping's
# "PING NAME (ADDRESS)"), empty when it does not resolve.
addr_of() {
  ctl exec "$1" -- ping -c 1 -W 1 "$2" 2>/dev/null | sed -n 's/^PING [^ ]* (\([0-9.]*\)).*/\1/p' | head -n 1
}
resolves() { [ "$(addr_of "$1" "$2")" = "$3" ]; }
unknown() { [ -z "$(addr_of "$1" "$2")" ]; }
reaches() { ctl exec "$1" -- ping -c 1 -W 1 "$2" >/dev/null 2>&1; }
ino() { stat -c %i "$D/state/containers/$1/etc/hosts" 2>/dev/null; }

all=("$P-multi" "$P-multi2" "$P-both" "$P-pa" "$P-pb" "$P-pc")
started=1
for c in "${all[@]}"; do wait_until 60 running "$c" || { started=; nok "$c did not start"; }; done
if [ -z "$started" ]; then
  note "$(tail -n 20 "$D/berthd.log")"
else
  M1=$(ctl exec "$P-multi" -- ip -4 -o addr show eth1 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1)
  own=$D/state/networks/hosts.d/$P-multi
  check "a container on two networks has a hosts file of its own ($own)" test -f "$own"
  check "it is the container's /etc/hosts (the same inode)" test "$(stat -c %i "$own")" = "$(ino "$P-multi")"
  check "a container on one network keeps the network's file" \
    test "$(stat -c %i "$D/state/networks/$BA.hosts")" = "$(ino "$P-pa")"
  check "it resolves a peer of its first network by name" resolves "$P-multi" "$P-pa" "$SA.10"
  check "it resolves a peer of its second network by name" resolves "$P-multi" "$P-pb" "$SB.11"
  check "it resolves NAME.NETWORK of the second network" resolves "$P-multi" "$P-pb.$BB" "$SB.11"
  check "it resolves NAME.NETWORK of the first network" resolves "$P-multi" "$P-pa.$BA" "$SA.10"
  check "it reaches the peer of its second network by name" reaches "$P-multi" "$P-pb"
  check "a peer on both networks: the bare name is its address on the viewer's first ($SA.20)" \
    resolves "$P-multi" "$P-both" "$SA.20"
  check "... and NAME.$BB its address on $BB" resolves "$P-multi" "$P-both.$BB" "$SB.20"
  check "... its hostname too, by the first network" resolves "$P-multi" bothhost "$SA.20"
  check "the other order (eth0 on $BB): its address on $BB ($SB.20)" resolves "$P-multi2" "$P-both" "$SB.20"
  check "the peer on both resolves itself by its eth0's network" resolves "$P-both" "$P-both" "$SB.20"
  check "the peer on both resolves a peer of its extra network" resolves "$P-both" "$P-pa" "$SA.10"
  check "a container of a third network is not known" unknown "$P-multi" "$P-pc"
  check "the peer of $BB resolves it by its $BB address ($M1)" resolves "$P-pb" "$P-multi" "$M1"
  check "it cannot write its hosts file" eval "! ctl exec '$P-multi' -- sh -c 'echo 198.19.9.8 evil >> /etc/hosts' 2>/dev/null"

  # Started later, on its second network and on its first: known at once.
  I0=$(ino "$P-multi")
  ctl start "$P-late" >/dev/null 2>&1
  ctl start "$P-late2" >/dev/null 2>&1
  if wait_until 60 running "$P-late" && wait_until 60 running "$P-late2"; then
    check "a container started later on its second network resolves" wait_until 3 resolves "$P-multi" "$P-late" "$SB.30"
    check "... as NAME.$BB" resolves "$P-multi" "$P-late.$BB" "$SB.30"
    check "a container started later on its first network resolves" wait_until 3 resolves "$P-multi" "$P-late2" "$SA.31"
    check "the later one resolves it by name" resolves "$P-late" "$P-multi.$BB" "$M1"
    check "its hosts file is still the same inode" test "$(ino "$P-multi")" = "$I0"
    ctl stop "$P-late" >/dev/null 2>&1
    wait_until 30 eval "! running '$P-late'"
    check "a peer that left is no longer resolved" wait_until 3 unknown "$P-multi" "$P-late"
    check "... nor as NAME.$BB" unknown "$P-multi" "$P-late.$BB"
  else
    nok "the later containers did not start"
  fi

  # kill -9 of berthd; a peer ends meanwhile, berthd comes back: the name
  # goes; a container started after that resolves.
  pid=$(jget "$P-multi" pid)
  lpid=$(jget "$P-late2" pid)
  daemon_kill9
  kill -KILL "$lpid" 2>/dev/null
  daemon_start
  check "after kill -9 and a restart of berthd it is re-adopted with the same pid" \
    eval "wait_until 20 running '$P-multi' && [ \"\$(jget '$P-multi' pid)\" = '$pid' ]"
  check "a peer that ended while berthd was down is no longer resolved" wait_until 5 unknown "$P-multi" "$P-late2"
  check "the peers of both networks still resolve" \
    eval "resolves '$P-multi' '$P-pa' '$SA.10' && resolves '$P-multi' '$P-pb' '$SB.11'"
  ctl start "$P-late" >/dev/null 2>&1
  check "a container started after the restart resolves" wait_until 60 resolves "$P-multi" "$P-late" "$SB.30"
  check "its hosts file is still the same inode after all that" test "$(ino "$P-multi")" = "$I0"

  # A stale own file (a berthd killed between the network's file and it)
  # is rewritten at berthd's start.
  daemon_kill9
  "$PY" - "$own" "$SB.30" "$SB.99" <<'EOF2'
import sys
with open(sys.argv[1], "r+") as f: # in place: the container holds the inode
    t = f.read().replace(sys.argv[2] + "\t", sys.argv[3] + "\t")
    f.seek(0)
    f.write(t)
EOF2
  check "(the stale file names the wrong address)" grep -q "^$SB.99[[:space:]]$P-late " "$own"
  daemon_start
  check "berthd's start rewrites a stale hosts file from its networks' files" \
    wait_until 10 resolves "$P-multi" "$P-late" "$SB.30"
  check "... in place" test "$(ino "$P-multi")" = "$I0"

  ctl stop "$P-multi" >/dev/null 2>&1
  wait_until 30 eval "! running '$P-multi'"
  check "stop removes its own hosts file" wait_until 3 test ! -e "$own"
  check "its lines leave both networks' files" \
    eval "! grep -Eq '[[:space:]]$P-multi[[:space:]]' '$D/state/networks/$BA.hosts' '$D/state/networks/$BB.hosts'"
  check "a peer of both no longer lists it" wait_until 3 unknown "$P-both" "$P-multi"
  [ -n "${VERBOSE:-}" ] && note "$(cat "$D/state/networks/hosts.d/$P-both")"
fi

# Extra interfaces on networks berth does not own.
ifaces() {
  inspect "$1" | "$PY" -c 'import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    print(i["interface"], i["network"], i["address"], i["host_veth"] or "-")'
}
on_bridge() { [ "$(cat "/sys/class/net/$1/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$2/ifindex" 2>/dev/null)" ]; }
if wait_until 60 running "$P-ext" && wait_until 60 running "$P-ext2"; then
  cx() { ctl exec "$1" -- "${@:2}" 2>/dev/null; }
  check "host bridge: eth1 has the definition's address" eval "cx '$P-ext' ip -4 -o addr show eth1 | grep -q 'inet $SX.10/24'"
  check "host bridge: the container reaches the bridge's own address" reaches "$P-ext" "$SX.1"
  IF=$(ifaces "$P-ext")
  VX=$(printf '%s\n' "$IF" | awk '$1 == "eth1" { print $4 }')
  check "host bridge: inspect lists eth1 on $HX with its address and veth ($VX)" \
    eval "printf '%s\n' \"\$IF\" | grep -q '^eth1 $HX $SX.10 vn'"
  check "host bridge: its veth is on the operator's bridge" on_bridge "$VX" "$HX"
  check "host bridge: the bridge got no berth alias" eval "[ -z \"\$(cat /sys/class/net/$HX/ifalias 2>/dev/null)\" ]"
  check "host bridge, dhcp: eth2 of the other is up without an address" \
    eval "cx '$P-ext2' ip -o link show eth2 | grep -q 'UP' && ! cx '$P-ext2' ip -4 -o addr show eth2 | grep -q inet"
  check "macvlan: eth2 is a macvlan child with the definition's address" \
    eval "nsenter -t \"\$(jget '$P-ext' pid)\" -n ip -d link show eth2 | grep -q macvlan &&
      cx '$P-ext' ip -4 -o addr show eth2 | grep -q 'inet $SY.11/24'"
  check "macvlan: inspect lists eth2 on $VM, no host veth" eval "printf '%s\n' \"\$IF\" | grep -q '^eth2 $VM $SY.11 -\$'"
  check "macvlan: two containers' children of one parent reach each other" reaches "$P-ext" "$SY.12"
  # shellcheck disable=SC2034 # read by the eval strings below
  routes=$(cx "$P-ext" ip -4 route)
  check "the default route stays eth0's ($SA.1)" eval "printf '%s\n' \"\$routes\" | grep -q '^default via $SA.1 dev eth0' &&
    [ \"\$(printf '%s\n' \"\$routes\" | grep -c '^default')\" = 1 ]"
  check "one berth network: its /etc/hosts is that network's file" \
    test "$(stat -c %i "$D/state/networks/$BA.hosts")" = "$(ino "$P-ext")"
  check "... and it resolves its peers by name" resolves "$P-ext" "$P-pa" "$SA.10"
  check "no IPAM record for a network berth does not own" eval "! ls '$D/state/networks/$HX'* '$D/state/networks/$VM'* 2>/dev/null | grep -q ."
  ctl stop "$P-ext" >/dev/null 2>&1
  wait_until 30 eval "! running '$P-ext'"
  check "stop removes its veth from the operator's bridge" wait_until 3 eval "[ ! -e /sys/class/net/$VX ]"
  check "the operator's bridge stays, with its address" eval "ip -4 -o addr show $HX | grep -q 'inet $SX.1/24'"
else
  nok "the containers with extra interfaces on host networks did not start"
  note "$(grep "$P-ext" "$D/berthd.log" | tail -n 4)"
fi

daemon_stop
check "the operator's bridge and the macvlan parent survive berthd's stop" \
  eval "ip -4 -o addr show $HX | grep -q 'inet $SX.1/24' && [ -e /sys/class/net/$VM ]"
check "berthd's stop leaves no own hosts file" eval "[ -z \"\$(ls -A '$D/state/networks/hosts.d' 2>/dev/null)\" ]"

# Bad input: FILE:LINE errors of check.
B=$ROOT/bad
mkdir -p "$B"
cat >"$B/nets.conf" <<EOF2
network $BA { subnet = "$SA.0/24" }
network $BB { subnet = "$SB.0/24" }
EOF2
bad() { # bad NAME EXPECTED LINES...: a definition whose check names EXPECTED
  local n=$1 want=$2; shift 2
  { echo "container $n {"; echo '  template = "busybox"'; printf '  %s\n' "$@"; echo "}"; } >"$B/$n.conf"
  local out
  out=$(timeout 30 "$CTL" check -c "$B" --state-dir "$ROOT/bstate" --socket "$ROOT/no.sock" 2>&1)
  rm -f "$B/$n.conf"
  if printf '%s\n' "$out" | grep -qF "$B/$n.conf:$want"; then ok "check refuses: ${want#*: }"; else
    nok "check does not say '$B/$n.conf:$want'"; note "$(oneline "$out")"; fi
}
bad y1 "4: network '$VM': mode 'macvlan' needs address = \"A.B.C.D/N\" or \"dhcp\"" "network { bridge = \"$BA\" }" \
  "network $VM { mode = \"macvlan\" }"
bad y2 "4: network '$BB': mode 'ipvlan' names its parent interface, and '$BB' is a network berth manages" \
  "network { bridge = \"$BA\" }" "network $BB { mode = \"ipvlan\" address = \"198.19.9.2/24\" }"
bad y3 "4: network '$BB'.address: dhcp is not used on berth's network '$BB'" "network { bridge = \"$BA\" }" \
  "network $BB { address = \"dhcp\" }"
bad y4 "4: network 'nosuch': not declared by any file" "network { bridge = \"$BA\" }" "network nosuch { }"
bad y5 "4: network '$HX'.mode: 'vxlan' is not bridge, macvlan or ipvlan" "network { bridge = \"$BA\" }" \
  "network $HX { mode = \"vxlan\" address = \"dhcp\" }"
bad y6 "4: network '$HX'.address: '198.19.9.2/33': the prefix is not 1 to 32" "network { bridge = \"$BA\" }" \
  "network $HX { address = \"198.19.9.2/33\" }"
bad y7 "4: network 'br-0123456789abc': not an interface name" "network { bridge = \"$BA\" }" \
  "network br-0123456789abc { address = \"dhcp\" }"
daemon_finish ""
exit $fail
