#!/bin/bash
# Real containers through `berthctl run`, checked from inside and from the
# host: PID 1, hostname, mount and network isolation, masks, the overlay's
# upper layer, leaked fds, symlinked mount targets and /proc, workdir magic
# links, exit codes, signal forwarding, the runtime binary's integrity, bad
# input leaving nothing behind, 100 runs leaving nothing behind, -t.
# Everything lives in one mktemp directory (conf dirs, state dir, rootfs
# copies); container names carry this shell's pid, so two runs in parallel
# do not meet. Needs root and a static busybox (templates/busybox.sh).
# The checks that need capabilities/seccomp/no_new_privs are in
# test_security_runtime.sh, not here.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
B=$BUILD/berthctl
tmp=$(mktemp -d /tmp/btrt.XXXXXX)
state=$tmp/state
N=btrt-$$                     # prefix of every container name
evil=btrt-evil-$$             # a name that must never appear in the host's /etc
bgpids=()
cleanup() {
  for p in "${bgpids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -d "/etc/$evil" ] && rmdir "/etc/$evil" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# Nothing of ours is mounted on the host and no container directory is left.
no_mounts() { ! grep -qF "$tmp" /proc/self/mountinfo; }
no_dirs() { [ -z "$(ls -A "$state/containers" 2>/dev/null)" ]; }
no_procs() { ! pgrep -f "$tmp/c/" >/dev/null; }
# A copy of the built busybox template to use as `rootfs = PATH`.
rootfs_copy() { cp -a "$state/templates/busybox" "$1"; }

if [ ! -x "$B" ]; then nok "berthctl is built at $B"; exit 1; fi

# ---- PID 1 -------------------------------------------------------------------
def $N-pid 'template = "busybox"' 'init = false'
run $N-pid /bin/sh -c 'echo $$'
if [ "$rc" = 0 ] && [ "$out" = 1 ]; then ok "init = false: the command is PID 1"
else nok "init = false: the command is PID 1 (rc $rc, pid '$(oneline "$out")', $(oneline "$err"))"; fi
[ -d "$state/templates/busybox/bin" ] || { nok "the busybox template was built"; exit 1; }

def $N-init 'template = "busybox"'
run $N-init /bin/sh -c 'echo $$ $PPID; cat /proc/1/comm'
set -- $out
if [ "$rc" = 0 ] && [ "${1:-}" = 2 ] && [ "${2:-}" = 1 ] && [ "${3:-}" != sh ]; then
  ok "init = true (default): berth's init is PID 1 (${3:-}), the workload PID 2 and its child"
else nok "init = true: berth's init is PID 1, the workload PID 2 (rc $rc, got '$(oneline "$out")')"; fi
# The init reaps orphans: a grandchild whose parent died is not left a zombie.
run $N-init /bin/sh -c '(sleep 0.2 & exit 0); sleep 0.6; cat /proc/[0-9]*/stat 2>/dev/null | awk "\$3 == \"Z\"" | wc -l'
check "berth's init reaps orphaned zombies" test "$rc:$out" = 0:0

# ---- hostname ------------------------------------------------------------------
def $N-host 'template = "busybox"' 'hostname = "bt-host-x"'
run $N-host /bin/sh -c 'hostname; cat /etc/hostname; echo $HOSTNAME'
check "hostname, /etc/hostname and HOSTNAME are the definition's hostname" test "$(oneline "$out")" = "bt-host-x bt-host-x bt-host-x"
run $N-init /bin/hostname
check "the hostname defaults to the container's name" test "$out" = "$N-init"
check "the host's hostname is untouched" test "$(hostname)" != "$N-init"

# ---- mounts: only the container's own -------------------------------------------
run $N-init /bin/sh -c 'awk "{print \$5}" /proc/self/mountinfo; for p in /work /boot /run/netns /mnt/sandboxing; do [ -e $p ] && echo "VISIBLE $p"; done; :'
bad=$(printf '%s\n' "$out" | grep -vE '^(/|/proc(/(acpi|asound|kcore|keys|latency_stats|timer_list|timer_stats|sched_debug|scsi|bus|fs|irq|sys|sysrq-trigger))?|/sys(/firmware)?|/dev(/(null|zero|full|random|urandom|tty|console|pts|shm|mqueue))?|/etc/(hosts|resolv\.conf|hostname))$')
if [ "$rc" = 0 ] && [ -z "$bad" ] && printf '%s\n' "$out" | grep -qx /proc; then
  ok "inside, only the container's own mounts exist (no host mount)"
else nok "inside, only the container's own mounts exist (rc $rc, unexpected: $(oneline "$bad"))"; fi
hostonly=""
for m in $(awk '{print $5}' /proc/self/mountinfo | grep -vE '^(/|/proc|/sys|/dev|/dev/pts|/dev/shm|/dev/mqueue)$' | sort -u | head -50); do
  printf '%s\n' "$out" | grep -qxF "$m" && hostonly="$hostonly $m"
done
check "no host-only mount point (of $(awk '{print $5}' /proc/self/mountinfo | sort -u | wc -l)) is visible inside$hostonly" test -z "$hostonly"

# ---- masked and read-only /proc, /sys --------------------------------------------
run $N-init /bin/sh -c '
  for f in kcore keys timer_list sched_debug latency_stats timer_stats; do
    [ -e /proc/$f ] && echo "$f $(cat /proc/$f 2>/dev/null | wc -c)"; done
  ls -A /proc/acpi /sys/firmware 2>/dev/null | grep -v : | grep . && echo ACPI-NOT-EMPTY
  echo x > /proc/keys 2>/dev/null && echo WROTE-keys
  echo bt > /proc/sys/kernel/hostname 2>/dev/null && echo WROTE-proc-sys
  echo h > /proc/sysrq-trigger 2>/dev/null && echo WROTE-sysrq
  echo 1500 > /sys/class/net/lo/mtu 2>/dev/null && echo WROTE-sys
  mkdir /sys/btrt 2>/dev/null && echo MKDIR-sys
  awk "\$5 == \"/sys\" {print \"sysopts \" \$6}" /proc/self/mountinfo
  :'
check "masked /proc files read empty ($(printf '%s\n' "$out" | grep -E '^(kcore|keys|timer_list|sched_debug|latency_stats|timer_stats) ' | tr '\n' ','))" \
  test -z "$(printf '%s\n' "$out" | grep -E '^(kcore|keys|timer_list|sched_debug|latency_stats|timer_stats) ' | grep -v ' 0$')"
check "/proc/keys and /proc/timer_list are masked (host's are not empty)" \
  bash -c '[ "$(printf "%s\n" "$1" | grep -cE "^(keys|timer_list) 0$")" = 2 ]' _ "$out"
check "/proc/acpi and /sys/firmware are empty" bash -c '! printf "%s\n" "$1" | grep -q ACPI-NOT-EMPTY' _ "$out"
check "writes to a masked /proc file fail" bash -c '! printf "%s\n" "$1" | grep -q WROTE-keys' _ "$out"
check "writes to /proc/sys fail (read-only)" bash -c '! printf "%s\n" "$1" | grep -q WROTE-proc-sys' _ "$out"
check "writes to /proc/sysrq-trigger fail" bash -c '! printf "%s\n" "$1" | grep -q WROTE-sysrq' _ "$out"
check "/sys is mounted read-only and refuses writes ($(printf '%s\n' "$out" | grep sysopts))" \
  bash -c 'printf "%s\n" "$1" | grep -qE "^sysopts ro," && ! printf "%s\n" "$1" | grep -qE "WROTE-sys|MKDIR-sys"' _ "$out"

# ---- network: a namespace of its own ------------------------------------------------
run $N-init /bin/sh -c 'ls /sys/class/net | tr "\n" " "; echo; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "'
check "only lo is visible inside ($(oneline "$out"), host has $(ls /sys/class/net | wc -l))" \
  test "$(oneline "$out")" = "lo  lo "

# ---- writes land in the upper layer; run is ephemeral ---------------------------
mkdir -p "$tmp/sync"
chmod 1777 "$tmp/sync" # writable in a user namespace too (the idmap lane)
def $N-upper 'template = "busybox"' "mount sync { source = \"$tmp/sync\"
  target = \"/sync\" }"
timeout -k 5 60 "$B" run --no-tty -c "$tmp/c/$N-upper" --state-dir "$state" $N-upper -- /bin/sh -c \
  'echo hi > /btfile; touch /sync/ready; i=0; while [ ! -e /sync/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done' \
  </dev/null >"$tmp/up.out" 2>&1 &
upid=$!; bgpids+=("$upid")
for _ in $(seq 300); do [ -e "$tmp/sync/ready" ] && break; sleep 0.1; done
check "a file written inside is in <state>/containers/NAME/upper during the run" \
  test "$(cat "$state/containers/$N-upper/upper/btfile" 2>/dev/null)" = hi
check "and never in the template" test ! -e "$state/templates/busybox/btfile"
run $N-upper /bin/true
check "a second run of a running container is refused with 125 ($(oneline "$err"))" \
  bash -c '[ "$1" = 125 ] && [[ "$2" == *"already running"* ]]' _ "$rc" "$err"
check "and the running one's upper layer is untouched" \
  test "$(cat "$state/containers/$N-upper/upper/btfile" 2>/dev/null)" = hi
touch "$tmp/sync/go"
wait "$upid"; urc=$?
check "the container ran to its end (rc $urc, $(oneline "$(cat "$tmp/up.out")"))" test "$urc" = 0
check "after run, the container's directory is gone" test ! -e "$state/containers/$N-upper"
check "the template is unchanged after the run" test ! -e "$state/templates/busybox/btfile"

# ---- only fds 0-2 ---------------------------------------------------------------
# ls is the workload itself (a shell opens fds of its own: pipes, saved fds).
# Its opendir() takes the lowest free fd, so an inherited fd 3 or above
# would show beside it: the exact answer is 0 1 2 and ls's directory, 3.
for n in $N-init $N-pid; do
  run $n /bin/ls /proc/self/fd
  check "$n: the workload has only fds 0 1 2 (ls /proc/self/fd: $(oneline "$out"))" test "$(oneline "$out")" = "0 1 2 3"
done

# ---- a mount target that is a symlink to the host's /etc ---------------------------
# RESOLVE_IN_ROOT resolves /mnt/evil -> /etc inside the root: the mount lands
# on <rootfs>/etc/NAME, never on the host's /etc/NAME.
rootfs_copy "$tmp/evilroot"
mkdir -p "$tmp/evilroot/mnt"; ln -s /etc "$tmp/evilroot/mnt/evil"
mkdir -p "$tmp/evilsrc"; echo marker > "$tmp/evilsrc/m"
def $N-evil "rootfs = \"$tmp/evilroot\"" "mount x { source = \"$tmp/evilsrc\"
  target = \"/mnt/evil/$evil\" }"
run $N-evil /bin/sh -c "cat /etc/$evil/m"
check "bind target through a symlink to /etc: the host's /etc/$evil is not created" test ! -e "/etc/$evil"
check "bind target through a symlink to /etc: the mount lands at <rootfs>/etc/$evil (rc $rc, $(oneline "$out$err"))" \
  bash -c '[ "$1" = 0 ] && [ "$2" = marker ] && [ -d "$3" ]' _ "$rc" "$out" "$tmp/evilroot/etc/$evil"
check "the rootfs directory has no mount left on it" no_mounts

# A racer on the host swaps the target's parent between a directory and a
# symlink to /etc while containers start (CVE-2021-30465 class): the host's
# /etc is never written and each container sees the source or nothing.
PROBE=$BUILD/tests/helpers/rt_probe
if [ -x "$PROBE" ]; then
  def $N-race "rootfs = \"$tmp/evilroot\"" "mount x { source = \"$tmp/evilsrc\"
  target = \"/mnt/race/$evil\" }"
  "$PROBE" race "$tmp/evilroot/mnt/race" /etc 20000000 >/dev/null &
  rpid=$!; bgpids+=("$rpid")
  seen="" nrun=0
  for _ in $(seq 40); do
    # Where the bind landed, as the container sees it (nothing if outside).
    run $N-race /bin/sh -c 'awk "\$4 ~ /\/evilsrc\$/ {print \$5}" /proc/self/mountinfo'
    nrun=$((nrun + 1)); seen="$seen $rc:$(oneline "$out")"
    [ -e "/etc/$evil" ] && break
  done
  kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
  check "symlink-swap racer on a mount target, $nrun starts: the host's /etc/$evil never appears" test ! -e "/etc/$evil"
  bad=$(printf '%s\n' $seen | grep -vE "^(125:|0:/(mnt/race[.a-z0-9]*|etc)/$evil)\$")
  check "symlink-swap racer: every start either failed cleanly or has the bind inside its root${bad:+ (bad: $(oneline "$bad"))}" \
    test -z "$bad"
  check "symlink-swap racer: some starts succeeded ($(printf '%s\n' $seen | sort | uniq -c | sort -rn | head -4 | tr -s ' \n' ' '))" \
    bash -c '[[ "$1" == *" 0:/"* ]]' _ "$seen"
else nok "the probe $PROBE is built"; fi

# ---- /proc, /sys, /dev as symlinks in the rootfs ---------------------------------------
for d in proc sys dev; do
  rootfs_copy "$tmp/sym$d"
  mkdir -p "$tmp/hostdir-$d"
  rm -rf "${tmp:?}/sym$d/$d"; ln -s "$tmp/hostdir-$d" "$tmp/sym$d/$d"
  def $N-sym$d "rootfs = \"$tmp/sym$d\""
  run $N-sym$d /bin/true
  if [ "$rc" = 125 ] && [[ "$err" == *symlink* ]] && [ -z "$(ls -A "$tmp/hostdir-$d")" ]; then
    ok "rootfs whose /$d is a symlink: refused with exit 125 ($(oneline "$err"))"
  else nok "rootfs whose /$d is a symlink: refused with exit 125 and 'symlink' (rc $rc, $(oneline "$err"), target has: $(ls -A "$tmp/hostdir-$d" | head -3 | tr '\n' ' '))"; fi
done

# ---- workdir escapes through magic links ---------------------------------------------
for w in /proc/self/fd/3 /proc/self/cwd /proc/1/root/etc; do
  def $N-wd "template = \"busybox\"" "workdir = \"$w\""
  run $N-wd /bin/pwd
  check "workdir = $w is refused with exit 125 (rc $rc, $(oneline "$err$out"))" test "$rc" = 125 -a -z "$out"
done
def $N-wd 'template = "busybox"' 'workdir = "/tmp"'
run $N-wd /bin/pwd
check "workdir = /tmp works" test "$rc:$out" = 0:/tmp

# ---- exit codes -----------------------------------------------------------------
t_exit() { # EXPECTED DESCRIPTION NAME CMD...
  local want=$1 d=$2; shift 2
  run "$@"
  if [ "$rc" = "$want" ]; then ok "exit $want: $d"; else nok "exit $want: $d (got $rc: $(oneline "$err"))"; fi
}
for n in $N-init $N-pid; do
  t_exit 0 "$n: /bin/true" $n /bin/true
  t_exit 3 "$n: sh -c 'exit 3'" $n /bin/sh -c 'exit 3'
  t_exit 126 "$n: /etc/passwd is not executable" $n /etc/passwd
  t_exit 127 "$n: /nonexistent" $n /nonexistent
done
t_exit 137 "sh -c 'kill -9 \$\$' under berth's init" $N-init /bin/sh -c 'kill -9 $$'
# Without an init the command is the namespace's PID 1, which the kernel
# protects from signals sent inside it that it has no handler for.
t_exit 0 "init = false: sh -c 'kill -9 \$\$' is ignored by PID 1" $N-pid /bin/sh -c 'kill -9 $$'
def $N-notpl 'template = "btrt-no-such-template"'
t_exit 125 "missing template" $N-notpl /bin/true
check "the message names the container and the template ($(oneline "$err"))" \
  bash -c '[[ "$1" == *"$2"* && "$1" == *btrt-no-such-template* ]]' _ "$err" "$N-notpl"

# ---- signals are forwarded ----------------------------------------------------------
sig_test() { # SIGNAL EXPECTED-RC
  local sig=$1 want=$2
  (
    set -m   # a background job of a non-interactive shell would ignore SIGINT
    "$B" run --no-tty -c "$tmp/c/$N-init" --state-dir "$state" $N-init -- /bin/sleep 30 0.$$ </dev/null >/dev/null 2>&1 &
    p=$!
    for _ in $(seq 100); do pgrep -f "sleep 30 0.$$" >/dev/null && break; sleep 0.05; done
    kill -"$sig" "$p"
    start=$(date +%s%N)
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
    wait "$p"; r=$?
    echo "$r $(( ($(date +%s%N) - start) / 1000000 ))"
  ) > "$tmp/sig.out"
  read -r got ms < "$tmp/sig.out"
  check "SIG$sig to berthctl run reaches the workload: exit $want within 5 s (got $got after ${ms} ms)" test "$got" = "$want"
  check "after SIG$sig the workload is gone" bash -c '! pgrep -f "sleep 30 0.$1" >/dev/null' _ $$
}
sig_test TERM 143
sig_test INT 130

# ---- the runtime binary cannot be overwritten from inside --------------------------------
sum_before=$(sha256sum < "$B")
run $N-init /bin/sh -c '
  readlink /proc/1/exe; w=0
  for i in $(seq 200); do
    (echo x > /proc/1/exe) 2>/dev/null && w=$((w+1))
    (exec 3<>/proc/1/exe) 2>/dev/null && w=$((w+1))
    (exec 3>>/proc/1/exe) 2>/dev/null && w=$((w+1))
  done; echo "writes=$w"'
check "opening /proc/1/exe (berth's init) for writing fails, 600 tries ($(oneline "$out"))" \
  bash -c '[[ "$1" == *"writes=0"* ]]' _ "$out"
check "the host's berthctl binary is unchanged" test "$(sha256sum < "$B")" = "$sum_before"

# ---- bad input leaves nothing behind -----------------------------------------------------
rm -rf "${state:?}/containers"
bad_input() { # DESCRIPTION EXPECTED-RC MESSAGE-PART NAME CMD...
  local d=$1 want=$2 msg=$3; shift 3
  run "$@"
  if [ "$rc" = "$want" ] && [[ "$err" == *"$msg"* ]]; then ok "$d: exit $want ($(oneline "$err"))"
  else nok "$d: exit $want with '$msg' (got $rc: $(oneline "$err"))"; fi
  check "$d: leaves no mount and no container directory" bash -c "$(declare -f no_mounts no_dirs); tmp='$tmp' state='$state'; no_mounts && no_dirs"
}
bad_input "missing template" 125 "$N-notpl" $N-notpl /bin/true
echo file > "$tmp/notadir"
def $N-nodir "rootfs = \"$tmp/notadir\""
bad_input "rootfs that is not a directory" 125 "not a directory" $N-nodir /bin/true
bad_input "command not in the rootfs" 127 "/usr/bin/btrt-nothing" $N-init /usr/bin/btrt-nothing
def $N-user 'template = "busybox"' 'user = "nosuchuser"'
bad_input "user unknown to the rootfs" 125 "nosuchuser" $N-user /bin/true
def $N-nosrc 'template = "busybox"' "mount m { source = \"$tmp/btrt-no-source\"
  target = \"/mnt/m\" }"
bad_input "bind source that does not exist" 125 "$tmp/btrt-no-source" $N-nosrc /bin/true

# ---- 100 runs in a row leave nothing behind ----------------------------------------------
def $N-loop 'template = "busybox"'
nfail=0 start=$(date +%s%N)
for _ in $(seq 100); do
  "$B" run --no-tty -c "$tmp/c/$N-loop" --state-dir "$state" $N-loop -- /bin/true </dev/null >/dev/null 2>&1 || nfail=$((nfail + 1))
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "100 runs of /bin/true all exit 0 ($nfail failed, $((ms / 100)) ms each)" test "$nfail" = 0
check "100 runs leave no mount" no_mounts
check "100 runs leave no directory under <state>/containers" no_dirs
check "100 runs leave no process" no_procs
# CGROUP GUARD: once runtime.c creates cgroups, none may outlive its container.
# Looks below this shell's own cgroup in every hierarchy for a directory that
# names one of our containers or is a berth/ directory holding one. Passes
# trivially while runtime.c creates no cgroups.
left=""
while IFS=: read -r _ ctrls path; do
  c=${ctrls#name=}; [ -n "$c" ] || c=unified
  for root in /sys/fs/cgroup/"$c" /sys/fs/cgroup/unified; do
    [ -d "$root$path" ] || continue
    left="$left$(find "$root$path" -maxdepth 6 -type d \( -name "*$N-*" -o -path "*/berth/$N-*" \) 2>/dev/null | head -5)"
  done
done < /proc/self/cgroup
check "no cgroup of ours is left (CGROUP GUARD)${left:+: $left}" test -z "$left"

# ---- -t under a pty -------------------------------------------------------------------
for n in $N-init $N-pid; do
  TERM=xterm-btrt timeout -k 5 30 script -qec \
    "$B run -t -c $tmp/c/$n --state-dir $state $n -- /bin/sh -c 'tty; echo TERM=\$TERM; exec ls -1 /proc/self/fd'" \
    /dev/null </dev/null >"$tmp/tty.out" 2>&1
  trc=$?
  # script echoes the EOF it reads from /dev/null into its pty as "^@".
  out=$(tr -d '\r' < "$tmp/tty.out" | sed 's/\^@//g')
  if [ "$trc" = 0 ] && printf '%s\n' "$out" | grep -qxE '/dev/pts/[0-9]+' &&
     printf '%s\n' "$out" | grep -qx 'TERM=xterm-btrt'; then
    ok "$n: -t gives the workload a pty of the container's devpts and the caller's TERM"
  else nok "$n: -t gives a container pty and TERM (rc $trc: $(oneline "$out"))"; fi
  check "$n: with -t the workload has only fds 0 1 2" bash -c 'printf "%s\n" "$1" | tr "\n" " " | grep -q "0 1 2 3 $"' _ "$out"
done
check "after everything: no mount, no container directory, no process" bash -c \
  "$(declare -f no_mounts no_dirs no_procs); tmp='$tmp' state='$state'; no_mounts && no_dirs && no_procs"

exit $fail
