#!/bin/bash
# Integration test of issue 18's first settings: read-only-root, sysctl,
# rlimits, io-max and env-file. `berthctl check` reports each bad value at
# FILE:LINE; a container started by a private berthd sees its sysctl (the
# host's unchanged), its limits, a read-only root with a writable /tmp and
# /run, the env file's values under env's; its blkio throttle files on the
# host hold the limits; a reload changes io-max live (same PID) and
# restarts the container when the env file's content changed. Its own
# berthd on private conf/run/state directories below one mktemp -d,
# containers named set18a<pid>-*; the EXIT trap stops berthd, kills what is
# left of its monitors and containers and removes leftover cgroups and the
# temp dir.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="set18a: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=set18a$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/set18a.XXXXXX)
STATE_DIR='' SHARED_MODE='' START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""

# The block device of / and the major:minor throttling uses (a partition's disk).
rootdev=$(findmnt -no SOURCE / | head -n1)
if [ ! -b "$rootdev" ]; then
  rootdev=$(awk '$2 == "/" { print $1; exit }' /proc/mounts)
fi
devnum() {
  local d=$1 mm
  mm=$(printf '%d:%d' "0x$(stat -L -c %t "$d")" "0x$(stat -L -c %T "$d")")
  if [ -e "/sys/dev/block/$mm/partition" ]; then mm=$(cat "/sys/dev/block/$mm/../dev"); fi
  echo "$mm"
}

# ---- check: every bad value at its FILE:LINE ----------------------------------------------
env_new check
cat > "$D/bad.env" <<'EOF'
# a comment, then a good line
GOOD=1
not a setting
EOF
cat > "$D/conf/bad.conf" <<EOF
container $P-bad {
    template = "busybox"
    sysctl {
        vm.swappiness = 10
        net.ipv4.ip_forward = 1
    }
    rlimits {
        openfiles = 10
        nofile = -1
        nproc = "20:10"
    }
    env-file = "$D/bad.env"
    io-max {
        device = "$D/no-such-device"
        rbps = 1M
    }
}
container $P-bad2 {
    template = "busybox"
    network { mode = "host" }
    sysctl { net.core.somaxconn = 100 }
    io-max { device = "/dev/null"
        wbps = 1M }
    env-file = "$D/no-such.env"
}
EOF
out=$("$CTL" check -c "$D/conf" --state-dir "$D/state" 2>&1); rc=$?
f=$D/conf/bad.conf
check "check fails on the bad values" test "$rc" != 0
has() { printf '%s\n' "$out" | grep -qF -- "$1"; }
check "a host-wide sysctl is an error at its line" has "$f:4: sysctl: 'vm.swappiness' is not namespaced"
check "a namespaced sysctl is accepted" eval '! has "$f:5:"'
check "an unknown rlimit is an error at its line" has "$f:8: rlimits: 'openfiles' is not a resource limit"
check "a negative rlimit is an error at its line" has "$f:9: rlimits.nofile: '-1' is not a limit"
check "a soft limit above the hard one is an error" has "$f:10: rlimits.nproc: '20:10': the soft limit is above the hard limit"
check "a bad env-file line is an error at the env file's line" has "$D/bad.env:3: env-file of container '$P-bad': 'not a setting' is not NAME=VALUE"
check "a missing io-max device is an error at its line" has "$f:14: io-max.device: '$D/no-such-device': No such file or directory"
check "net.* with the host's network is an error" has "$f:21: sysctl: 'net.core.somaxconn' needs a network namespace"
check "a device that is no block device is an error" has "$f:22: io-max.device: '/dev/null' is not a block device"
check "a missing env-file is an error at its line" has "$f:24: env-file: cannot read '$D/no-such.env'"
[ "$fail" = 0 ] || note "$(printf '%s\n' "$out" | head -20)"

# ---- a running container -------------------------------------------------------------------
env_new run
host_ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)
want_ttl=$((host_ttl == 99 ? 98 : 99))
printf '# the web env\nFROMFILE=one\nBOTH=file\n\n' > "$D/web.env"
rb=50M
write_conf() {
  local iomax=
  [ -z "$rb" ] || iomax="io-max { device = \"$rootdev\"  rbps = $rb  wiops = 100 }"
  container "$P-a" 'autostart = true' 'read-only-root = true' "env-file = \"$D/web.env\"" 'env = { "BOTH=env" }' \
    "sysctl { net.ipv4.ip_default_ttl = $want_ttl" '    kernel.shmmax = 123456789 }' \
    'rlimits { nofile = "1024:4096"  core = 0  nproc = 512 }' \
    "$iomax" \
    "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }" \
    'command = { "/bin/sh", "-c", "cat /proc/sys/net/ipv4/ip_default_ttl /proc/sys/kernel/shmmax > /shared/sysctl; cat /proc/self/limits > /shared/limits; ulimit -n > /shared/ulimit; touch /x 2>/shared/touch; echo $? > /shared/touch_rc; touch /tmp/t /run/t && echo writable > /shared/tmp; echo \"$FROMFILE $BOTH\" > /shared/env.tmp; mv /shared/env.tmp /shared/env; while :; do sleep 1; done" }'
}
write_conf
daemon_start
check "the container runs" wait_until 30 state_is "$P-a" running
check "it wrote what it sees" wait_until 20 test -s "$D/shared/env"
check "sysctl: net.ipv4.ip_default_ttl is $want_ttl inside" eval '[ "$(sed -n 1p "$D/shared/sysctl" 2>/dev/null)" = "$want_ttl" ]'
check "sysctl: kernel.shmmax is set inside" eval '[ "$(sed -n 2p "$D/shared/sysctl" 2>/dev/null)" = 123456789 ]'
check "sysctl: the host's ip_default_ttl is unchanged ($host_ttl)" test "$(cat /proc/sys/net/ipv4/ip_default_ttl)" = "$host_ttl"
check "rlimits: ulimit -n is 1024" test "$(cat "$D/shared/ulimit" 2>/dev/null)" = 1024
check "rlimits: open files 1024:4096 in /proc/self/limits" grep -qE '^Max open files +1024 +4096 ' "$D/shared/limits"
check "rlimits: core 0:0" grep -qE '^Max core file size +0 +0 ' "$D/shared/limits"
check "rlimits: processes 512:512" grep -qE '^Max processes +512 +512 ' "$D/shared/limits"
check "read-only-root: touch / fails ($(oneline "$(cat "$D/shared/touch" 2>/dev/null)"))" \
  eval '[ "$(cat "$D/shared/touch_rc" 2>/dev/null)" != 0 ] && grep -q "Read-only file system" "$D/shared/touch"'
