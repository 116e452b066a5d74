#!/bin/bash
# Unprivileged containers (idmap): real busybox containers under a private
# berthd, checked from inside and from the host. The root is an overlay the
# privileged side mounts over the idmapped template (or a shifted copy where
# the kernel cannot): inside, root writes /etc/passwd, /root and /tmp, `ls
# -ln /` shows 0 0 and `id` is root with Docker's capabilities; on the host
# its files and processes belong to HOSTID, and a root-only host file bound
# in stays unreadable. exec, health probes, a bridged network, cgroups,
# seccomp, logs and restarts work; idmap = "auto" gives two containers
# disjoint ranges from --idmap-pool, kept across restarts of the container
# and of berthd, freed by destroy. Names, bridge and dirs carry "idmap18".
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="idmap18: "
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$REPO/templates}
BERTHD=$BUILD/berthd CTL=$BUILD/berthctl
ROOT=$(mktemp -d /tmp/idmap18.XXXXXX)
P=idmap18
BR=idm18br
OCT=$((200 + $$ % 50))
SUB=198.18.$OCT
HOSTID=2000000000          # the fixed range of $P-a
POOL=2100000000:200000     # idmap = "auto" draws from here
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

kernel_ok() { # idmapped mounts 5.12, overlayfs over them 5.19
  local v; v=$(uname -r); v=${v%%-*}
  [ "$(printf '%s\n' 5.19 "$v" | sort -V | head -n1)" = 5.19 ]
}
kernel_ok || note "kernel $(uname -r) is older than 5.19: expect method shifted-copy"

env_new main
# A host file only root may read, bound into the container.
echo topsecret > "$D/secret"
chmod 0600 "$D/secret"
mkdir -p "$D/data" "$D/plain"   # both root's, 0755
cat > "$D/conf/net.conf" <<EOF
network $P-net {
    subnet  = "$SUB.0/24"
    gateway = "$SUB.1"
    bridge  = "$BR"
    nat     = false
}
EOF
container "$P-a" 'autostart = true' "idmap = \"$HOSTID:65536\"" \
  'command = { "/bin/sh", "-c", "echo hello-from-a; touch /tmp/created-by-a; exec sleep 100000" }' \
  "mount secret { source = \"$D/secret\"  target = \"/secret\" }" \
  "mount data { source = \"$D/data\"  target = \"/data\"  idmap = true }" \
  "mount plain { source = \"$D/plain\"  target = \"/plain\" }" \
  'health { command = { "/bin/sh", "-c", "touch /tmp/probe && test -w /etc/passwd" }  interval = 1s  timeout = 1s }' \
  'limits { memory = 64M  pids = 100 }'
container "$P-n" 'autostart = true' 'idmap = "auto"' \
  'command = { "/bin/sh", "-c", "mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www" }' \
  "network { bridge = \"$P-net\"  address = \"$SUB.10\" }" \
  'health { tcp = 80  interval = 1s  timeout = 1s }'
container "$P-b" 'autostart = true' 'idmap = "auto"' 'command = { "/bin/sleep", "100000" }'
# daemon_start with --idmap-pool (its "$@" goes before berthd's name).
dstart() {
  "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --idmap-pool "$POOL" >>"$D/berthd.log" 2>&1 &
  DPID=$!; DPIDS+=("$DPID")
  wait_until "$START_TIMEOUT" daemon_up
}
dstart
running() { state_is "$1" running; }
for n in "$P-a" "$P-n" "$P-b"; do
  wait_until 60 running "$n" || { nok "$n runs ($(jget "$n" state): $(jget "$n" error))"; daemon_finish ""; exit 1; }
done
ok "three containers with idmap run under berthd"

x() { ctl exec "$1" -- "${@:2}" 2>&1; }
pyj() { inspect "$1" | "$PY" -c "import json, sys; d = json.load(sys.stdin); print($2)" 2>/dev/null; }

