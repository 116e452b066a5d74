#!/bin/bash
# Integration test of `berthctl exec` (and freeze, unfreeze, stats, top) on
# a real container started with `berthctl run` in the background: the exec'd
# process shares the container's namespaces, cgroup and confinement.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="exec: "
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$REPO/templates}
export BERTH_SOCKET=/nonexistent/berth.sock # never a running berthd's
B=$BUILD/berthctl
T=$(mktemp -d /tmp/btexec.XXXXXX)
N=btexec$$
runpid=
cleanup() {
  # A freeze check that failed half-way would leave the container frozen,
  # deaf to every signal: thaw it first.
  "$B" unfreeze --state-dir "$T/state" "$N" >/dev/null 2>&1
  [ -z "$runpid" ] || stop_pids "$runpid"
  rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/conf" "$T/state" "$T/run"
cat > "$T/conf/c.conf" <<EOF
container $N {
    template = "busybox"
    hostname = "btexechost"
    command  = { "/bin/sh", "-c", "grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status > /tmp/init-status; i=0; while :; do i=\$((i+1)); echo \$i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.05; done" }
    limits { pids = 64 }
}
EOF
"$B" run --no-tty -c "$T/conf" --state-dir "$T/state" "$N" </dev/null >"$T/run.log" 2>&1 &
runpid=$!
S="$T/state/containers/$N"
for _ in $(seq 300); do
  [ -s "$S/upper/tmp/init-status" ] && [ -s "$S/state" ] && break
  kill -0 "$runpid" 2>/dev/null || break
  sleep 0.1
done
if ! [ -s "$S/upper/tmp/init-status" ]; then
  echo "not ok exec: container did not start"; sed 's/^/# /' "$T/run.log"; exit 1
fi
check "foreground run writes its state record" grep -q "^init_pid=[1-9]" "$S/state"

X() { "$B" exec -c "$T/conf" --state-dir "$T/state" "$@"; }

check "sees the container's hostname" test "$(X "$N" -- hostname)" = btexechost
pids=$(X "$N" -- sh -c 'ls /proc | grep -c "^[0-9]"')
check "sees only the container's PID namespace ($pids processes)" test "${pids:-99}" -le 6
check "PID 1 is the container's init" test "$(X "$N" -- sh -c 'cat /proc/1/comm')" = berth-init
psout=$(X "$N" -- ps -o pid,comm)
check "ps lists the container's processes only" bash -c "[ \$(printf '%s\n' \"\$1\" | wc -l) -le 6 ] && printf '%s\n' \"\$1\" | grep -q ' sleep\\| sh'" _ "$psout"
X "$N" -- sh -c "grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status" > "$T/exec-status"
check "CapEff/CapBnd/CapInh/CapAmb/NoNewPrivs/Seccomp equal the container's" cmp -s "$T/exec-status" "$S/upper/tmp/init-status"
check "seccomp filter and no_new_privs are on" grep -q "^Seccomp:.2" "$T/exec-status"
cg=$(X "$N" -- cat /proc/self/cgroup)
check "inside the container's cgroup namespace (every line /)" bash -c "[ -n '$cg' ] && ! printf '%s\n' '$cg' | grep -v ':/\$'"
# From the host: the exec'd process is in the container's cgroup.
X "$N" -- sleep 3 &
xp=$!
inpid=
for _ in $(seq 50); do
  inpid=$(pgrep -f -x "sleep 3" | while read -r p; do [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$(sed -n 's/^init_pid=//p' "$S/state")/ns/pid)" ] && echo $p; done | head -n1)
  [ -n "$inpid" ] && break; sleep 0.1
done
initpid=$(sed -n 's/^init_pid=//p' "$S/state")
check "from the host, the exec'd process shares the init's cgroups" \
  test -n "$inpid" -a "$(cat /proc/$inpid/cgroup 2>/dev/null)" = "$(cat /proc/$initpid/cgroup)"
for ns in mnt pid uts ipc net cgroup; do
  check "from the host, same $ns namespace as the init" test -n "$inpid" -a "$(readlink /proc/$inpid/ns/$ns 2>/dev/null)" = "$(readlink /proc/$initpid/ns/$ns)"
done
wait $xp

X "$N" -- sh -c 'exit 7'; rc=$?
check "exit status propagates (7)" test "$rc" = 7
X "$N" -- sh -c 'kill -9 $$'; rc=$?
check "a signalled command reports 128+N (137)" test "$rc" = 137
X "$N" -- no-such-command 2>"$T/err"; rc=$?
check "unknown command exits 127" test "$rc" = 127
check "unknown command is named in the error" grep -q "no-such-command" "$T/err"
check "-u 1000 runs as uid 1000" test "$(X -u 1000 "$N" -- id -u)" = 1000
check "-u 1000 has an empty CapEff" test "$(X -u 1000 "$N" -- sh -c 'grep ^CapEff: /proc/self/status')" = "$(printf 'CapEff:\t0000000000000000')"
check "-u user gets its HOME" test "$(X -u user "$N" -- sh -c 'echo $HOME')" = /home/user
check "-u nosuchuser fails with 125" bash -c "\"$B\" exec -c \"$T/conf\" --state-dir \"$T/state\" -u nosuchuser $N -- true 2>/dev/null; [ \$? = 125 ]"
check "-e adds to the environment" test "$(X -e BTX=hello "$N" -- sh -c 'echo $BTX')" = hello
check "-w sets the working directory" test "$(X -w /tmp "$N" -- pwd)" = /tmp
fds=$(X "$N" -- sh -c 'ls /proc/$$/fd; true' </dev/null | tr '\n' ' ')
check "only fds 0-2 reach the command ($fds)" test "$fds" = "0 1 2 "
check "stdin is forwarded" test "$(echo piped | X "$N" -- cat)" = piped
check "-t gives a pty of the container" bash -c "\"$B\" exec -t -c \"$T/conf\" --state-dir \"$T/state\" $N -- tty </dev/null | grep -q '^/dev/pts/[0-9]'"
sum0=$(sha256sum < "$B")
X "$N" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9; do for p in /proc/[0-9]*; do echo x 2>/dev/null >> $p/exe; done; done; true'
check "the host binary is unchanged after exec writes to every /proc/PID/exe" test "$(sha256sum < "$B")" = "$sum0"
"$B" exec -c "$T/conf" --state-dir "$T/state" nosuch$$ -- true 2>/dev/null; rc=$?
check "exec into a container that is not running fails with 125" test "$rc" = 125

# stats, top, freeze, unfreeze.
"$B" stats --raw --state-dir "$T/state" "$N" > "$T/stats"; rc=$?
check "stats succeeds" test "$rc" = 0
check "stats --raw shows memory and pids" awk -v n="$N" '$1 == n && $3 ~ /^[0-9]+$/ && $7 ~ /^[0-9]+$/ { f = 1 } END { exit !f }' "$T/stats"
check "stats --json has memory_current" bash -c "\"$B\" stats --json --state-dir \"$T/state\" $N | grep -q '\"memory_current\":[0-9]'"
"$B" top --state-dir "$T/state" "$N" > "$T/top"
check "top lists the init's pid" grep -q "^$initpid " "$T/top"
check "top shows the workload's command" grep -q "/tmp/counter" "$T/top"
check "freeze succeeds" "$B" freeze --state-dir "$T/state" "$N"
a=$(cat "$S/upper/tmp/counter"); sleep 0.5; b=$(cat "$S/upper/tmp/counter")
check "freeze stops the counter ($a = $b)" test "$a" = "$b"
check "unfreeze succeeds" "$B" unfreeze --state-dir "$T/state" "$N"
sleep 0.5; c=$(cat "$S/upper/tmp/counter")
check "unfreeze lets the counter run again ($b < $c)" test "$c" -gt "$b"
"$B" stats --state-dir "$T/state" nosuch$$ 2>/dev/null; rc=$?
check "stats of a container that is not running fails" test "$rc" != 0

# After the run ends, its state record is gone with it.
kill -TERM "$runpid"; wait "$runpid" 2>/dev/null; runpid=
check "the run's directory and state record are removed" test ! -e "$S/state"
exit $fail
