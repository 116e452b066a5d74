#!/bin/bash
# boot-guest-criu20.sh — run by boot-guest.sh inside the boot-test VM
# (Debian 12, its 6.1 kernel, systemd, berthd.service): checkpoint and
# restore with CRIU (issue 20). A counter written by a shell loop inside a
# container goes on without a reset across `berthctl checkpoint` and
# `berthctl start --from-checkpoint`, and the container's TCP listener (busybox
# httpd on 198.18.20.5:7000 of network crnet) answers after the restore,
# with the same address. Prints "ok boot: criu: ..." / "not ok boot: criu: ...";
# exits 1 on a failure. On a failure, CRIU's logs are shown.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok boot: criu: $*"; }
nok() { echo "not ok boot: criu: $*"; fail=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
cpid() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"pid":[0-9]*' | head -n1 | cut -d: -f2; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -n1 | cut -d'"' -f4; }
http_get() { timeout 10 bash -c 'exec 3<>/dev/tcp/$1/$2 && printf "GET /$3 HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$@" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
S=/var/lib/berth/snapshots/crcount
showlog() { # the errors and the tail of a CRIU log
  [ -f "$1" ] || { echo "# criu: no $1"; return; }
  grep -E 'Error|Warn' "$1" | head -n 25 | sed "s|^|# $(basename "$1"): |"
  tail -n 15 "$1" | sed "s|^|# $(basename "$1") tail: |"
}
echo "# criu: $(criu --version | head -n1)"
# CRIU's kerndat probes create an nftables table: the modules must load.
for m in nf_tables nft_ct nft_compat; do modprobe "$m" 2>&1 | sed "s/^/# modprobe $m: /"; done
out=$(criu check 2>&1); rc=$?
check "criu check passes on $(uname -r) ($(echo "$out" | tail -n1))" test $rc = 0
[ $rc = 0 ] || echo "$out" | tail -n 8 | sed 's/^/# criu check: /'

mkdir -p /etc/containers.d
cat > /etc/containers.d/crcount.conf <<'C'
network crnet {
    subnet  = "198.18.20.0/24"
    gateway = "198.18.20.1"
}
container crcount {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "mkdir -p /www; dd if=/dev/zero bs=32M count=1 2>/dev/null | sleep 1000000 & i=0; while :; do i=$((i+1)); echo $i > /www/count; echo count $i; sleep 0.5; done & exec httpd -f -p 7000 -h /www" }
    init      = false
    autostart = true
    restart   = "on-failure"
    network { bridge = "crnet"  address = "198.18.20.5" }
    limits { memory = 128M  pids = 64 }
    health { tcp = 7000  http = "/count"  interval = 2s  timeout = 1s }
}
C
systemctl reload berthd
check "crcount runs" until_ok 60 sh -c '[ "$(berthctl inspect crcount 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)" = running ]'
check "its listener answers on 198.18.20.5:7000" until_ok 20 sh -c "[ -n \"\$(bash -c 'exec 3<>/dev/tcp/198.18.20.5/7000 && printf \"GET /count HTTP/1.0\r\n\r\n\" >&3 && cat <&3' 2>/dev/null)\" ]"
pid=$(cpid crcount)
# The httpd's pid inside the container's pid namespace (the last NSpid field).
hpid() { local p i; i=$(cpid crcount); for p in $(pgrep -x httpd); do [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$i/ns/pid)" ] && awk '/^NSpid:/ {print $NF}' /proc/$p/status; done | head -n1; }
hp0=$(hpid)
check "crcount is healthy before the checkpoint" until_ok 30 sh -c '[ "$(berthctl ls | awk "\$1 == \"crcount\" {print \$3}")" = healthy ]'
echo "# init $pid: fds $(ls -l /proc/$pid/fd 2>/dev/null | awk 'NR>1 {print $9 $10 $11}' | tr '\n' ' ')"
sleep 2
before=$(http_get 198.18.20.5 7000 count)
# (init = true: boot-guest-init20.sh; a memfd init's refusal is checked there too)
t0=$(date +%s%N)
out=$(timeout 300 berthctl checkpoint crcount ck1 2>&1); rc=$?
t1=$(date +%s%N)
echo "# criu: checkpoint of crcount (32 MiB dirty in dd) took $(( (t1 - t0) / 1000000 )) ms"
check "berthctl checkpoint crcount ck1 ($(echo "$out" | tr '\n' ' ' | head -c 600))" test $rc = 0
if [ $rc != 0 ]; then
  showlog $S/.criu-ck1/dump.log
  grep -E '^[0-9]+ ' /proc/"$pid"/mountinfo 2>/dev/null | head -n 30 | sed 's/^/# mountinfo: /'
else
  c1=$(cat /var/lib/berth/containers/crcount/upper/www/count 2>/dev/null)
  check "the container stopped with the checkpoint (state $(cstate crcount))" until_ok 20 sh -c '[ "$(berthctl inspect crcount | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)" = stopped ]'
  check "snapshot ls shows ck1 as a checkpoint" sh -c 'berthctl snapshot ls crcount | grep -q "ck1.*checkpoint"'
  check "its images are there (pstree.img)" test -f $S/ck1/criu/pstree.img
  check "the counter is stopped (count $c1, was $before before)" sh -c "sleep 1.5; [ \"\$(cat /var/lib/berth/containers/crcount/upper/www/count)\" = '$c1' ]"
  echo "# criu: images $(du -sk $S/ck1/criu | cut -f1) KiB"
  t0=$(date +%s%N)
  out=$(timeout 300 berthctl start --from-checkpoint ck1 crcount 2>&1); rc=$?
  t1=$(date +%s%N)
  echo "# criu: start --from-checkpoint of crcount took $(( (t1 - t0) / 1000000 )) ms"
  check "berthctl start --from-checkpoint ck1 crcount ($(echo "$out" | tr '\n' ' ' | head -c 600))" test $rc = 0
  if [ $rc != 0 ]; then
    showlog $S/ck1/criu/restore.log
    journalctl -u berthd -o cat --no-pager -n 20 | sed 's/^/# berthd: /'
  else
    check "it runs under its monitor: state running, a new init pid" sh -c "[ \"\$(berthctl inspect crcount | tr -d ' \n' | grep -o '\"state\":\"[a-z]*\"' | head -n1 | cut -d'\"' -f4)\" = running ]"
    sleep 2
    after=$(http_get 198.18.20.5 7000 count)
    check "the listener answers on the same address after the restore, and the counter went on from $c1 (now '$after')" \
      sh -c "[ -n '$after' ] && [ '$after' -gt '$c1' ] && [ '$after' -lt \$(( $c1 + 30 )) ]"
    # (count c1 + 2 can only come from the restored loop: it was dumped after c1)
    check "the restored counter's output reaches berthctl logs (count $((c1 + 2)))" \
      until_ok 10 sh -c "berthctl logs crcount | grep -q 'count $((c1 + 2))\$'"
    npid=$(cpid crcount)
    check "the httpd has the same pid inside the container ($hp0, now '$(hpid)')" test -n "$hp0" -a "$(hpid)" = "$hp0"
    check "the health checks go on after the restore: healthy ($(berthctl ls | awk '$1 == "crcount"'))" \
      until_ok 30 sh -c '[ "$(berthctl ls | awk "\$1 == \"crcount\" {print \$3}")" = healthy ]'
    check "the restored init is the monitor's child" sh -c "[ \"\$(ps -o comm= -p \$(ps -o ppid= -p $npid))\" = berth-monitor ]"
    check "its cgroup is berth's, with the memory limit (128M)" sh -c "cg=\$(sed -n 's/^0:://p' /proc/$npid/cgroup); [ \"\$(cat /sys/fs/cgroup\$cg/memory.max)\" = 134217728 ]"
    check "inside, its cgroup namespace is rooted at its cgroup (/proc/1/cgroup: $(berthctl exec crcount -- cat /proc/1/cgroup | tr '\n' ' '))" \
      sh -c '[ "$(berthctl exec crcount -- cat /proc/1/cgroup)" = "0::/" ]'
    check "the 32 MiB dd buffer came back (dd's RSS $(ps -o rss= -C dd | head -n1) KiB)" sh -c '[ "$(ps -o rss= -C dd | sort -n | tail -n1)" -gt 30000 ]'
    check "berthctl exec joins the restored container" sh -c '[ "$(berthctl exec crcount -- cat /www/count)" -gt 0 ]'
    kill -KILL "$npid"
    check "supervision continues: killed, it is restarted (restart = on-failure)" \
      until_ok 30 sh -c "p=\$(berthctl inspect crcount | tr -d ' \n' | grep -o '\"pid\":[0-9]*' | head -n1 | cut -d: -f2); [ -n \"\$p\" ] && [ \"\$p\" != 0 ] && [ \"\$p\" != $npid ]"
  fi
fi
rm -f /etc/containers.d/crcount.conf
systemctl reload berthd
exit $fail