# ---- from inside ----------------------------------------------------------------------------
out=$(x "$P-a" /bin/sh -c 'echo new:x:1000:1000::/home/new:/bin/sh >> /etc/passwd && echo p-ok; echo r > /root/persist && echo r-ok; touch /tmp/t && echo t-ok')
check "inside: root writes /etc/passwd, /root and /tmp ($(oneline "$out"))" test "$(echo $out)" = "p-ok r-ok t-ok"
out=$(x "$P-a" /bin/sh -c 'ls -ln / | awk "\$9 == \"etc\" || \$9 == \"bin\" || \$9 == \"root\" { print \$3, \$4 }" | sort -u')
check "inside: ls -ln / shows the template's files as 0 0 ($(oneline "$out"))" test "$out" = "0 0"
out=$(x "$P-a" /bin/sh -c 'ls -ln /etc/hostname /etc/resolv.conf | awk "{ print \$3 }" | sort -u')
check "inside: /etc/hostname and /etc/resolv.conf belong to root ($(oneline "$out"))" test "$out" = 0
out=$(x "$P-a" id)
check "inside: id is root ($out)" test "$out" = "uid=0(root) gid=0(root) groups=0(root)"
out=$(x "$P-a" /bin/sh -c 'grep CapEff /proc/self/status')
check "inside: the usual capabilities (Docker's set: $(oneline "$out"))" test "$(echo "$out" | awk '{ print $2 }')" = 00000000a80425fb
out=$(x "$P-a" /bin/sh -c 'cat /proc/self/uid_map')
check "inside: uid_map is 0 $HOSTID 65536 ($(oneline "$out"))" test "$(echo $out)" = "0 $HOSTID 65536"
out=$(x "$P-a" /bin/sh -c 'cat /secret 2>&1; echo rc=$?')
check "inside: a root-only (0600) host file bound in cannot be read ($(oneline "$out"))" eval '[[ "$out" == *"Permission denied"*"rc=1" ]] && [[ "$out" != *topsecret* ]]'
out=$(x "$P-a" /bin/sh -c 'ls -lnd /data /plain | awk "{ print \$3 }"; echo d > /data/by-a && echo data-ok; (echo p > /plain/by-a) 2>/dev/null || echo plain-refused')
check "inside: a bind mount with idmap = true is root's and writable, a plain one stays the host's ($(oneline "$out"))" \
  test "$(echo $out)" = "0 65534 data-ok plain-refused"
out=$(x "$P-a" /bin/sh -c 'grep Seccomp: /proc/1/status')
check "inside: the init runs under seccomp ($(oneline "$out"))" test "$(echo "$out" | awk '{ print $2 }')" = 2
out=$(x "$P-a" /bin/sh -c 'mount -t tmpfs none /mnt 2>&1 && echo mounted; hostname evil 2>&1 && echo renamed' )
check "inside: root of the user namespace may still not mount or rename its host (no sys_admin)" eval '[[ "$out" != *mounted* ]]'

# ---- from the host --------------------------------------------------------------------------
dir=$D/state/containers/$P-a
pid=$(pid_of "$P-a")
uidline=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null)
check "host: the init runs as $HOSTID ($uidline)" test "$uidline" = "$HOSTID $HOSTID $HOSTID $HOSTID"
w=$(for p in $(cat "/sys/fs/cgroup/pids$(awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup")/cgroup.procs" 2>/dev/null); do awk '/^Uid:/ { print $2 }' "/proc/$p/status"; done | sort -u)
check "host: every process of its cgroup runs as $HOSTID ($(oneline "$w"))" test "$w" = "$HOSTID"
own=$(stat -c '%u:%g' "$dir/upper/root/persist" "$dir/upper/tmp/created-by-a" "$dir/upper/etc/passwd" 2>&1 | sort -u)
check "host: the files it made and changed belong to $HOSTID ($(oneline "$own"))" test "$own" = "$HOSTID:$HOSTID"
tmpl=$(stat -c '%u' "$D/state/templates/busybox/bin/busybox")
check "host: what it wrote through the idmapped bind mount is the host's root's" test "$(stat -c %u "$D/data/by-a" 2>/dev/null)" = 0
check "host: the shared template is untouched (owner $tmpl)" test "$tmpl" = 0
method=$(pyj "$P-a" 'd["idmap"]["method"]')
range=$(pyj "$P-a" 'd["idmap"]["range"]')
check "inspect: idmap range $range, method $method" test "$range" = "$HOSTID:65536" -a -n "$method"
if kernel_ok; then check "inspect: on kernel $(uname -r) the template is an idmapped mount" test "$method" = idmapped-mount; fi
check "host: nothing of the container is mounted on the host" eval '! grep -qF "$D/state/containers" /proc/self/mountinfo'
cg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
mem=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>/dev/null)
check "host: its cgroup ($cg) has the memory limit ($mem)" test "$mem" = $((64 << 20))

