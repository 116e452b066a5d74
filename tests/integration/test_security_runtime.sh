#!/bin/bash
# The SECURITY.md confinement of a running container, checked from inside
# with `berthctl run` and the static probe tests/helpers/rt_probe.c
# (bind-mounted read-only at /probe).
#
# NEEDS THE SECURITY WIRING (capabilities, no_new_privs, seccomp, device
# cgroup in lib/runtime.c's confine hook); until then these fail, as they must:
#   [caps]     CapInh/CapAmb 0, CapBnd/CapEff/CapPrm = Docker's default set
#              0x00000000a80425fb, for the workload and for berth's init
#   [nnp]      NoNewPrivs 1; a setuid-root binary run as user 1000 stays uid 1000
#   [seccomp]  Seccomp 2; keyctl (64-bit and i386 ABI), unshare(CLONE_NEWUSER),
#              i386 socketcall() -> ENOSYS, i386 socket(AF_VSOCK) -> EPERM,
#              busybox `unshare -U`, mount, TIOCSTI (also with high bits) -> EPERM
#   [caps+seccomp] umount of a masked /proc path fails; mounting a cgroup v1
#              hierarchy fails (CVE-2022-0492); /proc/1/exe cannot be opened
#   [devices]  a block device node made inside cannot be opened
# Passing already (defences in mounts.c / spawn.c): reopening /proc/1/exe
# for writing fails.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
B=$BUILD/berthctl
P=$BUILD/tests/helpers/rt_probe
tmp=$(mktemp -d /tmp/btsrt.XXXXXX)
state=$tmp/state
N=btsrt-$$
trap 'rm -rf "$tmp"' EXIT
has() { printf '%s\n' "$1" | grep -qxE "$2"; }
DOCKER_CAPS=00000000a80425fb

for f in "$B" "$P"; do [ -x "$f" ] || { nok "$f is built"; exit 1; }; done
probe_mount="mount probe { source = \"$BUILD/tests/helpers\"
  target = \"/probe\"
  read-only = true }"
def $N 'template = "busybox"' "$probe_mount"
def $N-noinit 'template = "busybox"' 'init = false' "$probe_mount"
run $N /bin/true
[ "$rc" = 0 ] || { nok "a container runs at all (rc $rc: $(oneline "$err"))"; exit 1; }

# ---- [caps] [nnp] [seccomp] /proc/self/status ------------------------------------
field() { printf '%s\n' "$1" | awk -v k="$2:" '$1 == k { print $2 }'; }
for n in $N $N-noinit; do
  run $n /bin/cat /proc/self/status
  for f in CapInh CapAmb; do
    check "[caps] $n: $f is 0 ($(field "$out" $f))" test "$(field "$out" $f)" = 0000000000000000
  done
  for f in CapBnd CapEff CapPrm; do
    check "[caps] $n: $f is Docker's default set $DOCKER_CAPS ($(field "$out" $f))" test "$(field "$out" $f)" = $DOCKER_CAPS
  done
  check "[nnp] $n: NoNewPrivs is 1 ($(field "$out" NoNewPrivs))" test "$(field "$out" NoNewPrivs)" = 1
  check "[seccomp] $n: Seccomp is 2, filter mode ($(field "$out" Seccomp))" test "$(field "$out" Seccomp)" = 2
done
# berth's init keeps no more than the workload.
run $N /bin/cat /proc/1/status
bnd=$(field "$out" CapBnd)
check "[caps] berth's init: CapBnd within $DOCKER_CAPS (${bnd:-?}), CapInh 0" \
  bash -c '[ -n "$1" ] && [ $(( 0x$1 & ~0x'$DOCKER_CAPS' )) = 0 ] && [ "$2" = 0000000000000000 ]' _ "$bnd" "$(field "$out" CapInh)"
check "[nnp] berth's init: NoNewPrivs 1 and Seccomp 2" test "$(field "$out" NoNewPrivs):$(field "$out" Seccomp)" = 1:2

# ---- [seccomp] syscalls the kernel does not namespace ------------------------------
for n in $N $N-noinit; do
  run $n /probe/rt_probe keyctl keyctl32 unshare_user mount /tmp/btmnt tiocsti tiocsti_high
  check "[seccomp] $n: keyctl -> EPERM ($(oneline "$out"))" has "$out" 'keyctl EPERM'
  if has "$out" 'keyctl32 UNAVAILABLE.*'; then
    ok "[seccomp] $n: keyctl through the i386 ABI # skip this kernel has no i386 ABI"
  else
    check "[seccomp] $n: keyctl through the i386 ABI -> EPERM or ENOSYS" has "$out" 'keyctl32 (EPERM|ENOSYS)'
  fi
  check "[seccomp] $n: unshare(CLONE_NEWUSER) -> EPERM" has "$out" 'unshare_user EPERM'
  check "[caps+seccomp] $n: mount of a tmpfs -> EPERM" has "$out" 'mount EPERM'
  check "[seccomp] $n: TIOCSTI -> EPERM" has "$out" 'tiocsti EPERM'
  check "[seccomp] $n: TIOCSTI with high bits set -> EPERM" has "$out" 'tiocsti_high EPERM'
