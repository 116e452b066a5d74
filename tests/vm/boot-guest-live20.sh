#!/bin/bash
# boot-guest-live20.sh — run by boot-guest.sh's CRIU section inside the
# boot-test VM (Debian 12, its 6.1 kernel, systemd, berthd.service):
# `berthctl migrate --live` (issue 20) from the system berthd (A) to a second
# berthd (B: its own --state-dir, config dir and run dir), reached through a
# pipe command (--via) as the host suite's migrations are. A container whose
# shell loop counts and whose busybox httpd listens on port 7000 (in its own
# network namespace: mode none; two berthd on one host cannot both own a
# bridge) moves while it runs: the counter goes on without a reset on B,
# the listener answers there, A keeps nothing of it, the downtime printed.
# Then a container with 256 MB of dirty memory moves; its downtime and the
# whole migration's time are printed as "# live20: ..." lines.
# Prints "ok boot: live20: ..." / "not ok boot: live20: ..."; exits 1 on a failure.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok boot: live20: $*"; }
nok() { echo "not ok boot: live20: $*"; fail=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
B=/run/berth-b
SB=/var/lib/berth-b
CB=/etc/berth-b/containers.d
ctlb() { BERTH_SOCKET=$B/control.sock timeout 60 berthctl "$@"; }
jf() { tr -d ' \n' | grep -o "\"$1\":[^,}]*" | head -n1 | cut -d: -f2 | tr -d '"'; }
cpid() { timeout 10 berthctl inspect "$1" 2>/dev/null | jf pid; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | jf state; }
bpid() { ctlb inspect "$1" 2>/dev/null | jf pid; }
bstate() { ctlb inspect "$1" 2>/dev/null | jf state; }
# GET /PATH from port 7000 inside the network namespace of pid $1
get() { timeout 10 nsenter -t "$1" -n bash -c 'exec 3<>/dev/tcp/127.0.0.1/7000 && printf "GET /$1 HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$2" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
showlog() { # the errors and the tail of a CRIU log
  [ -f "$1" ] || { echo "# live20: no $1"; return; }
  grep -E 'Error|Warn' "$1" | head -n 20 | sed "s|^|# $(basename "$1"): |"
  tail -n 10 "$1" | sed "s|^|# $(basename "$1") tail: |"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- the second berthd (B) -------------------------------------------------
mkdir -p "$B" "$SB" "$CB"
berthd -c "$CB" --state-dir "$SB" --run-dir "$B" > /var/log/berthd-b.log 2>&1 &
BPID=$!
check "a second berthd (B) answers on $B/control.sock" until_ok 60 sh -c "BERTH_SOCKET=$B/control.sock berthctl ls >/dev/null 2>&1"
t0=$(date +%s%N)
out=$(timeout 300 berthctl template build --state-dir "$SB" busybox 2>&1); rc=$?
check "B builds its busybox template ($(ms "$t0") ms; $(echo "$out" | tail -n1))" test $rc = 0
VIA="env BERTH_SOCKET=$B/control.sock"

# --- 1. a counter and a listener move live ---------------------------------
cat > /etc/containers.d/lvcount.conf <<'C'
container lvcount {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "mkdir -p /www; i=0; while :; do i=$((i+1)); echo $i > /www/count; echo count $i; sleep 0.5; done & exec httpd -f -p 7000 -h /www" }
    init      = false
    autostart = true
    restart   = "on-failure"
    network { mode = "none" }
    limits { memory = 128M  pids = 64 }
}
C
systemctl reload berthd
check "lvcount runs on A" until_ok 60 sh -c '[ "$(berthctl inspect lvcount 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)" = running ]'
pa=$(cpid lvcount)
check "its listener answers on A" until_ok 20 sh -c "[ -n \"\$(timeout 10 nsenter -t $pa -n bash -c 'exec 3<>/dev/tcp/127.0.0.1/7000 && printf \"GET /count HTTP/1.0\r\n\r\n\" >&3 && cat <&3' 2>/dev/null)\" ]"
sleep 3
before=$(get "$pa" count)
t0=$(date +%s%N)
out=$(timeout 600 berthctl migrate lvcount --to vm-b --via "$VIA" --live 2>&1); rc=$?
took=$(ms "$t0")
echo "$out" | sed 's/^/# migrate: /'
check "berthctl migrate lvcount --to vm-b --live succeeds in $took ms ($(echo "$out" | tail -n1))" test $rc = 0
if [ $rc != 0 ]; then
  for l in /var/lib/berth/snapshots/lvcount/.live-*/pre-*/dump.log /var/lib/berth/snapshots/lvcount/.criu-*/dump.log \
           $SB/snapshots/lvcount/live-*/criu/restore.log; do [ -f "$l" ] && showlog "$l"; done
  tail -n 20 /var/log/berthd-b.log | sed 's/^/# berthd-b: /'
  journalctl -u berthd -o cat --no-pager -n 15 | sed 's/^/# berthd: /'
else
  dt=$(sed -n 's/.*downtime \([0-9]*\) ms.*/\1/p' <<<"$out")
  echo "# live20: lvcount (a counter, an httpd): migrate --live took $took ms, downtime ${dt:-?} ms"
  check "the downtime is printed" test -n "$dt"
  check "at least one pre-dump round ran before the freeze" grep -q "pre-dump 1 of 'lvcount'" <<<"$out"
  check "it runs on B" until_ok 20 sh -c "[ \"\$(BERTH_SOCKET=$B/control.sock berthctl inspect lvcount | tr -d ' \n' | grep -o '\"state\":\"[a-z]*\"' | head -n1 | cut -d'\"' -f4)\" = running ]"
  pb=$(bpid lvcount)
  sleep 2
  after=$(get "$pb" count)
  check "its listener answers on B, and the counter went on from $before (now '$after', no reset)" \
    sh -c "[ -n '$after' ] && [ -n '$before' ] && [ '$after' -gt '$before' ]"
  check "the restored counter's output reaches B's logs" until_ok 10 sh -c "BERTH_SOCKET=$B/control.sock berthctl logs lvcount | grep -q 'count $((after + 1))\$'"
  check "its definition moved: in B's config dir, not in A's" sh -c "[ -f $CB/lvcount.conf ] && [ ! -e /etc/containers.d/lvcount.conf ]"
  check "A keeps nothing: no data, no snapshots, not listed, no process" \
    sh -c "[ ! -e /var/lib/berth/containers/lvcount ] && [ ! -e /var/lib/berth/snapshots/lvcount ] && ! berthctl ls --all 2>/dev/null | grep -q lvcount && ! kill -0 $pa 2>/dev/null"
  left=$(ls -A "$SB/snapshots/lvcount" 2>/dev/null; ls -d "$SB"/snapshots/.live-* 2>/dev/null)
  check "B keeps no images: no staging, no checkpoint, no pre-restore snapshot left (left: $(echo $left))" test -z "$left"
  check "B supervises it: killed, it is restarted (restart = on-failure)" \
    sh -c "kill -KILL $pb; for i in \$(seq 120); do p=\$(BERTH_SOCKET=$B/control.sock berthctl inspect lvcount | tr -d ' \n' | grep -o '\"pid\":[0-9]*' | head -n1 | cut -d: -f2); [ -n \"\$p\" ] && [ \"\$p\" != 0 ] && [ \"\$p\" != $pb ] && exit 0; sleep 0.25; done; exit 1"
  ctlb stop lvcount >/dev/null 2>&1
  rm -f "$CB/lvcount.conf"
  ctlb reload >/dev/null 2>&1
  ctlb destroy lvcount >/dev/null 2>&1
fi

# --- 2. 256 MB of dirty memory ---------------------------------------------
cat > /etc/containers.d/lvbig.conf <<'C'
container lvbig {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "dd if=/dev/zero bs=256M count=1 2>/dev/null | sleep 1000000 & i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.5; done" }
    init      = false
    autostart = true
    network { mode = "none" }
    limits { memory = 400M }
}
C
systemctl reload berthd
big() { local p r; for p in $(pgrep -x dd); do r=$(awk '/^VmRSS:/ {print $2}' /proc/$p/status 2>/dev/null); [ "${r:-0}" -gt 250000 ] && return 0; done; return 1; }
check "lvbig runs on A with 256 MB written in its dd's buffer" until_ok 120 big
c0=$(cat /var/lib/berth/containers/lvbig/upper/count 2>/dev/null)
t0=$(date +%s%N)
out=$(timeout 900 berthctl migrate lvbig --to vm-b --via "$VIA" --live 2>&1); rc=$?
took=$(ms "$t0")
echo "$out" | sed 's/^/# migrate: /'
check "berthctl migrate lvbig --live succeeds in $took ms ($(echo "$out" | tail -n1))" test $rc = 0
if [ $rc = 0 ]; then
  dt=$(sed -n 's/.*downtime \([0-9]*\) ms.*/\1/p' <<<"$out")
  n=$(sed -n 's/.* live: \([0-9]*\) pre-dump.*/\1/p' <<<"$out")
  echo "# live20: lvbig (256 MB dirty, TCG): migrate --live took $took ms, ${n:-?} pre-dumps, downtime ${dt:-?} ms"
  check "its 256 MB came back on B" until_ok 20 big
  check "its counter went on on B (was $c0)" until_ok 10 sh -c "[ \"\$(cat $SB/containers/lvbig/upper/count)\" -gt '${c0:-0}' ]"
  ctlb stop lvbig >/dev/null 2>&1
  rm -f "$CB/lvbig.conf"
  ctlb reload >/dev/null 2>&1
  ctlb destroy lvbig >/dev/null 2>&1
else
  for l in /var/lib/berth/snapshots/lvbig/.live-*/pre-*/dump.log /var/lib/berth/snapshots/lvbig/.criu-*/dump.log \
           $SB/snapshots/lvbig/live-*/criu/restore.log; do [ -f "$l" ] && showlog "$l"; done
  rm -f /etc/containers.d/lvbig.conf
  systemctl reload berthd
fi
# --- 3. lxc-checkpoint, for comparison: not installed in the lane image ----
command -v lxc-checkpoint >/dev/null || echo "# live20: lxc-checkpoint: not in the lane image (package lxc not installed)"
kill -TERM "$BPID" 2>/dev/null
for i in $(seq 60); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.5; done
exit $fail