# ---- health probes, logs ----------------------------------------------------------------------
wait_until 20 eval '[ "$(jget "$P-a" health)" = healthy ]'
check "health: the command probe (exec into the user namespace) reports healthy" test "$(jget "$P-a" health)" = healthy
wait_until 20 eval '[ "$(jget "$P-n" health)" = healthy ]'
check "health: the tcp probe of the bridged container reports healthy" test "$(jget "$P-n" health)" = healthy
check "logs: its output reaches berthctl logs" eval 'ctl logs "$P-a" 2>/dev/null | grep -q hello-from-a'

# ---- network -----------------------------------------------------------------------------------
out=$(x "$P-n" /bin/sh -c "ip -4 addr show eth0 | grep -o '$SUB.10'; ping -c1 -W2 $SUB.1 >/dev/null && echo ping-ok")
check "network: eth0 has $SUB.10 and reaches the gateway ($(oneline "$out"))" test "$(echo $out)" = "$SUB.10 ping-ok"
got=$(printf 'GET /index.html HTTP/1.0\r\n\r\n' | timeout 5 busybox nc -w 2 "$SUB.10" 80 2>/dev/null | tail -n1)
[ -n "$got" ] || got=$(timeout 5 "$PY" -c "
import socket; s = socket.create_connection(('$SUB.10', 80), 3); s.sendall(b'GET /index.html HTTP/1.0\r\n\r\n')
print(s.recv(4096).decode().splitlines()[-1])" 2>/dev/null)
check "network: the host reaches its httpd on $SUB.10 ($got)" test "$got" = hello

# ---- idmap = "auto" -----------------------------------------------------------------------------
rn=$(pyj "$P-n" 'd["idmap"]["host_uid"]') rb=$(pyj "$P-b" 'd["idmap"]["host_uid"]')
check "auto: two containers got ranges from the pool ($rn, $rb)" eval '[ -n "$rn" ] && [ -n "$rb" ] && [ "$rn" -ge 2100000000 ] && [ "$rb" -ge 2100000000 ] && [ "$rn" -lt 2100200000 ] && [ "$rb" -lt 2100200000 ]'
check "auto: the ranges are disjoint" eval '[ $((rn > rb ? rn - rb : rb - rn)) -ge 65536 ]'
check "auto: the ranges are recorded in the state directory" eval 'grep -qx "$P-n $rn" "$D/state/idmap/ranges" && grep -qx "$P-b $rb" "$D/state/idmap/ranges"'
pb=$(pid_of "$P-b")
check "auto: its process runs as its range's root on the host" test "$(awk '/^Uid:/ { print $2 }' "/proc/$pb/status")" = "$rb"

# ---- restart of a container, of berthd -----------------------------------------------------------
ctl restart "$P-a" "$P-b" >/dev/null 2>&1
wait_until 30 running "$P-a"; wait_until 30 running "$P-b"
pid2=$(pid_of "$P-a")
check "restart: a new init ($pid → $pid2)" test -n "$pid2" -a "$pid2" != "$pid"
out=$(x "$P-a" /bin/sh -c 'cat /root/persist; grep -c ^new: /etc/passwd')
check "restart: its changes are still there ($(oneline "$out"))" test "$(echo $out)" = "r 1"
check "restart: it runs as $HOSTID again" test "$(awk '/^Uid:/ { print $2 }' "/proc/$pid2/status" 2>/dev/null)" = "$HOSTID"
check "restart: the auto range is kept" test "$(pyj "$P-b" 'd["idmap"]["host_uid"]')" = "$rb"
daemon_stop
dstart
for n in "$P-a" "$P-n" "$P-b"; do wait_until 60 running "$n"; done
check "berthd restart: the auto ranges are kept" test "$(pyj "$P-n" 'd["idmap"]["host_uid"]'):$(pyj "$P-b" 'd["idmap"]["host_uid"]')" = "$rn:$rb"
check "berthd restart: exec still enters the user namespace" test "$(x "$P-b" id -u)" = 0
pb=$(pid_of "$P-b")
check "berthd restart: $P-b runs as $rb" test "$(awk '/^Uid:/ { print $2 }' "/proc/$pb/status" 2>/dev/null)" = "$rb"

# ---- destroy frees the block ---------------------------------------------------------------------
rm "$D/conf/$P-b.conf"
ctl reload >/dev/null 2>&1
wait_until 30 eval '[ "$(jget "$P-b" state)" = orphaned ]'
ctl destroy "$P-b" >/dev/null 2>&1
check "destroy: the block of $P-b is freed" eval '! grep -q "^$P-b " "$D/state/idmap/ranges"'
check "destroy: the block of $P-n is kept" grep -qx "$P-n $rn" "$D/state/idmap/ranges"
container "$P-c" 'autostart = true' 'idmap = "auto"' 'command = { "/bin/sleep", "100000" }'
ctl reload >/dev/null 2>&1
wait_until 60 running "$P-c"
check "auto: a new container takes the freed block ($(pyj "$P-c" 'd["idmap"]["host_uid"]'))" test "$(pyj "$P-c" 'd["idmap"]["host_uid"]')" = "$rb"

# ---- a bad pool ------------------------------------------------------------------------------------
out=$("$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run2" --idmap-pool 5:10 2>&1); rc=$?
check "berthd --idmap-pool 5:10 is refused with a reason ($(oneline "$out"))" eval '[ $rc = 2 ] && [[ "$out" == *"--idmap-pool: '"'"'5:10'"'"'"* ]]'

daemon_stop

# ---- the shifted copy, where the kernel cannot idmap the template -----------------------------------
mkdir -p "$ROOT/run/c"
cat > "$ROOT/run/c/c.conf" <<EOF
container $P-s {
    template = "busybox"
    idmap    = "2200000000:65536"
}
EOF
out=$(BERTH_IDMAP_METHOD=shifted-copy timeout -k 5 120 "$CTL" run --no-tty -c "$ROOT/run/c" --state-dir "$D/state" "$P-s" -- \
  /bin/sh -c 'id -u; ls -ln / | awk "\$9 == \"etc\" { print \$3, \$4 }"; echo x >> /etc/passwd && echo p-ok; touch /root/r /tmp/t && echo rt-ok; cat /proc/self/uid_map' </dev/null 2>&1)
check "shifted copy: root, 0 0, writes /etc/passwd, /root, /tmp ($(oneline "$out"))" \
  test "$(echo $out)" = "0 0 0 p-ok rt-ok 0 2200000000 65536"
copy=$D/state/idmap/copies/busybox@2200000000-65536
check "shifted copy: made once for the range, owned by it" test "$(stat -c %u "$copy/bin/busybox" 2>/dev/null)" = 2200000000
check "shifted copy: the template itself is untouched" test "$(stat -c %u "$D/state/templates/busybox/bin/busybox")" = 0

# ---- berthctl run with idmap = "auto": the block lives as long as the run --------------------------
mkdir -p "$ROOT/run/r"
printf 'container %s {\n    template = "busybox"\n    idmap = "auto"\n}\n' "$P-r" > "$ROOT/run/r/c.conf"
out=$(BERTH_IDMAP_POOL=$POOL timeout -k 5 120 "$CTL" run --no-tty -c "$ROOT/run/r" --state-dir "$D/state" "$P-r" -- \
  /bin/sh -c 'cat /proc/self/uid_map; id -u' </dev/null 2>&1)
read -r u0 uh un ui <<<"$(echo $out)"
check "run: idmap = auto maps root to a free block of the pool (${uh:-?}; berthd's hold $rn, $rb)" \
  eval '[ "${u0:-}" = 0 ] && [ "${uh:-0}" -ge 2100000000 ] && [ "${uh:-0}" != "$rn" ] && [ "${uh:-0}" != "$rb" ] && [ "${un:-}" = 65536 ] && [ "${ui:-}" = 0 ]'
check "run: its block is freed when the run ends" eval '! grep -q "^$P-r " "$D/state/idmap/ranges"'

# ---- berthd --default-idmap; idmap + devices + a secret in one container ---------------------------
# The default goes to definitions without idmap (here with a device and a
# secret, a combination once seen failing: started and restarted several
# times); idmap = "none" opts out.
env_new dflt
printf 'sesame-%s\n' "$P" > "$D/secret"
chmod 0600 "$D/secret"
container "$P-d" 'autostart = true' 'command = { "/bin/sh", "-c", "while :; do sleep 1; done" }' \
  'device "/dev/fuse" { access = "rw" }' 'device "c 10:200" { path = "/dev/net/tun" }' \
  "secret key { source = \"$D/secret\"  target = \"/run/secrets/key\" }" 'user = "1000:1000"'
container "$P-o" 'autostart = true' 'idmap = "none"' 'command = { "/bin/sleep", "100000" }'
"$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --idmap-pool 2300000000:131072 \
  --default-idmap auto >>"$D/berthd.log" 2>&1 &
DPID=$!; DPIDS+=("$DPID")
wait_until "$START_TIMEOUT" daemon_up
dev_secret_ok() { # NAME: the devices open, the secret reads, as the mapped user
  local out
  out=$(ctl exec "$1" -- /bin/sh -c 'exec 3<>/dev/fuse && exec 4<>/dev/net/tun && echo devs; cat /run/secrets/key; stat -c %a:%u /run/secrets/key; id -u' 2>&1)
  [ "$(echo $out)" = "devs sesame-$P 400:1000 1000" ] || { note "$1: $(oneline "$out")"; return 1; }
}
if wait_until 60 running "$P-d" && wait_until 30 running "$P-o"; then
  check "default: a definition without idmap gets a block of the pool ($(pyj "$P-d" 'd["idmap"]["range"]'))" \
    test "$(pyj "$P-d" 'd["idmap"]["range"]'):$(pyj "$P-d" 'd["idmap"]["default"]')" = "2300000000:65536:True"
  check "default: its init's uid_map is the block" \
    test "$(echo $(cat "/proc/$(pid_of "$P-d")/uid_map" 2>/dev/null))" = "0 2300000000 65536"
  check "default: idmap = \"none\" keeps a container in the host's user namespace" \
    test "$(echo $(cat "/proc/$(pid_of "$P-o")/uid_map" 2>/dev/null)):$(pyj "$P-o" 'd["idmap"]')" = "0 0 4294967295:None"
  check "idmap + devices + secret: the devices open and user 1000 reads its 0400 secret" dev_secret_ok "$P-d"
  bad=0
  for i in 1 2 3 4 5; do
    ctl restart "$P-d" >/dev/null 2>&1
    if ! wait_until 30 running "$P-d" || ! dev_secret_ok "$P-d"; then
      bad=$i; note "restart $i: $(jget "$P-d" state) $(jget "$P-d" error)"; break
    fi
  done
  check "idmap + devices + secret: five restarts, each with its devices and secret" test "$bad" = 0
  container "$P-o" 'autostart = true' 'command = { "/bin/sleep", "100000" }'
  out=$(ctl plan 2>&1)
  check "plan: dropping idmap = \"none\" under --default-idmap restarts for idmap ($(oneline "$out"))" \
    eval 'printf "%s\n" "$out" | grep "$P-o" | grep -q idmap'
else
  nok "default: the containers run ($(jget "$P-d" state): $(jget "$P-d" error); $(jget "$P-o" state): $(jget "$P-o" error))"
fi
daemon_stop
out=$("$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run2" --default-idmap 0:10 2>&1); rc=$?
check "berthd --default-idmap 0:10 is refused with a reason ($(oneline "$out"))" \
  eval '[ $rc = 2 ] && [[ "$out" == *"--default-idmap: '"'"'0:10'"'"'"* ]]'

daemon_finish ""
exit $fail
