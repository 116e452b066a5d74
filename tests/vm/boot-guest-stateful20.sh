#!/bin/bash
# boot-guest-stateful20.sh — run by boot-guest.sh (its CRIU section) inside
# the boot-test VM: stateful-stop (issue 20). A container with
# `stateful-stop = true` is checkpointed when berthd.service stops
# (`systemctl stop berthd`: SIGTERM, the orderly shutdown) and restored when
# it starts again: its counter goes on without a reset, its TCP listener
# (busybox httpd on 198.18.21.5:7001 of network stnet) answers on the same
# address, and the checkpoint is consumed (gone after the restore). Prints
# "ok boot: stateful: ..." / "not ok boot: stateful: ..."; exits 1 on a
# failure, with CRIU's logs and berthd's journal.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok boot: stateful: $*"; }
nok() { echo "not ok boot: stateful: $*"; fail=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -n1 | cut -d'"' -f4; }
running() { [ "$(cstate "$1")" = running ]; }
http_get() { timeout 10 bash -c 'exec 3<>/dev/tcp/$1/$2 && printf "GET /$3 HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$@" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'; }
S=/var/lib/berth/snapshots/stcount
UPPER=/var/lib/berth/containers/stcount/upper
showlog() {
  [ -f "$1" ] || { echo "# stateful: no $1"; return; }
  grep -E 'Error|Warn' "$1" | head -n 25 | sed "s|^|# $(basename "$1"): |"
  tail -n 15 "$1" | sed "s|^|# $(basename "$1") tail: |"
}
journal() { journalctl -u berthd -o cat --no-pager --since "@$T0" | grep -F 'stcount'; }

mkdir -p /etc/containers.d
cat > /etc/containers.d/stcount.conf <<'C'
network stnet {
    subnet  = "198.18.21.0/24"
    gateway = "198.18.21.1"
}
container stcount {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "mkdir -p /www; i=0; while :; do i=$((i+1)); echo $i > /www/count; sleep 0.5; done & exec httpd -f -p 7001 -h /www" }
    init      = false
    autostart = true
    stateful-stop = true
    network { bridge = "stnet"  address = "198.18.21.5" }
}
C
T0=$(date +%s)
systemctl reload berthd
check "stcount (stateful-stop = true) runs" until_ok 60 running stcount
check "its listener answers on 198.18.21.5:7001" until_ok 20 sh -c '[ -n "$(bash -c '"'"'exec 3<>/dev/tcp/198.18.21.5/7001 && printf "GET /count HTTP/1.0\r\n\r\n" >&3 && cat <&3'"'"' 2>/dev/null)" ]'
sleep 2
before=$(http_get 198.18.21.5 7001 count)
t0=$(date +%s%N)
systemctl stop berthd
t1=$(date +%s%N)
echo "# stateful: systemctl stop berthd took $(( (t1 - t0) / 1000000 )) ms"
j=$(journal)
check "the shutdown checkpointed stcount ($(grep -F 'stateful-stop' <<<"$j" | tail -n1 | head -c 300))" \
  grep -q "stateful-stop: checkpoint 'stateful-" <<<"$j"
tag=$(awk '{print $1}' $S/.stateful 2>/dev/null)
check "a stateful record names it ('$tag'), with its images" test -n "$tag" -a -f "$S/$tag/criu/pstree.img"
[ -n "$tag" ] || { showlog "$(ls -d $S/.criu-stateful-* 2>/dev/null | tail -n1)/dump.log"; echo "$j" | tail -n 10 | sed 's/^/# berthd: /'; }
c1=$(cat $UPPER/www/count 2>/dev/null)
check "no process of stcount runs while berthd is down (count stays $c1, was $before)" \
  sh -c "sleep 1.5; [ \"\$(cat $UPPER/www/count)\" = '$c1' ] && ! pgrep -x httpd >/dev/null"
t0=$(date +%s%N)
systemctl start berthd
check "berthd starts again" until_ok 60 sh -c '[ "$(systemctl is-active berthd)" = active ]'
check "stcount runs again" until_ok 120 running stcount
t1=$(date +%s%N)
echo "# stateful: systemctl start berthd until stcount runs took $(( (t1 - t0) / 1000000 )) ms"
j=$(journal)
check "it was restored from '$tag' ($(grep -F 'stateful-restore' <<<"$j" | tail -n1 | head -c 300))" \
  bash -c 'grep -qF "stateful-restore: restoring it from its checkpoint '"'"'$2'"'"'" <<<"$1" && ! grep -q stateful-restore-failed <<<"$1"' _ "$j" "$tag"
grep -q stateful-restore-failed <<<"$j" && { showlog "$S/$tag/criu/restore.log"; echo "$j" | tail -n 10 | sed 's/^/# berthd: /'; }
sleep 2
after=$(http_get 198.18.21.5 7001 count)
check "the listener answers on the same address, the counter went on from $c1 without a reset (now '$after')" \
  sh -c "[ -n '$after' ] && [ '$after' -gt '$c1' ] && [ '$after' -lt \$(( $c1 + 30 )) ]"
check "the checkpoint is consumed: no record, no '$tag'" test ! -e "$S/.stateful" -a ! -e "$S/$tag"
check "the other containers are back (web, probe)" until_ok 60 sh -c "[ \"\$(berthctl inspect web | tr -d ' \n' | grep -o '\"state\":\"[a-z]*\"' | head -n1)\" = '\"state\":\"running\"' ] && [ \"\$(berthctl inspect probe | tr -d ' \n' | grep -o '\"state\":\"[a-z]*\"' | head -n1)\" = '\"state\":\"running\"' ]"
rm -f /etc/containers.d/stcount.conf
systemctl reload berthd
exit $fail
