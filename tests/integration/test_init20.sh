#!/bin/bash
# berth's init from berthd's read-only copy (issue 20): a container with
# init = true (the default) runs its PID 1 from a read-only bind of ONE
# file that berthd keeps on a small tmpfs whose superblock is read-only
# (RUN/init/berth-init), bound at /dev/.berth-init in each container, so
# that CRIU can restore it (a memfd it cannot) while the CVE-2019-5736
# defence holds. Checked with a private berthd and real containers:
#  1. the copy: RUN/init is a tmpfs mounted read-only with a read-only
#     superblock, the file is berth-init's bytes, not writable from the
#     host either, even through a bind remounted read-write;
#  2. from inside: /proc/1/exe is /dev/.berth-init, neither it nor
#     /proc/1/exe can be opened for writing (100 tries), its mount is
#     read-only (mount and superblock), nothing of the host's is there;
#  3. two containers' inits map the same inode (shared page cache), which
#     is the host's copy;
#  4. a container with capability sys_admin (it could remount the
#     superblock) runs from the sealed memfd instead, and its checkpoint is
#     refused for that reason; an init = true container's is not (a
#     stand-in criu whose check passes, its dump fails: the dump was run,
#     with the workload's output pipes noted for the restore, as berth's
#     init holds none);
#  5. berthctl exec still works; berthd detaching (SIGUSR2) unmounts the
#     copy and the running container keeps its own bind; a new berthd
#     makes a new copy, re-adopts, and a restarted container's init runs
#     from the new copy; berthd's exit unmounts it.
set -u
. "$(dirname "$0")/lib.sh"
OK_PREFIX="init20: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=init20-$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_CRIU
ROOT=$(mktemp -d /tmp/init20.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""

running() { state_is "$1" running; }
FAKE=$ROOT/criu
cat > "$FAKE" <<'EOS'
#!/bin/sh
# A stand-in for criu: check passes; dump fails as CRIU does, in its log.
case $1 in
check) echo "Looks good."; exit 0 ;;
dump)
  while [ $# -gt 0 ]; do case $1 in -D) dir=$2; shift ;; -o) log=$2; shift ;; esac; shift; done
  echo "(00.001) Error (criu/cr-dump.c:2093): init20 stand-in dump ran, stdio $(tr '\n' ' ' < "$dir/berth-stdio")" > "$dir/$log"
  exit 1 ;;
esac
exit 1
EOS
chmod +x "$FAKE"

env_new a
SLEEP='command = { "/bin/sleep", "1000" }'
container "$P-a" "$SLEEP" 'autostart = true' 'network { mode = "none" }'
container "$P-b" "$SLEEP" 'autostart = true' 'network { mode = "none" }'
container "$P-adm" "$SLEEP" 'autostart = true' 'network { mode = "none" }' 'capabilities { add = { "sys_admin" } }'
daemon_start env BERTH_CRIU="$FAKE"
for n in a b adm; do check "berthd starts $P-$n" wait_until 60 running "$P-$n"; done

# ---- 1. the copy ------------------------------------------------------------------------------
INIT=$D/run/init
mi=$(awk -v m="$INIT" '$5 == m' /proc/self/mountinfo)
mnt_opts=$(awk '{ print $6 }' <<<"$mi")
sb=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $(i+1), $(i+3); exit } }' <<<"$mi")
check "$INIT is a mount of its own, read-only ($mnt_opts)" bash -c '[[ ",$1," == *,ro,* ]]' _ "$mnt_opts"
check "a tmpfs whose superblock is read-only ($sb)" bash -c '[[ "$1" == "tmpfs ro"* ]] || [[ "$1" == tmpfs*",ro"* ]] || [[ "$1" == "tmpfs ro,"* ]]' _ "$sb"
check "it holds berth-init's bytes" cmp -s "$INIT/berth-init" "$BUILD/berth-init"
check "mode 0555, owned by root" test "$(stat -c '%a %u' "$INIT/berth-init")" = "555 0"
check "the host cannot write it either" bash -c '! { echo x >> "$1"; } 2>/dev/null' _ "$INIT/berth-init"
mkdir -p "$ROOT/rw" && touch "$ROOT/rw/f"
mount --bind "$INIT/berth-init" "$ROOT/rw/f" && mount -o remount,bind,rw "$ROOT/rw/f" 2>/dev/null
out=$( { echo x >> "$ROOT/rw/f"; } 2>&1 ); rc=$?
check "a bind of it remounted read-write writes nothing either: the superblock is read-only ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && [[ "$2" == *"Read-only file system"* ]]' _ "$rc" "$out"
umount "$ROOT/rw/f" 2>/dev/null

