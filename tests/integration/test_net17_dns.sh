#!/bin/bash
# Names and name servers on a berth network (issue 17), through a private
# berthd: a container started after another resolves it, and is resolved by
# it, by NAME and NAME.NETWORK, without a restart (the network's hosts file
# is rewritten in place); a stopped container's name goes away. The host's
# resolver configuration (BERTH_RESOLV_CONF, a file of this test) names only
# a loopback server, a fake DNS responder of this test on 127.77.X.53: the
# container gets its gateway as name server, and a query there is answered
# by the host's loopback server. Addresses: 198.19.X.0/24; bridge n17n<pid>.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="net17 dns: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=n17d$$
BR=n17n$$
BR=${BR:0:12}
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bnet17d.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

oct=$(($$ % 200 + 20))
for ((i = 0; i < 200; i++)); do
  ip -4 addr | grep -q " 198\.19\.$oct\." || ip -4 route | grep -q "^198\.19\.$oct\." || break
  oct=$(((oct + 1) % 200 + 20))
done
sub=198.19.$oct
LO=127.77.$(($$ % 250 + 1)).53

env_new a
# The fake upstream: answers A queries for *.net17.test with 198.19.9.9.
"$PY" - "$LO" >"$D/dns.log" 2>&1 <<'EOF2' &
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
s.settimeout(1)
end = time.time() + 300
print("ready", flush=True)
while time.time() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    tid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = ".".join(labels)
    print("query", name, qtype, flush=True)
    ok = name.endswith("net17.test") and qtype == 1
    hdr = struct.pack(">HHHHHH", tid, 0x8180 if ok else 0x8183, 1, 1 if ok else 0, 0, 0)
    ans = struct.pack(">HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("198.19.9.9") if ok else b""
    s.sendto(hdr + question + ans, peer)
EOF2
HPIDS+=($!)
wait_until 10 grep -q ready "$D/dns.log"
printf 'search net17.test\nnameserver %s\n' "$LO" >"$D/resolv.conf"

cat >"$D/conf/net.conf" <<EOF2
network $BR {
    subnet  = "$sub.0/24"
    gateway = "$sub.1"
    nat     = false
}
EOF2
container "$P-a" 'autostart = true' 'command = { "/bin/sleep", "100000" }' "network { bridge = \"$BR\" }"
container "$P-b" 'autostart = false' 'command = { "/bin/sleep", "100000" }' "network { bridge = \"$BR\" }"
daemon_start env BERTH_RESOLV_CONF="$D/resolv.conf"
running() { [ "$(jget "$1" state)" = running ]; }
# resolves FROM NAME ADDRESS: ping in FROM names NAME's address (via /etc/hosts)
resolves() { ctl exec "$1" -- ping -c1 -W2 "$2" 2>/dev/null | grep -q "($3)"; }
addr() { jget "$1" address; }

if ! wait_until 60 running "$P-a"; then
  nok "container a did not start"
else
  a=$(addr "$P-a")
  ctl start "$P-b" >/dev/null 2>&1
  if ! wait_until 60 running "$P-b"; then
    nok "container b did not start"
  else
    b=$(addr "$P-b")
    check "a, started first, resolves b, started later, by name ($b)" wait_until 3 resolves "$P-a" "$P-b" "$b"
    check "a resolves b as NAME.NETWORK" resolves "$P-a" "$P-b.$BR" "$b"
    check "b resolves a by name ($a)" resolves "$P-b" "$P-a" "$a"
    check "b resolves a as NAME.NETWORK" resolves "$P-b" "$P-a.$BR" "$a"
    check "a container resolves its own name" resolves "$P-a" "$P-a" "$a"
    check "a container cannot write the shared hosts file" \
      eval "! ctl exec '$P-a' -- sh -c 'echo 198.19.9.8 evil >> /etc/hosts' 2>/dev/null"
    ctl stop "$P-b" >/dev/null 2>&1
    wait_until 30 eval "! running '$P-b'"
    check "a stopped container's name goes away" wait_until 3 eval "! resolves '$P-a' '$P-b' '$b'"
  fi
  rc=$(ctl exec "$P-a" -- cat /etc/resolv.conf 2>/dev/null)
  check "the host's loopback server is not copied into the container" eval "! printf '%s' \"\$rc\" | grep -q 127."
  check "the container's name server is its gateway" eval "printf '%s' \"\$rc\" | grep -q '^nameserver $sub.1$'"
  check "the search list is kept" eval "printf '%s' \"\$rc\" | grep -q '^search net17.test$'"
  out=$(ctl exec "$P-a" -- nslookup up.net17.test 2>&1)
  check "a name is resolved through the gateway by the host's loopback server" \
    eval "printf '%s' \"\$out\" | grep -q '198.19.9.9'"
  check "the query reached the loopback server" grep -q "query up.net17.test 1" "$D/dns.log"
  [ "$fail" = 0 ] || note "nslookup: $(oneline "$out"); resolv.conf: $(oneline "$rc")"
fi
daemon_stop
daemon_finish ""
exit $fail
