#!/bin/bash
# Integration test of issue 21 (observability): `berthctl logs` with times
# and streams (-t, --since/--until, -n, --stdout/--stderr/--stream,
# several containers merged by time, --all), `berthctl cp` out of and into
# running and stopped containers (files, directories, a symlink that must
# resolve inside the container's root, never to the host's file), and
# `berthctl stats` of every running container (CPU %, units, --raw,
# --json, --watch --count).
# Private berthd below one mktemp -d, containers obs21-<pid>-*; the EXIT
# trap (daemon_cleanup) stops everything and removes it. Re-runnable.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317 # eval'd check strings; S is used in them; daemon_start takes no args; cleanup_extra runs from the trap
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="obs21: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=obs21-$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_TIMEOUT
ROOT=$(mktemp -d /tmp/obs21.XXXXXX)
MARK=/tmp/obs21-host-secret-$$
cleanup_extra() { rm -rf "$MARK" "$MARK.d" "/tmp/obs21-planted-$$"; }
trap daemon_cleanup EXIT
daemon_require "obs21: "
PY=$(command -v python3)

env_new main
# o: a line to stdout and one to stderr every 0.2 s, numbered
container "$P-o" 'autostart = true' \
  'command = { "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo out-$i; echo err-$i >&2; sleep 0.2; done" }'
# a and b: lines tagged with their name, for the merge
container "$P-a" 'autostart = true' \
  'command = { "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo a-$i; sleep 0.3; done" }'
container "$P-b" 'autostart = true' \
  'command = { "/bin/sh", "-c", "sleep 0.15; i=0; while :; do i=$((i+1)); echo b-$i; sleep 0.3; done" }'
# c: burns CPU, under a memory limit (stats); started for the stats only
container "$P-c" 'command = { "/bin/sh", "-c", "while :; do :; done" }' 'limits { memory = 64M }'
# s: never started by berthd (cp into and out of a stopped container)
container "$P-s" 'command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'
daemon_start
for n in o a b; do
  wait_until 40 state_is "$P-$n" running || nok "$P-$n runs (state $(jget "$P-$n" state))"
done
sleep 3

# ---- logs ---------------------------------------------------------------------------------

out=$(ctl logs "$P-o" 2>&1); rc=$?
check "logs: the output without times, stdout and stderr (rc=$rc)" \
  eval '[ "$rc" = 0 ] && grep -qx out-1 <<<"$out" && grep -qx err-1 <<<"$out"'
out=$(ctl logs -t "$P-o" 2>&1)
now=$(date +%s)
check "logs -t: each line carries its time (UTC, microseconds) and stream" \
  eval '[ -n "$out" ] && ! grep -vqE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z (stdout out|stderr err)-[0-9]+$" <<<"$out"'
