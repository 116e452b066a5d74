#!/bin/bash
# boot-guest.sh — runs inside the boot-test VM (Debian 12, systemd as PID 1),
# started by berth-boottest.service after berthd.service. Checks berthd under
# systemd and prints "ok boot: ..." / "not ok boot: ..." on the second
# serial port; ends with "VM-RESULT: rc=N" and powers off.
exec > /dev/ttyS1 2>&1
stty -F /dev/ttyS1 raw -echo -onlcr 2>/dev/null
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok boot: $*"; }
nok() { echo "not ok boot: $*"; fail=1; }
# After a failure: what systemd and berthd said lately.
dump() {
  systemctl status berthd --no-pager 2>&1 | sed -n '3p;5p;9,10p' | sed 's/^/# status: /'
  journalctl -o short-monotonic --no-pager -n 300 | grep -E 'berthd|berth-' | grep -v 'kernel:' | tail -n 15 | sed 's/^/# /'
}
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; dump; fi; }
prop() { systemctl show -P "$2" "$1"; }
cpid() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"pid":[0-9]*' | head -n1 | cut -d: -f2; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -n1 | cut -d'"' -f4; }
# waits (at most $1 s) until the command succeeds
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
running() { for c in "$@"; do [ "$(cstate "$c")" = running ] || return 1; done; }
journal() { timeout 20 journalctl -u berthd -o cat --no-pager "$@"; }
echo "# guest: $(uname -r), $(systemctl --version | head -n1), cgroup $(stat -fc %T /sys/fs/cgroup)"

# --- start at boot ---------------------------------------------------------
until_ok 120 sh -c '[ "$(systemctl is-active berthd)" != activating ]'
check "berthd.service active (READY=1) at boot" [ "$(systemctl is-active berthd)" = active ]
t0=$(prop berthd ExecMainStartTimestampMonotonic); t1=$(prop berthd ActiveEnterTimestampMonotonic)
[ -n "$t0" ] && [ -n "$t1" ] && echo "# boot: berthd start to READY: $(( (t1 - t0) / 1000 )) ms (first start builds the busybox template)"
echo "# boot: userspace up at $(cut -d' ' -f1 /proc/uptime) s after kernel start"
finish() {
  ip netns del btboot 2>/dev/null
  echo "VM-RESULT: rc=$fail"
  sync
  systemctl poweroff --force --force
  exit
}
if until_ok 30 running web probe; then ok "web and probe running"
else nok "web and probe running: $(berthctl ls 2>&1 | tr '\n' ' ')"; dump; finish; fi
# --- cgroups: a systemd scope per container; berthd's own cgroup a plain leaf ---
wcg=$(sed -n 's/^0:://p' /proc/"$(cpid web)"/cgroup)
check "web runs in its own scope (cgroup $wcg)" sh -c "case '$wcg' in /machine.slice/berth-web.scope/*) true;; *) false;; esac"
check "systemd has berth-web.scope and berth-probe.scope active" \
  sh -c '[ "$(systemctl is-active berth-web.scope berth-probe.scope | sort -u)" = active ]'
check "web's limits in its cgroup (memory.max 64M, pids.max 128)" \
  sh -c "[ \"\$(cat /sys/fs/cgroup$wcg/memory.max)/\$(cat /sys/fs/cgroup$wcg/pids.max)\" = 67108864/128 ]"
