#!/bin/bash
# IPv6 router advertisements (CVE-2020-13401 class): a container has
# CAP_NET_RAW and can send RAs on its network's bridge. berth configures no
# IPv6, so nothing of berth's accepts them: accept_ra is 0 for eth0, all and
# default inside the container (and its read-only /proc/sys keeps it so),
# and on the bridge and the host end of the veth. Only 198.18.0.0/15, on a
# bridge of this test's own.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX='ipv6 ra: '
B=${BERTH_BUILD:?}
T=$(mktemp -d /tmp/snra.XXXXXX)
BR=snra$$
BR=${BR:0:12}
NET=198.18.$(( $$ % 50 + 200 ))
pid=
cleanup() {
  [ -n "$pid" ] && stop_pids "$pid"
  ip link del "$BR" 2>/dev/null
  ip link del vb-snra-c 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
if [ ! -d /proc/sys/net/ipv6 ]; then
  ok "# SKIP IPv6 is disabled on this host"
  exit 0
fi
mkdir -p "$T/conf"
cat > "$T/conf/ra.conf" <<EOC
network snra { subnet = "$NET.0/24"  bridge = "$BR" }
container snra-c {
    template = "busybox"
    network { bridge = "snra"  address = "$NET.10" }
    command = { "/bin/sh", "-c", "for i in eth0 all default; do echo \$i=\$(cat /proc/sys/net/ipv6/conf/\$i/accept_ra); done; echo 1 > /proc/sys/net/ipv6/conf/eth0/accept_ra 2>/dev/null && echo WRITE-OK; echo eth0-after=\$(cat /proc/sys/net/ipv6/conf/eth0/accept_ra); echo DONE; sleep 30" }
}
EOC
"$B/berthctl" run -c "$T/conf" --state-dir "$T/state" snra-c > "$T/out" 2>&1 &
pid=$!
wait_until 20 grep -q DONE "$T/out"
out=$(cat "$T/out")
for i in eth0 all default; do
  grep -qx "$i=0" "$T/out" && ok "container: $i/accept_ra is 0" || nok "container: $i/accept_ra is not 0: $(oneline "$out")"
done
! grep -q WRITE-OK "$T/out" && grep -qx "eth0-after=0" "$T/out" && ok "container cannot turn accept_ra back on" ||
  nok "container turned accept_ra on: $(oneline "$out")"
v=$(cat "/proc/sys/net/ipv6/conf/$BR/accept_ra" 2>&1)
[ "$v" = 0 ] && ok "host: bridge $BR accept_ra is 0" || nok "host: bridge $BR accept_ra is '$v'"
v=$(cat /proc/sys/net/ipv6/conf/vb-snra-c/accept_ra 2>&1)
[ "$v" = 0 ] && ok "host: veth vb-snra-c accept_ra is 0" || nok "host: veth vb-snra-c accept_ra is '$v'"
stop_pids "$pid"
pid=
exit $fail