# shellcheck disable=SC2016 # python, not shell
mono=$("$PY" -c '
import sys, datetime
now = int(sys.argv[1]); prev = None; bad = 0; n = 0
for l in sys.stdin:
    t = datetime.datetime.strptime(l.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    if prev is not None and t < prev: bad += 1
    if abs(t - now) > 120: bad += 1
    prev = t; n += 1
print(bad if n >= 10 else "too few lines: %d" % n)' "$now" <<<"$out" 2>&1)
check "logs -t: the times are monotone and near now (bad: $mono)" test "$mono" = 0
out=$(ctl logs --stdout "$P-o" 2>&1)
check "logs --stdout: only the standard output" eval 'grep -q "^out-" <<<"$out" && ! grep -q "^err-" <<<"$out"'
out=$(ctl logs --stderr -t "$P-o" 2>&1)
check "logs --stderr -t: only the standard error, tagged stderr" \
  eval 'grep -q " stderr err-" <<<"$out" && ! grep -q "out-" <<<"$out"'
out=$(ctl logs --stream=stdout "$P-o" 2>&1)
check "logs --stream=stdout: the same as --stdout" eval 'grep -q "^out-" <<<"$out" && ! grep -q "^err-" <<<"$out"'
out=$(ctl logs --stream=bogus "$P-o" 2>&1); rc=$?
check "logs --stream=bogus: a usage error naming it (rc=$rc)" eval '[ "$rc" = 2 ] && grep -q bogus <<<"$out"'
out=$(ctl logs -n 3 --stdout "$P-o" 2>&1)
check "logs -n 3: the last three lines" eval '[ "$(wc -l <<<"$out")" = 3 ]'
# --since/--until: a window in the past holds only lines of that window
t1=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
sleep 1.2
t2=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
sleep 0.5
out=$(ctl logs -t --since "$t1" --until "$t2" "$P-o" 2>&1); rc=$?
inwin=$(awk -v a="$t1" -v b="$t2" '$1 >= a && $1 <= b' <<<"$out" | wc -l)
check "logs --since T1 --until T2: only lines between them ($(wc -l <<<"$out") lines, $inwin inside, rc=$rc)" \
  eval '[ "$rc" = 0 ] && [ "$inwin" -ge 6 ] && [ "$inwin" = "$(wc -l <<<"$out")" ]'
out=$(ctl logs --since 2s --stdout "$P-o" 2>&1)
check "logs --since 2s: only the last seconds ($(wc -l <<<"$out") lines)" \
  eval '[ "$(wc -l <<<"$out")" -ge 5 ] && [ "$(wc -l <<<"$out")" -le 14 ]'
old=$(date -d '-1 hour' '+%Y-%m-%d %H:%M:%S')
out=$(ctl logs --until "$old" "$P-o" 2>&1); rc=$?
check "logs --until an hour ago (\"YYYY-MM-DD HH:MM:SS\"): nothing (rc=$rc)" eval '[ "$rc" = 0 ] && [ -z "$out" ]'
out=$(ctl logs --since yesterday "$P-o" 2>&1); rc=$?
check "logs --since in a bad format: a clear error, exit 2 (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 2 ] && grep -q "yesterday" <<<"$out" && grep -q "neither a duration" <<<"$out"'
out=$(ctl logs --until 2026-13-45 "$P-o" 2>&1); rc=$?
check "logs --until in a bad format: exit 2 (rc=$rc)" test "$rc" = 2
out=$(ctl logs "$P-nosuch" 2>&1); rc=$?
check "logs of a nonexistent container: exit 1, named (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "$P-nosuch" <<<"$out"'
# two containers merged by time
out=$(ctl logs -t "$P-a" "$P-b" 2>&1); rc=$?
names=$(awk '{ print $2 }' <<<"$out" | sort -u | tr '\n' ' ')
sorted=$(awk '{ print $1 }' <<<"$out" | LC_ALL=C sort -c 2>&1 && echo sorted)
alt=$(awk '{ print $2 }' <<<"$out" | uniq | wc -l)
check "logs -t A B: both, merged by time (rc=$rc, names: $names, $sorted, runs: $alt)" \
  eval '[ "$rc" = 0 ] && [ "$names" = "$P-a $P-b " ] && [ "$sorted" = sorted ] && [ "$alt" -ge 10 ]'
out=$(ctl logs A B 2>&1 >/dev/null; ctl logs "$P-a" "$P-b" 2>&1)
check "logs A B: each line names its container" eval 'grep -q "^$P-a | a-1$" <<<"$out" && grep -q "^$P-b | b-1$" <<<"$out"'
out=$(ctl logs --all -n 200 2>&1); rc=$?
check "logs --all: every container's (rc=$rc)" \
  eval '[ "$rc" = 0 ] && grep -q "^$P-a | " <<<"$out" && grep -q "^$P-b | " <<<"$out" && grep -q "^$P-o | " <<<"$out"'
out=$(timeout 2 "$CTL" logs --socket "$D/run/control.sock" -f -n 0 "$P-a" "$P-b" 2>&1); rc=$?
check "logs -f A B: follows both (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 124 ] && grep -q "^$P-a | a-" <<<"$out" && grep -q "^$P-b | b-" <<<"$out"'
# an older log, without times, is still read
ctl stop "$P-a" >/dev/null 2>&1
wait_until 20 state_is "$P-a" stopped
printf 'an old line\nanother old line\n' > "$D/state/containers/$P-a/console.log"
out=$(ctl logs -t "$P-a" 2>&1); rc=$?
check "logs of a log without times: its lines, time '-' (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && grep -qx -- "- - an old line" <<<"$out"'

# ---- cp ------------------------------------------------------------------------------------

T=$ROOT/cp
mkdir -p "$T/src/sub" "$T/out"
echo "top secret of the host $$" > "$MARK"
mkdir -p "$MARK.d"
printf 'file-one\n' > "$T/src/one"
printf 'file-two\n' > "$T/src/sub/two"
ln -s one "$T/src/link"
chown 1234:567 "$T/src/one"
chmod 0640 "$T/src/one"
chmod 0750 "$T/src/sub"
touch -d '2020-01-02 03:04:05' "$T/src/one" "$T/src/sub/two"
X() { ctl exec "$@" </dev/null; }

# running container, host → container: a file, then a directory
out=$(ctl cp "$T/src/one" "$P-o:/tmp/" 2>&1); rc=$?
got=$(X "$P-o" -- stat -c '%a %u %g %Y' /tmp/one 2>&1)
want="640 1234 567 $(stat -c %Y "$T/src/one")"
check "cp FILE NAME:DIR/ (running): copied with mode, owner, time (rc=$rc: $got, want $want)" \
  eval '[ "$rc" = 0 ] && [ "$got" = "$want" ] && [ "$(X "$P-o" -- cat /tmp/one)" = file-one ]'
out=$(ctl cp "$T/src" "$P-o:/tmp/tree" 2>&1); rc=$?
got=$(X "$P-o" -- sh -c 'cat /tmp/tree/sub/two; readlink /tmp/tree/link; stat -c %a /tmp/tree/sub' 2>&1 | tr '\n' ' ')
check "cp DIR NAME:PATH (running): recursive, symlinks as symlinks, modes (rc=$rc: $got)" \
  eval '[ "$rc" = 0 ] && [ "$got" = "file-two one 750 " ]'
# running container, container → host
out=$(ctl cp "$P-o:/tmp/tree" "$T/out/tree" 2>&1); rc=$?
check "cp NAME:DIR HOSTDIR (running): the tree comes back equal (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && diff -r --no-dereference "$T/src" "$T/out/tree" >/dev/null && [ "$(stat -c "%a %u %g %Y" "$T/out/tree/one")" = "$(stat -c "%a %u %g %Y" "$T/src/one")" ]'
out=$(ctl cp "$P-o:/etc/passwd" "$T/out/" 2>&1); rc=$?
check "cp NAME:FILE HOSTDIR/ (running): the container's file, not the host's (rc=$rc)" \
  eval '[ "$rc" = 0 ] && [ "$(cat "$T/out/passwd")" = "$(X "$P-o" -- cat /etc/passwd)" ] && ! cmp -s "$T/out/passwd" /etc/passwd'

# symlinks in the container that point at host paths resolve in its root
X "$P-o" -- sh -c "ln -s /tmp /escape; ln -s $MARK /tmp/lnk; ln -s $MARK.d /tmp/hd" >/dev/null 2>&1
out=$(ctl cp "$P-o:/escape/$(basename "$MARK")" "$T/out/x" 2>&1); rc=$?
check "cp NAME:/symlink-to-/tmp/MARK: resolved in the container (no such file), the host's never read (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && [ ! -e "$T/out/x" ]'
out=$(ctl cp "$P-o:/tmp/lnk" "$T/out/y" 2>&1); rc=$?
check "cp NAME:SYMLINK: the symlink itself, not the host file it names (rc=$rc)" \
  eval '[ "$rc" = 0 ] && [ -L "$T/out/y" ] && ! grep -qs "top secret" "$T/out/y" 2>/dev/null; [ "$(readlink "$T/out/y")" = "$MARK" ]'
out=$(ctl cp "$P-o:/../../../..$MARK" "$T/out/z" 2>&1); rc=$?
check "cp NAME:/../../..MARK: .. stops at the container's root (rc=$rc)" eval '[ "$rc" = 1 ] && [ ! -e "$T/out/z" ]'
out=$(ctl cp "$T/src/one" "$P-o:/tmp/hd/planted" 2>&1); rc=$?
check "cp FILE NAME:/symlink-to-host-dir/F: not written on the host (rc=$rc: $(oneline "$out"))" \
  eval '[ ! -e "$MARK.d/planted" ]'
out=$(ctl cp "$T/src/one" "$P-o:/escape/obs21-planted-$$" 2>&1); rc=$?
check "cp FILE NAME:/symlink-to-/tmp/F: lands in the container's /tmp, not the host's (rc=$rc)" \
  eval '[ "$rc" = 0 ] && [ ! -e /tmp/obs21-planted-$$ ] && [ "$(X "$P-o" -- cat /tmp/obs21-planted-$$)" = file-one ]'
rm -f "/tmp/obs21-planted-$$" "$MARK.d/planted"

# stopped container: the merged view; writes go to its writable layer only
S=$D/state/containers/$P-s
out=$(ctl cp "$T/src" "$P-s:/tmp/tree" 2>&1); rc=$?
# In a user namespace (the idmap lane) container id N is the range's start + N on the host.
base=$(inspect "$P-s" | "$PY" -c 'import json, sys; m = json.load(sys.stdin)["idmap"]; print(m["host_uid"] if m else 0)' 2>/dev/null)
check "cp DIR NAME:PATH (stopped): into its writable layer (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && [ "$(cat "$S/upper/tmp/tree/sub/two")" = file-two ] && [ "$(stat -c "%a %u %g" "$S/upper/tmp/tree/one")" = "640 $((base + 1234)) $((base + 567))" ]'
inlower=$(find "$D/state" -path "$D/state/containers" -prune -o -path '*tree/sub/two' -print 2>/dev/null | head -n1)
check "cp into a stopped container: nothing outside its writable layer ($inlower)" test -z "$inlower"
check "cp into a stopped container: no overlay is left mounted" eval '! grep -qF " $S/rootfs " /proc/self/mountinfo'
out=$(ctl cp "$P-s:/etc/passwd" "$T/out/passwd-s" 2>&1); rc=$?
check "cp NAME:FILE (stopped): from the template below (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && cmp -s "$T/out/passwd-s" "$T/out/passwd"'
out=$(ctl cp "$P-s:/tmp/tree" "$T/out/tree-s" 2>&1); rc=$?
check "cp NAME:DIR (stopped): from the writable layer (rc=$rc)" \
  eval '[ "$rc" = 0 ] && diff -r --no-dereference "$T/src" "$T/out/tree-s" >/dev/null'
ln -s /tmp "$T/esc"
ctl cp "$T/esc" "$P-s:/escape" >/dev/null 2>&1
out=$(ctl cp "$P-s:/escape/$(basename "$MARK")" "$T/out/q" 2>&1); rc=$?
check "cp NAME:/symlink-to-/tmp/MARK (stopped): resolved in the container, the host's never read (rc=$rc)" \
  eval '[ "$rc" = 1 ] && [ ! -e "$T/out/q" ]'
ctl start "$P-s" >/dev/null 2>&1
wait_until 30 state_is "$P-s" running
check "a stopped container started after cp sees the copied tree" \
  eval '[ "$(X "$P-s" -- cat /tmp/tree/sub/two 2>&1)" = file-two ]'

# bad input
out=$(ctl cp "$P-nosuch:/etc/passwd" "$T/out/" 2>&1); rc=$?
check "cp from a nonexistent container: exit 1, named (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "$P-nosuch" <<<"$out"'
out=$(ctl cp "$T/src/one" "$T/out/two" 2>&1); rc=$?
check "cp with no container side: a usage error (rc=$rc)" test "$rc" = 2
out=$(ctl cp "$P-o:/no/such/file" "$T/out/" 2>&1); rc=$?
check "cp NAME:/no/such/file: exit 1, named (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "/no/such" <<<"$out"'

# ---- stats ---------------------------------------------------------------------------------

ctl start "$P-c" >/dev/null 2>&1
wait_until 30 state_is "$P-c" running
out=$(ctl stats 2>&1); rc=$?
cline=$(grep "^$P-c " <<<"$out")
check "stats with no NAME: every running container, none stopped (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && grep -q "^NAME  *CPU%  *MEM / LIMIT" <<<"$out" && grep -q "^$P-o " <<<"$out" && grep -q "^$P-c " <<<"$out" && grep -q "^$P-s " <<<"$out" && ! grep -q "^$P-a " <<<"$out"'
check "stats: CPU as a percentage over the interval, the burner busy ($cline)" \
  eval 'awk "{ sub(/%/, \"\", \$2); exit !(\$2 + 0 >= 5) }" <<<"$cline"'
check "stats: memory in units against its limit ($cline)" \
  eval 'grep -qE "^$P-c +[0-9.]+% +[0-9.]+(B|KiB|MiB) / 64.0MiB +[0-9.]+% +[0-9]+ " <<<"$cline"'
check "stats: block and network I/O in units" \
  eval 'grep -qE "[0-9.]+(B|KiB|MiB|GiB) / [0-9.]+(B|KiB|MiB|GiB) +([0-9.]+(B|KiB|MiB|GiB) / [0-9.]+(B|KiB|MiB|GiB)|- \(host network\))" <<<"$cline"'
out=$(ctl stats --raw "$P-c" 2>&1); rc=$?
check "stats --raw NAME: raw numbers, the limit in bytes (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 0 ] && awk -v n="$P-c" "\$1 == n && \$2 ~ /^[0-9.]+\$/ && \$3 ~ /^[0-9]+\$/ && \$4 == 67108864 { f = 1 } END { exit !f }" <<<"$out"'
got=$(ctl stats --json "$P-c" 2>/dev/null | "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(d["name"], d["cpu_percent"] > 5, d["memory_limit"], d["pids"] >= 1)' 2>&1)
check "stats --json NAME: cpu_percent, memory_limit, pids ($got)" test "$got" = "$P-c True 67108864 True"
start=$(date +%s.%N)
out=$(ctl stats --watch 1 --count 3 "$P-c" "$P-o" 2>&1); rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "stats --watch 1 --count 3: three refreshes, about a second apart (rc=$rc, $(grep -c '^NAME' <<<"$out") tables, ${took}s)" \
  eval '[ "$rc" = 0 ] && [ "$(grep -c "^NAME" <<<"$out")" = 3 ] && [ "$(grep -c "^$P-c " <<<"$out")" = 3 ] && awk -v t="$took" "BEGIN { exit !(t >= 2.8 && t < 8) }"'
out=$(timeout --preserve-status -s INT 2.5 "$CTL" stats --socket "$D/run/control.sock" --watch=1 "$P-c" 2>&1); rc=$?
check "stats --watch=1: refreshes until Ctrl-C, then exit 0 (rc=$rc, $(grep -c '^NAME' <<<"$out") tables)" \
  eval '[ "$rc" = 0 ] && [ "$(grep -c "^NAME" <<<"$out")" -ge 2 ]'
out=$(ctl stats --count 2 "$P-c" 2>&1); rc=$?
check "stats --count without --watch: a usage error (rc=$rc)" test "$rc" = 2
out=$(ctl stats --watch 0 "$P-c" 2>&1); rc=$?
check "stats --watch 0: a usage error (rc=$rc: $(oneline "$out"))" test "$rc" = 2
out=$(ctl stats "$P-nosuch" 2>&1); rc=$?
check "stats of a nonexistent container: exit 1, named (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "$P-nosuch" <<<"$out"'
ctl stop "$P-c" >/dev/null 2>&1

daemon_stop
daemon_finish "obs21: "
exit $fail