done
# The i386 socket paths (tests/helpers/syscall_probe, through int $0x80):
# socketcall() hides socket()'s family in memory, so it is refused outright
# (ENOSYS); the direct i386 socket() is filtered by family like x86-64's,
# and still creates an ordinary AF_INET socket.
run $N /probe/syscall_probe
if has "$out" 'i386-abi unavailable.*'; then
  ok "[seccomp] i386 socketcall/socket(AF_VSOCK) refused # skip $(printf '%s\n' "$out" | grep -m1 i386-abi)"
else
  check "[seccomp] i386 socketcall(SYS_SOCKET, AF_VSOCK) -> EPERM or ENOSYS ($(printf '%s\n' "$out" | grep -m1 'i386:socketcall_vsock '))" \
    has "$out" 'i386:socketcall_vsock (EPERM|ENOSYS)'
  check "[seccomp] i386 socketcall(SYS_SOCKET, AF_INET) -> ENOSYS too: socketcall is refused outright" \
    has "$out" 'i386:socketcall_inet ENOSYS'
  check "[seccomp] i386 socket(AF_VSOCK) (syscall 359) -> EPERM ($(printf '%s\n' "$out" | grep -m1 'i386:socket_vsock '))" \
    has "$out" 'i386:socket_vsock (EPERM|ENOSYS)'
  check "[seccomp] i386 socket(AF_INET) (syscall 359) still works ($(printf '%s\n' "$out" | grep -m1 'i386:socket_inet '))" \
    has "$out" 'i386:socket_inet OK'
fi

run $N /bin/sh -c 'unshare -U /bin/true 2>&1; echo rc=$?'
check "[seccomp] busybox unshare -U fails with EPERM ($(oneline "$out"))" \
  bash -c '[[ "$1" != *rc=0* && "$1" == *"not permitted"* ]]' _ "$out"

# ---- [caps+seccomp] masks stay, cgroup v1 release_agent ------------------------------
run $N /bin/sh -c 'for m in /proc/keys /proc/timer_list /proc/sys /sys/firmware; do umount $m 2>/dev/null && echo "UNMOUNTED $m"; umount -l $m 2>/dev/null && echo "UNMOUNTED $m"; done; :'
check "[caps+seccomp] umount of masked and read-only paths fails ($(oneline "$out"))" test -z "$out"
# Only the mount is attempted: release_agent is never written, even if it
# were reachable.
run $N /bin/sh -c 'mkdir -p /tmp/cg
  mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null && { echo MOUNTED; umount /tmp/cg; }
  unshare -m -C /bin/sh -c "mount -t cgroup -o memory cgroup /tmp/cg && echo UNSHARE-MOUNTED" 2>/dev/null
  [ -e /sys/fs/cgroup/memory/release_agent ] && echo VISIBLE; :'
check "[caps+seccomp] a cgroup v1 hierarchy cannot be mounted, with or without unshare ($(oneline "$out"))" test -z "$out"

# ---- /proc/1/exe (CVE-2019-5736) ----------------------------------------------------
# Reopening berth's init binary for writing must always fail ([passing]);
# with the wiring even opening it fails: the init is not dumpable and the
# container has no CAP_SYS_PTRACE, or it is a sealed memfd.
run $N /bin/sh -c 'for i in $(seq 100); do /probe/rt_probe exe_rdonly; (exec 3</proc/1/exe; exec 4>/proc/self/fd/3) 2>/dev/null && echo REOPENED-FOR-WRITE; done | sort | uniq -c'
check "reopening an fd of /proc/1/exe for writing fails, 100 tries ($(oneline "$out"))" \
  bash -c '[[ "$1" != *REOPENED* ]]' _ "$out"
host_id=$(stat -L -c '%d:%i' "$B")
check "[caps] /proc/1/exe cannot be opened (EACCES), or is not the host's berthctl $host_id ($(oneline "$out"))" \
  bash -c '! printf "%s\n" "$1" | grep -q "exe_id $2\$"' _ "$out" "$host_id"
