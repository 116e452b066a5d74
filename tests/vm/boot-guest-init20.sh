#!/bin/bash
# boot-guest-init20.sh — run by boot-guest.sh inside the boot-test VM (with
# BOOT_CRIU=1, after boot-guest-criu20.sh): checkpoint and restore of a
# container with berth's own init (init = true, the default), which runs
# from berthd's read-only copy of berth-init bound at /dev/.berth-init
# (issue 20, docs/design.md "berth's init from a read-only file"). A counter
# goes on without a reset, the restored PID 1 is still berth-init from
# berthd's copy and still does its job (exec, stop); a container with
# capability sys_admin (its init runs from the sealed memfd) is refused.
# Prints "ok boot: init20: ..." / "not ok boot: init20: ..."; exits 1 on a
# failure, with CRIU's logs.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok boot: init20: $*"; }
nok() { echo "not ok boot: init20: $*"; fail=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
cpid() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"pid":[0-9]*' | head -n1 | cut -d: -f2; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -n1 | cut -d'"' -f4; }
is() { [ "$(cstate "$1")" = "$2" ]; }
one() { printf '%s' "$*" | tr '\n' ' ' | head -c 600; }
S=/var/lib/berth/snapshots/inct
C=/var/lib/berth/containers/inct/upper/count
COPY=/run/berth/init/berth-init
showlog() {
  [ -f "$1" ] || { echo "# init20: no $1"; return; }
  grep -E 'Error|Warn' "$1" | head -n 25 | sed "s|^|# $(basename "$1"): |"
  tail -n 15 "$1" | sed "s|^|# $(basename "$1") tail: |"
}

cat > /etc/containers.d/inct.conf <<'C'
network i20net {
    subnet  = "198.18.21.0/24"
    gateway = "198.18.21.1"
}
container inct {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i > /count; echo count $i; sleep 0.5; done" }
    autostart = true
    restart   = "on-failure"
    stop-timeout = 30s
    network { bridge = "i20net"  address = "198.18.21.5" }
}
container inadm {
    template  = "busybox"
    command   = { "/bin/sleep", "1000000" }
    autostart = true
    network { mode = "none" }
    capabilities { add = { "sys_admin" } }
}
C
systemctl reload berthd
check "inct (init = true) and inadm (sys_admin) run" until_ok 60 sh -c '[ "$(berthctl inspect inct 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)$(berthctl inspect inadm 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)" = runningrunning ]'
pid=$(cpid inct)
sb=$(awk '$5 == "/run/berth/init" { for (i = 7; i <= NF; i++) if ($i == "-") { print $6, $(i+1), $(i+3); exit } }' /proc/self/mountinfo)
check "berthd's copy $COPY is on a tmpfs mounted read-only with a read-only superblock ($sb)" \
  bash -c '[[ "$1" == ro,*" tmpfs ro"* ]]' _ "$sb"
check "inct's init runs /dev/.berth-init, berthd's copy ($(readlink /proc/$pid/exe), $(stat -L -c %d:%i /proc/$pid/exe) = $(stat -c %d:%i $COPY))" \
  sh -c "[ \"\$(readlink /proc/$pid/exe)\" = /dev/.berth-init ] && [ \"\$(stat -L -c %d:%i /proc/$pid/exe)\" = \"\$(stat -c %d:%i $COPY)\" ]"
check "inct counts" until_ok 20 sh -c "[ \"\$(cat $C 2>/dev/null || echo 0)\" -gt 2 ]"

# The sealed memfd for sys_admin: refused before anything is dumped.
ap=$(cpid inadm)
out=$(timeout 300 berthctl checkpoint --leave-running inadm ta 2>&1); rc=$?
check "a checkpoint of inadm (sys_admin: its init runs from the sealed memfd) is refused, it runs on ($(one "$out"))" \
  bash -c '[ "$1" != 0 ] && [[ "$2" == *"memory file"* ]] && [ "$3" = "$4" ]' _ "$rc" "$out" "$ap" "$(cpid inadm)"

t0=$(date +%s%N)
out=$(timeout 300 berthctl checkpoint inct ck1 2>&1); rc=$?
echo "# init20: checkpoint of inct took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "berthctl checkpoint inct ck1, init = true ($(one "$out"))" test $rc = 0
if [ $rc != 0 ]; then
  showlog $S/.criu-ck1/dump.log
  grep -E 'berth-init|/dev ' /proc/"$pid"/mountinfo 2>/dev/null | sed 's/^/# mountinfo: /'
else
  check "inct stopped with the checkpoint" until_ok 20 is inct stopped
  c1=$(cat $C)
  check "its counter stopped (count $c1)" sh -c "sleep 1.5; [ \"\$(cat $C)\" = '$c1' ]"
  t0=$(date +%s%N)
  out=$(timeout 300 berthctl start --from-checkpoint ck1 inct 2>&1); rc=$?
  echo "# init20: start --from-checkpoint of inct took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  check "berthctl start --from-checkpoint ck1 inct ($(one "$out"))" test $rc = 0
  if [ $rc != 0 ]; then
    showlog $S/ck1/criu/restore.log
    journalctl -u berthd -o cat --no-pager -n 20 | sed 's/^/# berthd: /'
  else
    npid=$(cpid inct)
    check "it runs: state running, init pid $npid" is inct running
    sleep 2
    check "and still runs 2 s later, same init pid ($(cpid inct))" test "$(cpid inct)" = "$npid"
    after=$(cat $C)
    check "the counter went on from $c1, no reset (now $after)" sh -c "[ '$after' -gt '$c1' ] && [ '$after' -lt \$(( $c1 + 30 )) ]"
    check "the restored init is still berth-init from /dev/.berth-init ($(readlink /proc/$npid/exe), $(cat /proc/$npid/comm))" \
      sh -c "[ \"\$(readlink /proc/$npid/exe)\" = /dev/.berth-init ] && [ \"\$(cat /proc/$npid/comm)\" = berth-init ]"
    check "and maps berthd's copy ($(stat -L -c %d:%i /proc/$npid/exe) = $(stat -c %d:%i $COPY))" \
      sh -c "[ \"\$(stat -L -c %d:%i /proc/$npid/exe)\" = \"\$(stat -c %d:%i $COPY)\" ]"
    out=$(berthctl exec inct -- /bin/sh -c 'cat /proc/1/comm; awk "\$5 == \"/dev/.berth-init\" { print \$6 }" /proc/self/mountinfo; { echo x >> /dev/.berth-init; } 2>&1; cat /count' 2>&1)
    check "berthctl exec works after the restore; inside, PID 1 is berth-init, its file read-only ($(one "$out"))" \
      bash -c '[[ "$1" == "berth-init"* ]] && [[ "$1" == *"ro,"* ]] && [[ "$1" == *"Read-only file system"* ]]' _ "$out"
    check "the restored counter's output reaches berthctl logs (count $((c1 + 2)))" \
      until_ok 10 sh -c "berthctl logs inct | grep -q 'count $((c1 + 2))\$'"
    t0=$(date +%s)
    timeout 60 berthctl stop inct >/dev/null 2>&1
    # Stop answers when the stop is under way; stopped within 8 s means the
    # trap ended it (not the 30 s stop-timeout's SIGKILL).
    until_ok 10 is inct stopped
    check "berthctl stop: the restored init forwards SIGTERM, the command's trap ends it at once (state $(cstate inct), $(( $(date +%s) - t0 )) s)" \
      sh -c "[ \"\$(berthctl inspect inct | tr -d ' \n' | grep -o '\"state\":\"[a-z]*\"' | head -n1 | cut -d'\"' -f4)\" = stopped ] && [ \$(( \$(date +%s) - $t0 )) -le 8 ]"
  fi
fi
rm -f /etc/containers.d/inct.conf
systemctl reload berthd
exit $fail
