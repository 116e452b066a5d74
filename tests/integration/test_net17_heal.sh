#!/bin/bash
# Self-healing bridges (issue 17), through a private berthd: the bridge of
# a managed network is deleted under two running containers; within a
# second berthd has made it again and put both veths back on it, says so
# in an event, and traffic between the containers and to a published port
# resumes. A running container's veth deleted is made again (same address);
# a stopped container's is not. Bridges berthd did not make (no alias,
# another owner's alias) are left deleted. Addresses 198.19.X.0/24; links n17*<pid>.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 heal: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17h$$
BR=n17r$$
BR=${BR:0:12}
XB=n17x$$
XB=${XB:0:12}
OB=n17o$$
OB=${OB:0:12}
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17h.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip link del "$BR" 2>/dev/null; ip link del "$XB" 2>/dev/null; ip link del "$OB" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

oct=$(($$ % 200 + 20))
for ((i = 0; i < 200; i++)); do
  ip -4 addr | grep -q " 198\.19\.$oct\." || ip -4 route | grep -q "^198\.19\.$oct\." || break
  oct=$(((oct + 1) % 200 + 20))
done
sub=198.19.$oct
PORT=$((25000 + $$ % 5000))

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
  "network { bridge = \"$BR\" address = \"$sub.10\" publish = { \"$PORT:80/tcp\" } }"
container "$P-cli" 'autostart = true' 'command = { "/bin/sleep", "100000" }' \
  "network { bridge = \"$BR\" address = \"$sub.11\" }"
daemon_start
running() { [ "$(jget "$1" state)" = running ]; }
contains() { printf '%s' "$1" | grep -q -- "$2"; }
cget() { ctl exec "$1" -- sh -c "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $2 $3" 2>/dev/null | tail -n1; }
cgot_page() { [ "$(cget "$@")" = hello-net17 ]; }
get() { printf 'GET /index.html HTTP/1.0\r\n\r\n' | timeout 5 busybox nc -w 2 "$1" "$2" 2>/dev/null | tail -n1; }
got_page() { [ "$(get "$@")" = hello-net17 ]; }
on_bridge() { [ "$(cat "/sys/class/net/$1/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$BR/ifindex" 2>/dev/null)" ]; }
healed() { on_bridge "$VW" && on_bridge "$VC"; }
veth() { ip -o link show | awk -F': ' -v a="berth-veth:$1" '{ print $2 }' | cut -d@ -f1 | while read -r l; do
  [[ "$(cat "/sys/class/net/$l/ifalias" 2>/dev/null)" == "berth-veth:$1@"???????????????? ]] && echo "$l"; done; }

if ! wait_until 60 running "$P-web" || ! wait_until 30 running "$P-cli"; then
  nok "the containers did not start"
else
  check "before: a container reaches the other" wait_until 5 cgot_page "$P-cli" "$sub.10" 80
  alias_before=$(cat "/sys/class/net/$BR/ifalias")
  VW=$(veth "$P-web") VC=$(veth "$P-cli")
  ip link del "$BR"
  t0=$(date +%s%N)
  if wait_until 1 healed; then
    t1=$(date +%s%N)
    ok "the bridge is back with both veths on it within a second ($(((t1 - t0) / 1000000)) ms)"
  else
    nok "the bridge and its veths are not back within a second"
  fi
  check "it carries the same owner identity" eval "[ \"\$(cat /sys/class/net/$BR/ifalias)\" = '$alias_before' ]"
  check "it has the gateway address again" eval "ip -4 -o addr show dev '$BR' | grep -q ' $sub.1/24 '"
  check "traffic between the containers resumes" wait_until 5 cgot_page "$P-cli" "$sub.10" 80
  check "the published port answers on 127.0.0.1 again" wait_until 5 got_page 127.0.0.1 "$PORT"
  check "berthd logs the healing" grep -q "network '$BR': bridge '$BR' was deleted by someone else: made again, 2 containers re-attached" "$D/berthd.log"
  ev=$(BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" events "$BR" 2>/dev/null)
  check "berthctl events shows a network-healed event for the network" contains "$ev" network-healed

  # A container's veth deleted (its eth0 goes with it): a new pair, same address.
  v=$VC
  ip link del "$v"
  t0=$(date +%s%N)
  if wait_until 1 on_bridge "$v" && [[ "$(cat "/sys/class/net/$v/ifalias")" == "berth-veth:$P-cli@"???????????????? ]]; then
    t1=$(date +%s%N)
    ok "the container's veth is back on the bridge within a second ($(((t1 - t0) / 1000000)) ms)"
  else
    nok "the container's veth is not back within a second"
  fi
  check "the container has its address on eth0 again" \
    eval "ctl exec '$P-cli' -- ip -4 -o addr show eth0 2>/dev/null | grep -q ' $sub.11/24 '"
  check "traffic from that container resumes" wait_until 5 cgot_page "$P-cli" "$sub.10" 80
  check "berthd logs the veth's healing" grep -q "container '$P-cli': its veth '$v' was deleted by someone else: made again" "$D/berthd.log"
  ev=$(BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" events "$P-cli" 2>/dev/null)
  check "berthctl events shows network-healed for the container" contains "$ev" network-healed
  # A container that stops deletes its veth: nothing is made again for it.
  ctl stop "$P-cli" >/dev/null 2>&1
  wait_until 30 eval "! running '$P-cli'"
  sleep 0.5
  check "a stopped container's veth is not made again" eval "[ -z \"\$(veth '$P-cli')\" ]"
  check "no failure is reported for it" eval "! grep -q \"$P-cli.*cannot be made again\" '$D/berthd.log'"

  # Bridges that are not this berthd's: deleted, and left deleted.
  ip link add "$XB" type bridge
  ip link add "$OB" type bridge && ip link set "$OB" alias "berth:$OB@0123456789abcdef"
  ip link del "$XB"; ip link del "$OB"
  sleep 1
  check "a bridge without berth's alias is not made again" eval "! ip link show '$XB' >/dev/null 2>&1"
  check "another owner's bridge is not made again" eval "! ip link show '$OB' >/dev/null 2>&1"
fi
daemon_stop
check "berthd's own removal at shutdown is not undone" eval "sleep 0.5; ! ip link show '$BR' >/dev/null 2>&1"
daemon_finish ""
exit $fail