# Seen from the host: every process of a running container (init, and the
# workload before its exec) is a sealed memfd copy of berth-init, never a
# file of the host (berthctl runs unsealed since the init became its own
# program).
timeout -k 5 60 "$B" run --no-tty -c "$tmp/c/$N" --state-dir "$state" $N -- /bin/sleep 30 </dev/null >/dev/null 2>&1 &
rp=$!
ipid=""
for _ in $(seq 100); do
  bp=$(pgrep -P $rp -x berthctl)
  ipid=$([ -n "$bp" ] && pgrep -P "$bp" -x berth-init)
  [ -n "$ipid" ] && [ -n "$(pgrep -P "$ipid")" ] && break; sleep 0.1
done
exe=$(readlink /proc/$ipid/exe 2>/dev/null)
check "the container's init is a memfd copy of berth-init, seen from the host ($exe)" \
  bash -c '[[ "$1" == "/memfd:berth-init (deleted)" ]]' _ "$exe"
seals=$(python3 -c 'import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); print(fcntl.fcntl(fd, 1034) & 15)' /proc/$ipid/exe 2>&1)
check "its copy is sealed against writes, growth, shrinking and new seals (F_GET_SEALS $seals = 15)" test "$seals" = 15
cmdline=$(tr '\0' ' ' < /proc/$ipid/cmdline 2>/dev/null)
check "ps shows it as what it is ($cmdline)" bash -c '[[ "$1" == "berth-init init "[0-9]* ]]' _ "$cmdline"
kill "$bp" 2>/dev/null; wait $rp 2>/dev/null
# The CVE-2019-5736 entry point: a workload that is a script with
# /proc/self/exe as interpreter runs whatever the exec'ing process is. Here
# that is berth-init's sealed copy, which refuses the arguments.
mkdir -p "$tmp/selfexe"
printf '#!/proc/self/exe\n' > "$tmp/selfexe/evil"
chmod 755 "$tmp/selfexe/evil"
def $N-selfexe 'template = "busybox"' "mount x { source = \"$tmp/selfexe\"
  target = \"/x\"
  read-only = true }"
for n in $N-selfexe; do
  run $n /x/evil
  check "#!/proc/self/exe as the workload runs berth-init's copy, not berthctl (rc $rc, $(oneline "$err"))" \
    bash -c '[ "$1" = 2 ] && [[ "$2" == *"usage: berth-init"* ]]' _ "$rc" "$err"
done

# ---- [devices] block device nodes -----------------------------------------------------
blk=$(cat "$(ls -d /sys/class/block/*/dev 2>/dev/null | head -1)" 2>/dev/null)
if [ -z "$blk" ]; then nok "[devices] the host has a block device to try"; else
  for d in /dev /tmp; do
    run $N /probe/rt_probe mknod_blk $d/btblk ${blk%%:*} ${blk##*:}
    if has "$out" 'mknod_blk EPERM' || has "$out" 'open_blk (EPERM|EACCES)'; then
      ok "[devices] a block device $blk made in $d cannot be opened ($(oneline "$out"))"
    else nok "[devices] a block device $blk made in $d cannot be opened ($(oneline "$out$err"))"; fi
  done
fi

# ---- [nnp] a setuid binary run as user 1000 gains nothing -------------------------------
cp -a "$state/templates/busybox" "$tmp/root"
install -m 4755 -o 0 -g 0 "$P" "$tmp/root/bin/btsuid"
def $N-suid "rootfs = \"$tmp/root\"" 'user = "1000"'
run $N-suid /bin/btsuid ids
check "[nnp] a setuid-root binary run as user 1000 stays uid 1000 ($(oneline "$out$err"))" \
  test "$out" = "uid 1000 1000 1000 gid 1000 1000 1000"
run $N-suid /bin/sh -c 'grep -E "^Cap(Inh|Prm|Eff|Amb)" /proc/self/status | awk "{print \$2}" | sort -u'
check "user 1000 has no capability at all ($(oneline "$out"))" test "$out" = 0000000000000000
if [ -n "$blk" ]; then
  def $N-rootfs "rootfs = \"$tmp/root\"" "$probe_mount"
  run $N-rootfs /probe/rt_probe mknod_blk /tmp/btblk ${blk%%:*} ${blk##*:}
  if has "$out" 'mknod_blk EPERM' || has "$out" 'open_blk (EPERM|EACCES)'; then
    ok "[devices] a block device $blk made in a rootfs = directory cannot be opened ($(oneline "$out"))"
  else nok "[devices] a block device $blk made in a rootfs = directory cannot be opened ($(oneline "$out$err"))"; fi
fi

exit $fail
