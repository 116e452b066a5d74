#!/bin/bash
# Containers on a berth network, started with `berthctl run`: addresses,
# names in /etc/hosts, reachability, a sticky automatic address, a published
# port reached from a separate client namespace, NAT rules and cleanup.
# Only 198.18.0.0/15 is used, on a bridge and namespaces of this test's own.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${BERTH_BUILD:?}
T=$(mktemp -d /tmp/btnr.XXXXXX)
BR=btnr$$
BR=${BR:0:12}
NS=btnrc$$
NET=198.19.$(( $$ % 200 + 20 ))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  ip link del "$BR" 2>/dev/null
  ip link del "vc-$$" 2>/dev/null
  nft delete table inet berth_run_btnra 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/conf"
cat > "$T/conf/net.conf" <<EOC
network btnr { subnet = "$NET.0/24"  bridge = "$BR"  nat = true }
container btnra {
    template = "busybox"
    network { bridge = "btnr"  address = "$NET.10"  publish = { "18080:80/tcp" } }
    command = { "/bin/sh", "-c", "echo hello-from-a > /tmp/index.html; httpd -f -p 80 -h /tmp & sleep 30" }
}
container btnrb {
    template = "busybox"
    network { bridge = "btnr" }
}
EOC
run() { "$B/berthctl" run -c "$T/conf" --state-dir "$T/state" "$@"; }

"$B/berthctl" run -c "$T/conf" --state-dir "$T/state" btnra > "$T/a.out" 2>&1 &
pids+=($!)
# wait (bounded) until a's veth is on the bridge
for _ in $(seq 1 100); do ip link show "$BR" >/dev/null 2>&1 && [ -n "$(ip -o link show master "$BR" 2>/dev/null)" ] && break; sleep 0.1; done
sleep 0.5

out=$(run btnrb -- sh -c "ip -o -4 addr show eth0; ip route; cat /etc/hosts; ping -c1 -W2 $NET.10 >/dev/null && echo PING-ADDR-OK; ping -c1 -W2 btnra >/dev/null && echo PING-NAME-OK; wget -q -O - http://btnra/index.html" 2>&1)
addr1=$(printf '%s\n' "$out" | awk '/eth0/ && /inet / {print $4}' | head -n1)
[[ "$addr1" == $NET.* ]] && ok "a container on the network has an address in its subnet ($addr1)" || nok "no address: $out"
printf '%s\n' "$out" | grep -q "default via $NET.1" && ok "default route via the gateway" || nok "no default route: $out"
printf '%s\n' "$out" | grep -q "^$NET.10[[:space:]]*btnra" && ok "/etc/hosts names the other container" || nok "hosts: $out"
printf '%s\n' "$out" | grep -q PING-ADDR-OK && ok "containers reach each other by address" || nok "ping by address failed"
printf '%s\n' "$out" | grep -q PING-NAME-OK && ok "containers reach each other by name" || nok "ping by name failed"
printf '%s\n' "$out" | grep -q hello-from-a && ok "a TCP service in one container answers the other" || nok "wget failed: $out"

out2=$(run btnrb -- sh -c "ip -o -4 addr show eth0" 2>&1)
addr2=$(printf '%s\n' "$out2" | awk '{print $4}' | head -n1)
[ -n "$addr1" ] && [ "$addr1" = "$addr2" ] && ok "the automatic address is the same after a restart ($addr2)" || nok "address changed: $addr1 -> $addr2"

nft list table inet berth_run_btnra > "$T/nft" 2>&1 && grep -q "dnat" "$T/nft" && grep -q "masquerade" "$T/nft" \
  && ok "the run's NAT table holds DNAT and masquerade" || nok "nft table: $(cat "$T/nft")"

# A separate client namespace on the bridge reaches the published port on the gateway.
ip netns add "$NS"
ip link add "vc-$$" type veth peer name eth0 netns "$NS"
ip link set "vc-$$" master "$BR" up
ip -n "$NS" addr add "$NET.200/24" dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set lo up
got=""
for _ in 1 2 3 4 5; do
  # (busybox's wget crashes outside a busybox root: speak HTTP with nc)
  got=$(printf 'GET /index.html HTTP/1.0\r\n\r\n' | ip netns exec "$NS" busybox nc -w 2 "$NET.1" 18080 2>/dev/null | tail -n1)
  [ "$got" = "hello-from-a" ] && break
  sleep 0.3
done
[ "$got" = "hello-from-a" ] && ok "a published port is reachable from a client namespace" || nok "published port: '$got'"
ip link del "vc-$$" 2>/dev/null
ip netns del "$NS"

kill "${pids[0]}" 2>/dev/null; wait "${pids[0]}" 2>/dev/null
pids=()
nft list table inet berth_run_btnra >/dev/null 2>&1 && nok "the NAT table is left after the run" || ok "the NAT table is gone after the run"
ip link show "$BR" >/dev/null 2>&1 && nok "the bridge is left after the runs" || ok "the bridge is gone after the runs"
[ -z "$(ip -o link show | grep -E 'vb-btnr')" ] && ok "no veth is left" || nok "veth left: $(ip -o link show | grep vb-btnr)"

# A network that is full: a /30 has one address besides the gateway.
cat > "$T/conf/net.conf" <<EOC
network btnr { subnet = "$NET.0/30"  bridge = "$BR" }
container btnrc { template = "busybox" network { bridge = "btnr" address = "$NET.2" } }
container btnrd { template = "busybox" network { bridge = "btnr" } }
EOC
"$B/berthctl" check -c "$T/conf" > "$T/check" 2>&1
grep -q "free addresses" "$T/check" && ok "check reports a subnet with no free address left" || nok "check: $(cat "$T/check")"
exit $fail