# ---- 2. from inside ----------------------------------------------------------------------------
# PID 1 is not dumpable: inside, without CAP_SYS_PTRACE, its exe link is not
# even readable; the host reads the path in the container's mount tree.
pa=$(pid_of "$P-a")
exe=$(readlink /proc/$pa/exe 2>&1)
check "its init runs /dev/.berth-init of the container's tree, seen from the host ($exe)" test "$exe" = /dev/.berth-init
out=$(ctl exec "$P-a" -- /bin/sh -c 'cat /proc/1/comm; readlink /proc/1/exe 2>/dev/null || echo UNREADABLE' 2>&1)
check "inside, PID 1 is berth-init and its exe link is unreadable ($(oneline "$out"))" \
  test "$out" = "berth-init
UNREADABLE"
out=$(ctl exec "$P-a" -- /bin/sh -c 'n=0; for i in $(seq 100); do { echo x >> /proc/1/exe; } 2>/dev/null && n=$((n+1)); { echo x >> /dev/.berth-init; } 2>/dev/null && n=$((n+1)); (exec 3</dev/.berth-init; exec 4>/proc/self/fd/3) 2>/dev/null && n=$((n+1)); done; echo "written $n"; { echo x >> /dev/.berth-init; } 2>&1' 2>&1)
check "neither /proc/1/exe nor /dev/.berth-init can be opened for writing, 100 tries each ($(oneline "$out"))" \
  bash -c '[[ "$1" == "written 0"* ]] && [[ "$1" == *"Read-only file system"* ]]' _ "$out"
line=$(ctl exec "$P-a" -- /bin/sh -c "awk '\$5 == \"/dev/.berth-init\"' /proc/self/mountinfo" 2>&1)
mo=$(awk '{ print $6 }' <<<"$line")
so=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $(i+1), $(i+3); exit } }' <<<"$line")
check "its mount is read-only, nosuid, nodev ($mo)" \
  bash -c '[[ ",$1," == *,ro,* && ",$1," == *,nosuid,* && ",$1," == *,nodev,* ]]' _ "$mo"
check "on a tmpfs whose superblock is read-only ($so)" bash -c '[[ "$1" == "tmpfs ro"* ]]' _ "$so"
out=$(ctl exec "$P-a" -- /bin/sh -c 'mount -o remount,bind,rw /dev/.berth-init 2>&1 || echo REFUSED; umount /dev/.berth-init 2>&1 || echo REFUSED' 2>&1)
check "without sys_admin it can be neither remounted nor unmounted ($(oneline "$out"))" \
  bash -c '[ "$(grep -c REFUSED <<<"$1")" = 2 ]' _ "$out"
out=$(ctl exec "$P-a" -- /bin/ls -a /dev/.berth-init 2>&1)
check "the container sees the one file, no directory of the host's ($(oneline "$out"))" test "$out" = /dev/.berth-init

# ---- 3. shared pages ---------------------------------------------------------------------------
pa=$(pid_of "$P-a"); pb=$(pid_of "$P-b")
ia=$(stat -L -c '%d:%i' /proc/$pa/exe 2>/dev/null); ib=$(stat -L -c '%d:%i' /proc/$pb/exe 2>/dev/null)
ih=$(stat -c '%d:%i' "$INIT/berth-init")
check "the two inits run the same file ($ia, $ib), berthd's copy ($ih)" \
  bash -c '[ -n "$1" ] && [ "$1" = "$2" ] && [ "$1" = "$3" ]' _ "$ia" "$ib" "$ih"