svc=/sys/fs/cgroup$(prop berthd ControlGroup)
# berthd and its probe spawner (berthd-probes, its child, forked at start);
# a probe's or a start's process may pass through: wait for those two alone.
svc_only_berthd() { # MAINPID
  local p n=0
  for p in $(cat "$svc/cgroup.procs"); do
    if [ "$p" = "$1" ]; then n=$((n + 1))
    elif [ "$(cat "/proc/$p/comm" 2>/dev/null)" != berthd-probes ] || \
         [ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" != "$1" ]; then return 1
    fi
  done
  [ "$n" = 1 ] && [ -z "$(cat "$svc/cgroup.subtree_control")" ]
}
check "berthd.service's cgroup holds berthd (and its probe spawner) alone and enables no controller" \
  until_ok 15 svc_only_berthd "$(prop berthd MainPID)"
order=$(journal | sed -n 's/^\([a-z]*\): started:.*/\1/p' | tr '\n' ' ')
check "started in order web, probe (got: $order)" [ "$order" = "web probe " ]
check "the status line counts 2 running" sh -c 'systemctl status berthd | grep -q "Status: \"2 running"'
# bash's /dev/tcp: the static busybox wget crashes in glibc's NSS on a full Debian.
http_get() { # host port
  timeout 10 bash -c 'exec 3<>/dev/tcp/$1/$2 && printf "GET / HTTP/1.0\r\nHost: x\r\n\r\n" >&3 && cat <&3' _ "$1" "$2" 2>&1 \
    | tr -d '\r' | sed '1,/^$/d'
}
journalctl -u berthd -o short-monotonic --no-pager | grep -vE 'kernel:' | head -n 12 | sed 's/^/# first start: /'
page=$(http_get 198.18.0.10 80)
check "web serves its page on lan0" [ "$page" = "hello from berth" ]
# Published port 8080, from another network namespace routed through the host.
ip netns add btboot && ip link add btboot-h type veth peer name btboot-c netns btboot \
  && ip addr add 198.19.255.1/30 dev btboot-h && ip link set btboot-h up \
  && ip -n btboot addr add 198.19.255.2/30 dev btboot-c && ip -n btboot link set btboot-c up \
  && ip -n btboot route add default via 198.19.255.1
page=$(export -f http_get; ip netns exec btboot bash -c 'http_get 198.19.255.1 8080')
check "published port 8080 reaches web from another netns" [ "$page" = "hello from berth" ]
check "probe fetches web by name" until_ok 15 sh -c 'berthctl logs probe 2>/dev/null | grep -q "^ok"'
# checkpoint/restore (issue 20, docs/design.md "Checkpoint and restore"):
# on unless BOOT_CRIU=0 bash tests/vm/boot-test.sh.
if [ -e /etc/berth-boot-criu ]; then
  /usr/local/sbin/berth-boot-guest-criu20 || fail=1
  /usr/local/sbin/berth-boot-guest-live20 || fail=1 # migrate --live to a second berthd
  # init = true containers (berth's init from berthd's read-only copy)
  /usr/local/sbin/berth-boot-guest-init20 || fail=1
  # stateful-stop: checkpoint at systemctl stop berthd, restore at start (stops and starts berthd)
  /usr/local/sbin/berth-boot-guest-stateful20 || fail=1
  # BOOT_LXC=1: berth's checkpoint/restore times next to lxc-checkpoint's (a benchmark)
  [ ! -e /etc/berth-boot-lxc ] || /usr/local/sbin/berth-boot-guest-lxcck20 || fail=1
fi

# --- reload ----------------------------------------------------------------
w0=$(cpid web); p0=$(cpid probe)
sed -i 's/sleep 5/sleep 4/' /etc/containers.d/probe.conf
check "systemctl reload berthd succeeds" systemctl reload berthd
check "probe restarted with its new command" until_ok 20 sh -c "[ \"\$(berthctl inspect probe | tr -d ' \n' | grep -o '\"pid\":[0-9]*' | head -n1 | cut -d: -f2)\" != $p0 ] && berthctl inspect probe | grep -q running"
check "web untouched by the reload (pid $w0)" [ "$(cpid web)" = "$w0" ]
echo 'container broken { template = "busybox" command = { "/bin/true" } bogus = 1 }' > /etc/containers.d/broken.conf
w1=$(cpid web); p1=$(cpid probe)
if systemctl reload berthd 2>/dev/null; then nok "reload of invalid definitions fails"; else ok "reload of invalid definitions fails"; fi
rm -f /etc/containers.d/broken.conf
check "berthd still active after a refused reload" [ "$(systemctl is-active berthd)" = active ]
check "nothing changed by the refused reload" [ "$(cpid web)/$(cpid probe)" = "$w1/$p1" ]

# --- OOM: recorded although systemd removes an emptied scope's cgroup at once ---
since=$(date '+%Y-%m-%d %H:%M:%S')
cat > /etc/containers.d/hog.conf <<'C'
container hog {
  template  = "busybox"
  command   = { "/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived" }
  autostart = true
  restart   = "no"
  network { mode = "none" }
  limits { memory = 16M }
}
C
check "reload starts the memory hog" systemctl reload berthd
check "the hog's OOM kill is reported (event oom, exit 137)" \
  until_ok 60 sh -c "journalctl -u berthd -o cat --no-pager --since '$since' | grep -q '^hog: oom' && journalctl -u berthd -o cat --no-pager --since '$since' | grep -q '^hog: exited: status 137'"
check "berthctl inspect hog says why" sh -c 'berthctl inspect hog | grep -q "OOM killer"'
check "the hog's scope is gone" until_ok 15 sh -c '[ -z "$(systemctl list-units --all --no-legend "berth-hog*.scope")" ]'
rm -f /etc/containers.d/hog.conf
check "reload removes the hog" systemctl reload berthd

# --- berthctl run: a scope of its own; the caller's cgroup is left alone -------
mycg=$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p /tmp/runconf
cat > /tmp/runconf/one.conf <<'C'
container one {
  template = "busybox"
  command  = { "/bin/sleep", "4" }
  network { mode = "none" }
  limits { memory = 32M }
}
C
berthctl run -c /tmp/runconf --no-tty one > /tmp/run.out 2>&1 &
runpid=$!
check "berthctl run gets berth-run-one.scope" until_ok 30 sh -c '[ "$(systemctl is-active berth-run-one.scope)" = active ]'
check "its container's limit is in the scope (memory.max 32M)" \
  until_ok 10 sh -c '[ "$(cat /sys/fs/cgroup/machine.slice/berth-run-one.scope/berth/one/memory.max)" = 33554432 ]'
wait $runpid; rc=$?
check "berthctl run exits 0 (got $rc: $(tr '\n' ' ' < /tmp/run.out))" [ "$rc" = 0 ]
check "the caller stayed in its cgroup, nothing was claimed there" \
  sh -c "[ \"\$(sed -n 's/^0:://p' /proc/self/cgroup)\" = '$mycg' ] && [ ! -e /sys/fs/cgroup$mycg/supervisor ]"

# --- stop: every container, in reverse order ----------------------------------
w=$(cpid web); p=$(cpid probe)
since=$(date '+%Y-%m-%d %H:%M:%S')
check "systemctl stop berthd" systemctl stop berthd
order=$(journal --since "$since" | sed -n 's/^\([a-z]*\): exited:.*/\1/p' | tr '\n' ' ')
check "stopped in reverse order probe, web (got: $order)" [ "$order" = "probe web " ]
check "no container process left" sh -c "! kill -0 $w 2>/dev/null && ! kill -0 $p 2>/dev/null"
check "bridge lan0 removed" sh -c '! ip link show lan0 >/dev/null 2>&1'
left=$(systemd-cgls --no-pager -u berthd.service 2>/dev/null | grep -c -E '^[^a-zA-Z]*[0-9]+ ' || true)
check "berthd.service cgroup empty after stop" [ "$left" = 0 ]
check "no berth scope left after stop" until_ok 15 sh -c '[ -z "$(systemctl list-units --all --no-legend "berth-*.scope")" ]'

check "systemctl start berthd again after a stop" sh -c 'systemctl start berthd && [ "$(systemctl is-active berthd)" = active ]'
check "web and probe running again" until_ok 60 running web probe

# --- shutdown order: berthd and the scopes stopped in one transaction, as at
# shutdown: the scopes are ordered before berthd.service, so berthd stops first
# and stops the containers itself, in reverse order, before systemd would.
if until_ok 30 running web probe; then
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl stop berthd.service berth-web.scope berth-probe.scope
lines=$(journal --since "$since" | grep -E '^(stopping: all containers|[a-z]+: exited:)' | cut -d: -f1 | tr '\n' ' ')
check "one stop transaction of berthd and the scopes: berthd stops the containers, in reverse order (got: $lines)" \
  [ "$lines" = "stopping probe web " ]
check "systemctl start berthd after that" sh -c 'systemctl start berthd && [ "$(systemctl is-active berthd)" = active ]'
check "web and probe running again" until_ok 60 running web probe
fi

# The rest needs a running berthd.
need_berthd() {
  [ "$(systemctl is-active berthd)" = active ] && return 0
  nok "$1: skipped, berthd.service is not active"; return 1
}
# --- crash: SIGKILL to berthd only; systemd restarts it -----------------------
if need_berthd "crash and re-adoption"; then
w=$(cpid web); p=$(cpid probe); m=$(prop berthd MainPID); n=$(prop berthd NRestarts)
systemctl kill --kill-who=main -s KILL berthd
check "systemd restarts berthd after SIGKILL" until_ok 60 sh -c "[ \"\$(systemctl show -P NRestarts berthd)\" -gt $n ] && [ \"\$(systemctl is-active berthd)\" = active ]"
[ "$(prop berthd MainPID)" != "$m" ] || nok "berthd has a new MainPID"
check "containers survived the crash" sh -c "kill -0 $w && kill -0 $p"
check "re-adopted: web pid $w, probe pid $p" [ "$(cpid web)/$(cpid probe)" = "$w/$p" ]
journal -n 30 | grep -i "adopt" | tail -n 2 | sed 's/^/# /'

fi

# --- systemctl restart: containers survive (RestartKillSignal=SIGUSR2) --------
if need_berthd "systemctl restart"; then
w=$(cpid web); p=$(cpid probe)
check "systemctl restart berthd" systemctl restart berthd
check "containers survived systemctl restart (same pids)" [ "$(cpid web)/$(cpid probe)" = "$w/$p" ]

fi

# --- watchdog: a hung berthd is aborted and restarted -------------------------
if need_berthd "watchdog"; then
w=$(cpid web); p=$(cpid probe); m=$(prop berthd MainPID); n=$(prop berthd NRestarts)
since=$(date '+%Y-%m-%d %H:%M:%S')
kill -STOP "$m"
check "watchdog fires on a stopped berthd and systemd restarts it" until_ok 60 sh -c "[ \"\$(systemctl show -P NRestarts berthd)\" -gt $n ] && [ \"\$(systemctl is-active berthd)\" = active ]"
check "journal says watchdog timeout" sh -c "journalctl -u berthd --no-pager --since '$since' | grep -qi 'watchdog timeout'"
check "containers survived the watchdog (same pids)" [ "$(cpid web)/$(cpid probe)" = "$w/$p" ]
fi

. /usr/local/sbin/berth-boot-guest-jrn21 # journald log driver, systemd-machined (issue 21)

finish
