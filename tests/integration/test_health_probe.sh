#!/bin/bash
# Integration test of health probes (`berthctl health NAME` runs one probe
# through lib/health.c) against containers started with `berthctl run`:
# command probes (ok, failing, not found, output kept, timeout that kills the
# whole probe tree), tcp and http from the host to a bridged container in
# 198.19.x (test range 198.18.0.0/15), and tcp inside the netns of a
# container with network none.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="health: "
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$REPO/templates}
export BERTH_SOCKET=/nonexistent/berth.sock
B=$BUILD/berthctl
T=$(mktemp -d /tmp/bthealth.XXXXXX)
NN=bthn$$      # network none
NB=bthb$$      # bridged
NET=bthp$$
OCT=$((100 + $$ % 100))
SUB=198.19.$OCT
pids=()
cleanup() {
  stop_pids "${pids[@]}"
  ip link del "$NET" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# conf DIR HEALTH-BODY: both containers, with the given health section on both.
conf() {
  mkdir -p "$1"
  cat > "$1/c.conf" <<EOF
network $NET {
    subnet  = "$SUB.0/24"
    gateway = "$SUB.1"
    nat     = false
}
container $NN {
    template = "busybox"
    command  = { "/bin/sh", "-c", "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www" }
    health { $2 }
}
container $NB {
    template = "busybox"
    command  = { "/bin/sh", "-c", "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www" }
    network { bridge = "$NET"  address = "$SUB.10" }
    health { $2 }
}
EOF
}
conf "$T/base" 'tcp = 80'
mkdir -p "$T/state" "$T/run"
for n in "$NN" "$NB"; do
  "$B" run --no-tty -c "$T/base" --state-dir "$T/state" "$n" </dev/null >"$T/$n.log" 2>&1 &
  pids+=($!)
done
for n in "$NN" "$NB"; do
  for _ in $(seq 300); do
    [ -s "$T/state/containers/$n/state" ] && break
    sleep 0.1
  done
  if ! [ -s "$T/state/containers/$n/state" ]; then
    echo "not ok health: container $n did not start"; sed 's/^/# /' "$T/$n.log"; exit 1
  fi
done
sleep 0.5 # httpd listening

H() { # H NAME HEALTH-BODY → runs one probe, output in $T/out, status in $rc
  local d=$T/c$RANDOM$RANDOM
  conf "$d" "$2"
  "$B" health -c "$d" --state-dir "$T/state" "$1" >"$T/out" 2>&1; rc=$?
}

H "$NN" 'command = { "/bin/sh", "-c", "echo probe-out; exit 0" }'
check "command probe passes (rc $rc)" test "$rc" = 0
check "command probe keeps its output" grep -q probe-out "$T/out"
H "$NN" 'command = { "/bin/sh", "-c", "echo bad >&2; exit 3" }'
check "failing command probe fails (rc $rc)" test "$rc" = 1
check "failing command probe reports exit status 3" grep -q "exit status 3" "$T/out"
check "stderr is kept too" grep -q "^bad" "$T/out"
H "$NN" 'command = { "no-such-probe" }'
check "missing command is a failed probe, not an error (rc $rc)" test "$rc" = 1
check "missing command says so" grep -q "command not found in the container" "$T/out"
H "$NN" 'command = { "/bin/sh", "-c", "head -c 1000000 /dev/zero | tr \"\\\\0\" x; echo; echo done" }'
check "a probe writing 1 MB completes (rc $rc)" test "$rc" = 0
check "the probe's output is cut to its first lines" test "$(wc -c < "$T/out")" -lt 1000
H "$NN" 'command = { "/bin/sh", "-c", "test $(hostname) = '"$NN"' && test -e /tmp/www/index.html" }'
check "command probe runs inside the container (rc $rc)" test "$rc" = 0

# Timeout: the probe forks a tree; every process of it must be gone.
initns=$(readlink /proc/$(sed -n 's/^init_pid=//p' "$T/state/containers/$NN/state")/ns/pid)
t0=$(date +%s%N)
H "$NN" 'command = { "/bin/sh", "-c", "sleep 301 & (sleep 302 &) ; sh -c \"sleep 303\" & sleep 304" }  timeout = 500ms  interval = 1s'
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "timed-out probe fails (rc $rc)" test "$rc" = 1
check "timed-out probe says so" grep -q "timed out" "$T/out"
check "timeout honoured (${ms} ms)" test "$ms" -lt 3000
left=$(for p in $(pgrep -f "sleep 30[1-4]"); do [ "$(readlink /proc/$p/ns/pid 2>/dev/null)" = "$initns" ] && echo $p; done)
check "no process of the timed-out probe is left (${left:-none})" test -z "$left"

# tcp and http, from the host to the bridged container.
H "$NB" 'tcp = 80'
check "tcp probe to a bridged container passes (rc $rc)" test "$rc" = 0
check "tcp probe used the container's address" grep -q "$SUB.10:80" "$T/out"
H "$NB" 'tcp = 81'
check "tcp probe to a closed port fails (rc $rc)" test "$rc" = 1
H "$NB" 'tcp = 80  http = "/index.html"'
check "http probe gets 200 (rc $rc)" test "$rc" = 0
H "$NB" 'tcp = 80  http = "/missing"'
check "http probe fails on 404 (rc $rc)" test "$rc" = 1
check "http probe reports the status" grep -q "status 404" "$T/out"
H "$NB" 'tcp = 80  http = "/missing"  http-status = 404'
check "http probe with http-status = 404 passes (rc $rc)" test "$rc" = 0

# tcp inside the network namespace of a container with network none.
H "$NN" 'tcp = 8080'
check "tcp probe inside a network-none container passes (rc $rc)" test "$rc" = 0
H "$NN" 'tcp = 8081'
check "tcp probe to a closed port inside fails (rc $rc)" test "$rc" = 1
H "$NN" 'tcp = 8080  http = "/index.html"'
check "http probe inside a network-none container passes (rc $rc)" test "$rc" = 0

"$B" health -c "$T/base" --state-dir "$T/state" nosuch$$ >/dev/null 2>&1; rc=$?
check "health of a container that is not running fails with 2" test "$rc" = 2
exit $fail