ino=${ih#*:}
ma=$(awk -v i="$ino" '$5 == i && $6 ~ /berth-init/' /proc/$pa/maps | wc -l)
mb=$(awk -v i="$ino" '$5 == i && $6 ~ /berth-init/' /proc/$pb/maps | wc -l)
check "both map that inode ($ma and $mb mappings): one page cache" bash -c '[ "$1" -gt 0 ] && [ "$2" -gt 0 ]' _ "$ma" "$mb"

# ---- 4. sys_admin: the memfd; checkpoints --------------------------------------------------------
padm=$(pid_of "$P-adm")
exe=$(readlink /proc/$padm/exe 2>/dev/null)
check "with sys_admin the init runs from the sealed memfd ($exe)" test "$exe" = "/memfd:berth-init (deleted)"
out=$(ctl exec "$P-adm" -- /bin/sh -c 'ls /dev/.berth-init 2>&1 || echo ABSENT' 2>&1)
check "and has no /dev/.berth-init ($(oneline "$out"))" bash -c '[[ "$1" == *ABSENT* ]]' _ "$out"
out=$(ctl checkpoint --leave-running "$P-adm" c1 2>&1); rc=$?
check "its checkpoint is refused before the dump: its init runs from a memory file ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && grep -q "runs from a memory file" <<<"$2" && grep -q "sys_admin" <<<"$2" && ! grep -q "stand-in" <<<"$2"' _ "$rc" "$out"
out=$(ctl checkpoint --leave-running "$P-a" c1 2>&1); rc=$?
check "an init = true container's is not refused: the dump ran ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && grep -q "stand-in dump ran" <<<"$2" && ! grep -q "memory file" <<<"$2"' _ "$rc" "$out"
check "its workload's output pipes were noted for the restore (berth's init holds none): $(grep -o 'stdio.*' <<<"$out")" \
  bash -c '[[ "$1" == *"1 pipe:["*"2 pipe:["* ]]' _ "$out"
check "it runs on, same pid" bash -c '[ "$1" = "$2" ]' _ "$(pid_of "$P-a")" "$pa"

# ---- 5. exec; berthd's exit and a new berthd ------------------------------------------------------
out=$(ctl exec "$P-b" -- /bin/echo exec-ok 2>&1)
check "berthctl exec works ($(oneline "$out"))" test "$out" = exec-ok
unmounted() { ! awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
old_id=$(stat -c '%d:%i' "$INIT/berth-init")
pa=$(pid_of "$P-a")
kill -USR2 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
check "berthd detached (SIGUSR2): its copy is unmounted" unmounted "$INIT"
check "the container runs on, its init still on the old copy through its own bind ($(stat -L -c '%d:%i' /proc/$pa/exe 2>&1))" \
  bash -c 'kill -0 "$1" && [ "$(stat -L -c %d:%i /proc/$1/exe)" = "$2" ]' _ "$pa" "$old_id"
daemon_start
readopted() { [ "$(pid_of "$P-a")" = "$pa" ] && running "$P-a"; }
check "a new berthd re-adopts $P-a (same pid $pa)" wait_until 60 readopted
n=$(awk -v m="$INIT" '$5 == m' /proc/self/mountinfo | wc -l)
check "and makes a copy of its own, one mount ($n)" bash -c '[ "$1" = 1 ] && cmp -s "$2/berth-init" "$3"' _ "$n" "$INIT" "$BUILD/berth-init"
out=$(ctl exec "$P-a" -- /bin/echo exec-ok 2>&1)
check "berthctl exec into the re-adopted container works ($(oneline "$out"))" test "$out" = exec-ok
pb=$(pid_of "$P-b")
ctl restart "$P-b" >/dev/null 2>&1
newb() { local p; p=$(pid_of "$P-b"); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$pb" ] && running "$P-b"; }
check "$P-b restarts" wait_until 60 newb
pb=$(pid_of "$P-b")
ib=$(stat -L -c '%d:%i' /proc/$pb/exe 2>/dev/null); ih=$(stat -c '%d:%i' "$INIT/berth-init" 2>/dev/null)
check "its new init runs from the new copy ($ib = $ih)" bash -c '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$ib" "$ih"
daemon_stop
check "berthd's exit unmounts its copy" unmounted "$INIT"
check "no warning about the copy in berthd's log" bash -c '! grep -q "cannot be checkpointed" "$1"' _ "$D/berthd.log"
daemon_finish ""
exit $fail