check "read-only-root: /tmp and /run are writable" test "$(cat "$D/shared/tmp" 2>/dev/null)" = writable
check "env-file: values from the file, env wins over it" test "$(cat "$D/shared/env" 2>/dev/null)" = "one env"

insp=$(inspect "$P-a" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)["definition"]
print(d["read_only_root"], d["rlimits"].get("nofile"), d["io_max"]["rbps"], d["sysctl"][0], d["env_file"] == sys.argv[1])' "$D/web.env" 2>&1)
check "inspect shows the settings ($(oneline "$insp"))" test "$insp" = "True 1024:4096 52428800 net.ipv4.ip_default_ttl=$want_ttl True"
out=$(ctl exec "$P-a" -- /bin/sh -c 'ulimit -n; ulimit -Hn' 2>&1)
check "rlimits: berthctl exec gets the container's limits ($(oneline "$out"))" test "$(oneline "$out")" = "1024 4096"

# The throttle files of the container's blkio cgroup on the host.
mm=$(devnum "$rootdev")
blkio=
for b in $(berth_cgroup_dirs); do [ -f "$b/$P-a/blkio.throttle.read_bps_device" ] && blkio=$b/$P-a; done
if [ -n "$blkio" ]; then
  check "io-max: read_bps_device holds $mm 52428800" grep -qx "$mm 52428800" "$blkio/blkio.throttle.read_bps_device"
  check "io-max: write_iops_device holds $mm 100" grep -qx "$mm 100" "$blkio/blkio.throttle.write_iops_device"
  check "io-max: nothing in write_bps_device" test -z "$(cat "$blkio/blkio.throttle.write_bps_device")"
else
  io=
  for b in $(berth_cgroup_dirs); do [ -f "$b/$P-a/io.max" ] && io=$b/$P-a/io.max; done
  check "io-max: io.max holds $mm rbps=52428800" grep -q "^$mm rbps=52428800 wbps=max riops=max wiops=100" "$io"
fi

# A live change of io-max: the same process, the new limit.
pid=$(pid_of "$P-a")
rb=60M
write_conf
plan=$(ctl plan 2>&1)
check "plan: io-max is updated live ($(oneline "$plan"))" eval 'printf "%s" "$plan" | grep -q "io-max.rbps 50M → 60M"'
ctl reload >/dev/null 2>&1
if [ -n "$blkio" ]; then
  check "io-max: reload wrote $mm 62914560" wait_until 10 grep -qx "$mm 62914560" "$blkio/blkio.throttle.read_bps_device"
else
  check "io-max: reload wrote rbps=62914560" wait_until 10 grep -q "^$mm rbps=62914560" "$io"
fi
check "io-max: the PID stays ($pid)" test "$(pid_of "$P-a")" = "$pid"

# Without io-max the device is released, still live.
rb=
write_conf
ctl reload >/dev/null 2>&1
if [ -n "$blkio" ]; then
  check "io-max: removed, read_bps_device and write_iops_device are empty" \
    wait_until 10 eval '[ -z "$(cat "$blkio/blkio.throttle.read_bps_device" "$blkio/blkio.throttle.write_iops_device")" ]'
else
  check "io-max: removed, io.max has no line for $mm" wait_until 10 eval '! grep -q "^$mm " "$io"'
fi
check "io-max: the PID still stays ($pid)" test "$(pid_of "$P-a")" = "$pid"

# A change of the env file's content restarts the container.
printf 'FROMFILE=two\nBOTH=file\n' > "$D/web.env"
plan=$(ctl plan 2>&1)
check "plan: the env file's content restarts it ($(oneline "$plan"))" eval 'printf "%s" "$plan" | grep -q "env-file content"'
rm -f "$D/shared/env"
ctl reload >/dev/null 2>&1
check "env-file: after the reload the container sees the new value" \
  wait_until 30 eval '[ "$(cat "$D/shared/env" 2>/dev/null)" = "two env" ]'
check "env-file: it was restarted (a new PID)" eval '[ "$(pid_of "$P-a")" != "$pid" ]'

ctl stop "$P-a" >/dev/null 2>&1
check "it stops" wait_until 30 state_is "$P-a" stopped
daemon_stop
daemon_finish ""
exit $fail
