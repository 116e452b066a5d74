#!/bin/bash
# disk-quota through `berthctl run`: on a state directory whose file system
# has project quotas (a fresh ext4 image made with -O project,quota, and an
# xfs image when xfsprogs is installed, each mounted with prjquota), a
# container with disk-quota = 8M cannot write more than 8 MiB, one with 12M
# not more than 12 MiB, one without a quota writes 20 MiB; the upper layer
# carries the recorded project id with inheritance; test_quota's live tests
# pass there. On a file system without project quotas the start fails with
# a clear message and leaves nothing behind; rootfs = DIR and sys_resource
# are refused.
# When this host's kernel cannot mount the image with prjquota (no quota
# format built in), those checks run in a throw-away QEMU VM with the
# Debian kernel (tests/vm/run-in-vm.sh), the images attached as virtio
# disks. Needs root, mkfs.ext4 (e2fsprogs), a static busybox
# (templates/busybox.sh); for the VM qemu and /boot's kernel.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BERTH_BUILD:-$PWD/build}
B=$BUILD/berthctl
tmp=$(mktemp -d /tmp/btquota.XXXXXX)
img=$tmp/btquota
mnt=$tmp/mnt
loopdev=""
cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt" 2>/dev/null || umount -l "$mnt"; fi
  [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# The idmap lane (tests/run-all.sh): every container without idmap of its
# own runs with BERTH_TEST_IDMAP (as lib.sh does for the other suites).
idmap_env=
if [ -n "${BERTH_TEST_IDMAP:-}" ]; then
  export BERTH_DEFAULT_IDMAP=$BERTH_TEST_IDMAP
  export BERTH_IDMAP_POOL=${BERTH_IDMAP_POOL:-3000000000:13107200}
  idmap_env="export BERTH_DEFAULT_IDMAP=$BERTH_DEFAULT_IDMAP BERTH_IDMAP_POOL=$BERTH_IDMAP_POOL"
fi
failed=0
ok() { echo "ok $*"; }
notok() { echo "not ok $*"; failed=1; }
oneline() { printf '%s' "$1" | tr '\n' ' ' | head -c 400; }

for f in "$B" "$BUILD/tests/test_quota"; do
  [ -x "$f" ] || { notok "$f is built"; exit 1; }
done

# ---- the checks that need project quotas, for the host or the VM ------------
# checks.sh FSTYPE BERTHCTL MOUNTPOINT LSATTR TEST_QUOTA: prints ok / not ok lines.
cat > "$tmp/checks.sh" <<'EOS'
#!/bin/sh
FS=$1 B=$2 M=$3 LSATTR=$4 UNIT=$5
S=$M/state C=$M/conf
ok() { echo "ok $FS: $*"; }
notok() { echo "not ok $FS: $*"; }
def() { # NAME LINES...
  n=$1; shift
  mkdir -p "$C/$n"
  { echo "container $n {"; for l in "$@"; do echo "  $l"; done; echo "}"; } > "$C/$n/c.conf"
}
run() { # NAME CMD...
  n=$1; shift
  "$B" run --no-tty -c "$C/$n" --state-dir "$S" "$n" -- "$@" < /dev/null > "$M/out" 2> "$M/err"
  rc=$?
  out=$(cat "$M/out"); err=$(cat "$M/err")
}
one() { printf '%s' "$1" | tr '\n' ' ' | head -c 400; }
# The container writes 20 MiB to /big and reports dd's status and the size.
WRITE='dd if=/dev/zero of=/big bs=1M count=20 2>&1; echo "dd=$?"; wc -c < /big'
size_of() { printf '%s\n' "$1" | tail -n 1; }

def btquota-lim 'template = "busybox"' 'disk-quota = 8M'
run btquota-lim /bin/sh -c "$WRITE"
sz=$(size_of "$out")
if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q '^dd=[1-9]' \
   && printf '%s' "$out" | grep -qiE 'quota exceeded|no space left' \
   && [ "$sz" -ge $((7 * 1048576)) ] && [ "$sz" -le $((8 * 1048576)) ]; then
  ok "disk-quota = 8M: writing 20 MiB inside fails with EDQUOT, the file stops at $sz bytes"
else notok "disk-quota = 8M: the write stops near 8 MiB (rc $rc, out '$(one "$out")', err '$(one "$err")')"; fi

def btquota-big 'template = "busybox"' 'disk-quota = 12M'
run btquota-big /bin/sh -c "$WRITE"
sz=$(size_of "$out")
if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q '^dd=[1-9]' \
   && [ "$sz" -ge $((11 * 1048576)) ] && [ "$sz" -le $((12 * 1048576)) ]; then
  ok "disk-quota = 12M: the file stops at $sz bytes"
else notok "disk-quota = 12M: the write stops near 12 MiB (rc $rc, out '$(one "$out")', err '$(one "$err")')"; fi

def btquota-free 'template = "busybox"'
run btquota-free /bin/sh -c "$WRITE"
sz=$(size_of "$out")
if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q '^dd=0' && [ "$sz" = 20971520 ]; then
  ok "no disk-quota: the container writes 20 MiB on the same file system"
else notok "no disk-quota: 20 MiB written (rc $rc, out '$(one "$out")', err '$(one "$err")')"; fi

# While a quota container runs, its upper layer carries its recorded
# project id with the inherit flag (lsattr -p: "ID ---...P--").
"$B" run --no-tty -c "$C/btquota-lim" --state-dir "$S" btquota-lim -- /bin/sh -c 'mkdir -p /d/e; touch /d/e/f; sleep 3' \
  < /dev/null > "$M/bg.out" 2>&1 &
bg=$!
u=$S/containers/btquota-lim/upper
i=0
while [ $i -lt 50 ] && ! [ -e "$u/d/e/f" ]; do sleep 0.1; i=$((i + 1)); done
want=$(cat "$S/containers/btquota-lim/quota-project" 2>/dev/null)
got=$("$LSATTR" -pd "$u" 2>&1)
gotf=$("$LSATTR" -p "$u/d/e/f" 2>&1)
wait $bg
set -- $got
if [ -n "$want" ] && [ "$want" -ge 2147483648 ] && [ "${1:-}" = "$want" ] && printf '%s' "${2:-}" | grep -q P \
   && [ "$(printf '%s' "$gotf" | awk '{print $1}')" = "$want" ]; then
  ok "the upper layer and a file created inside carry the container's project id $want (inherit flag set)"
else notok "project id on the upper layer (recorded '$want', lsattr '$(one "$got")', file '$(one "$gotf")')"; fi

# idmap: the writable layer's files belong to the container's host ids
# (not root), and the project quota holds them as well.
def btquota-idm 'template = "busybox"' 'idmap = "100000:65536"' 'disk-quota = 8M'
run btquota-idm /bin/sh -c "touch /owned; $WRITE"
sz=$(size_of "$out")
if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q '^dd=[1-9]' \
   && [ "$sz" -ge $((7 * 1048576)) ] && [ "$sz" -le $((8 * 1048576)) ]; then
  ok "idmap + disk-quota = 8M: the write stops at $sz bytes"
else notok "idmap + disk-quota = 8M: the write stops near 8 MiB (rc $rc, out '$(one "$out")', err '$(one "$err")')"; fi
"$B" run --no-tty -c "$C/btquota-idm" --state-dir "$S" btquota-idm -- /bin/sh -c 'touch /owned; sleep 3' \
  < /dev/null > "$M/bg.out" 2>&1 &
bg=$!
u=$S/containers/btquota-idm/upper
i=0
while [ $i -lt 50 ] && ! [ -e "$u/owned" ]; do sleep 0.1; i=$((i + 1)); done
want=$(cat "$S/containers/btquota-idm/quota-project" 2>/dev/null)
owner=$(stat -c %u:%g "$u/owned" 2>&1)
gotf=$("$LSATTR" -p "$u/owned" 2>&1)
wait $bg
if [ "$owner" = 100000:100000 ] && [ -n "$want" ] && [ "$(printf '%s' "$gotf" | awk '{print $1}')" = "$want" ]; then
  ok "idmap: a file created inside is the mapped root's (100000) on the host and carries the project id $want"
else notok "idmap: owner of a new file '$owner' (want 100000:100000), project '$(one "$gotf")' (want '$want')"; fi

if [ -z "$(ls -A "$S/containers" 2>/dev/null)" ] && ! grep -qF "$S/" /proc/self/mountinfo; then
  ok "after the runs no container directory and no mount is left"
else notok "left behind: $(ls -A "$S/containers" | tr '\n' ' ') $(grep -F "$S/" /proc/self/mountinfo | head -n 3)"; fi

# The module's live unit tests: labelling an existing tree, a new limit,
# lifting a limit (what non-ephemeral restarts and removal rely on).
uout=$(BERTH_QUOTA_DIR=$M "$UNIT" 2>&1)
urc=$?
if [ "$urc" = 0 ] && printf '%s' "$uout" | grep -q 'PASSED.*15 test' && ! printf '%s' "$uout" | grep -q SKIPPED; then
  ok "test_quota's live tests pass on the prjquota file system"
else notok "test_quota live (rc $urc): $(printf '%s' "$uout" | grep -E 'FAIL|SKIP|ERROR|Error|error' | head -n 8 | tr '\n' ' ')"; fi
[ -z "$(ls -A "$M" | grep btquota-live)" ] && ok "the live tests leave nothing" || notok "live tests left $(ls "$M")"
EOS

# noenf.sh FSTYPE BERTHCTL MOUNTPOINT: the same file system mounted without
# prjquota (ext4 with the quota feature still accounts, but does not
# enforce): the start is refused.
cat > "$tmp/noenf.sh" <<'EOS'
#!/bin/sh
FS=$1 B=$2 M=$3
mkdir -p "$M/conf/btquota-ne"
printf 'container btquota-ne {\n  template = "busybox"\n  disk-quota = 8M\n}\n' > "$M/conf/btquota-ne/c.conf"
err=$("$B" run --no-tty -c "$M/conf/btquota-ne" --state-dir "$M/state" btquota-ne -- /bin/true 2>&1 < /dev/null)
rc=$?
if [ "$rc" = 125 ] && printf '%s' "$err" | grep -qF "disk-quota needs project quotas on the file system of $M/state/containers"; then
  echo "ok $FS: mounted without prjquota (accounting, no enforcement) the start is refused"
else echo "not ok $FS: mounted without prjquota: refused (rc $rc, $(printf '%s' "$err" | tr '\n' ' '))"; fi
EOS

# ---- without project quotas: a clear error, nothing left behind -------------
mkdir -p "$tmp/plain/c/btquota-np" "$tmp/plain/c/btquota-dir"
printf 'container btquota-np {\n  template = "busybox"\n  disk-quota = 8M\n}\n' > "$tmp/plain/c/btquota-np/c.conf"
st=$tmp/plain/state
err=$(timeout -k 5 60 "$B" run --no-tty -c "$tmp/plain/c/btquota-np" --state-dir "$st" btquota-np -- /bin/true 2>&1 </dev/null)
rc=$?
want="container 'btquota-np': disk-quota needs project quotas on the file system of $st/containers (xfs or ext4 mounted with prjquota)"
if [ "$rc" = 125 ] && printf '%s' "$err" | grep -qF "$want"; then
  ok "without project quotas the start fails naming the directory and what it needs"
else notok "without project quotas: a clear error (rc $rc, '$(oneline "$err")')"; fi
if [ -z "$(ls -A "$st/containers" 2>/dev/null)" ] && ! grep -qF "$tmp/" /proc/self/mountinfo; then
  ok "the failed start leaves no directory and no mount"
else notok "the failed start left: $(ls -A "$st/containers" | tr '\n' ' ')"; fi
if ! printf '%s' "$err" | grep -q "not enforced"; then ok "no 'not enforced' warning any more"
else notok "the old warning is still printed: $(oneline "$err")"; fi

# rootfs = DIR: the container writes into that directory; no layer to limit.
mkdir -p "$tmp/plain/rootfs"
cp -a "$st/templates/busybox/." "$tmp/plain/rootfs/" 2>/dev/null
printf 'container btquota-dir {\n  rootfs = "%s"\n  disk-quota = 8M\n}\n' "$tmp/plain/rootfs" > "$tmp/plain/c/btquota-dir/c.conf"
err=$(timeout -k 5 60 "$B" run --no-tty -c "$tmp/plain/c/btquota-dir" --state-dir "$st" btquota-dir -- /bin/true 2>&1 </dev/null)
rc=$?
if [ "$rc" = 125 ] && printf '%s' "$err" | grep -qF "container 'btquota-dir': disk-quota needs a template"; then
  ok "disk-quota with rootfs = DIR is refused with a clear error"
else notok "disk-quota with rootfs = DIR (rc $rc, '$(oneline "$err")')"; fi

# CAP_SYS_RESOURCE lets a process write past a project's limit (ext4).
mkdir -p "$tmp/plain/c/btquota-res"
printf 'container btquota-res {\n  template = "busybox"\n  disk-quota = 8M\n  capabilities { add = { "sys_resource" } }\n}\n' \
  > "$tmp/plain/c/btquota-res/c.conf"
err=$(timeout -k 5 60 "$B" run --no-tty -c "$tmp/plain/c/btquota-res" --state-dir "$st" btquota-res -- /bin/true 2>&1 </dev/null)
rc=$?
if [ -n "${BERTH_DEFAULT_IDMAP:-}" ] && [ "$BERTH_DEFAULT_IDMAP" != none ]; then
  # In a user namespace of its own the capability is the namespace's: the
  # quota holds, and only the file system's lack of project quotas refuses.
  if [ "$rc" = 125 ] && printf '%s' "$err" | grep -qF "container 'btquota-res': disk-quota needs project quotas"; then
    ok "disk-quota with capability sys_resource and idmap: allowed (refused here only for want of project quotas)"
  else notok "disk-quota with sys_resource and idmap (rc $rc, '$(oneline "$err")')"; fi
elif [ "$rc" = 125 ] && printf '%s' "$err" | grep -qF "container 'btquota-res': disk-quota cannot hold a container with capability 'sys_resource'"; then
  ok "disk-quota with capability sys_resource is refused with a clear error"
else notok "disk-quota with sys_resource (rc $rc, '$(oneline "$err")')"; fi

# ---- with project quotas: on this host if its kernel can, else in a VM ------
# ext4 (mkfs -O project,quota, mounted with prjquota) always; xfs (mounted
# with prjquota) when xfsprogs is installed.
if ! command -v mkfs.ext4 >/dev/null; then notok "mkfs.ext4 is installed (e2fsprogs)"; exit 1; fi
mkimg() { # FSTYPE
  rm -f "$img.$1" && truncate -s 320M "$img.$1" || return 1
  case $1 in
    ext4) mkfs.ext4 -q -F -O project,quota "$img.$1" ;;
    xfs) mkfs.xfs -q -f "$img.$1" ;;
  esac
}
fstypes=ext4
if command -v mkfs.xfs >/dev/null; then fstypes="ext4 xfs"; else echo "# skip xfs: no mkfs.xfs (apt-get install xfsprogs)"; fi
vmfs=()
mkdir -p "$mnt"
for fs in $fstypes; do
  if ! mkimg "$fs" > "$tmp/mkfs.err" 2>&1; then notok "$fs: mkfs makes an image: $(oneline "$(cat "$tmp/mkfs.err")")"; continue; fi
  loopdev=$(losetup -f --show "$img.$fs" 2>/dev/null) || loopdev=""
  if [ -n "$loopdev" ] && mount -t "$fs" -o prjquota "$loopdev" "$mnt" 2>/dev/null; then
    echo "# $fs: project quotas on this host's kernel ($(uname -r))"
    out=$(sh "$tmp/checks.sh" "$fs" "$B" "$mnt" lsattr "$BUILD/tests/test_quota" 2>&1)
    printf '%s\n' "$out"
    printf '%s\n' "$out" | grep -q '^not ok ' && failed=1
    printf '%s\n' "$out" | grep -q '^ok ' || notok "$fs: quota checks ran: $(oneline "$out")"
    umount "$mnt"
    if [ "$fs" = ext4 ] && mount -t ext4 "$loopdev" "$mnt"; then
      out=$(sh "$tmp/noenf.sh" "$fs" "$B" "$mnt" 2>&1)
      printf '%s\n' "$out"
      printf '%s\n' "$out" | grep -q '^ok ' || failed=1
      umount "$mnt"
    fi
  else
    echo "# $fs: this host's kernel ($(uname -r)) cannot mount $fs with prjquota; using a VM"
    vmfs+=("$fs")
  fi
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  loopdev=""
done

if [ ${#vmfs[@]} -gt 0 ]; then
  R=$tmp/vm
  mkdir -p "$R/templates"
  cp "$B" "$BUILD/berth-init" "$tmp/checks.sh" "$tmp/noenf.sh" "$BUILD/tests/test_quota" "$R/"
  cp templates/busybox.sh "$R/templates/"
  drives="" devs="" mods="virtio_blk crc32c_generic"
  letters=(a b c)
  for k in "${!vmfs[@]}"; do
    fs=${vmfs[$k]}
    drives="$drives -drive file=$img.$fs,format=raw,if=virtio"
    devs="$devs $fs:vd${letters[$k]}"
    case $fs in ext4) mods="$mods ext4 quota_v2" ;; xfs) mods="$mods xfs" ;; esac
  done
  cat > "$R/inner.sh" <<EOS
#!/bin/sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export BERTH_TEMPLATES=/work/templates
$idmap_env
echo "# guest kernel \$(uname -r)"
for fd in $devs; do
  fs=\${fd%%:*} dev=/dev/\${fd#*:}
  mkdir -p /mnt/\$fs
  if mount -t \$fs -o prjquota \$dev /mnt/\$fs; then
    sh /work/checks.sh \$fs /work/berthctl /mnt/\$fs /usr/local/bin/lsattr /work/test_quota
    umount /mnt/\$fs
    if [ \$fs = ext4 ] && mount -t ext4 \$dev /mnt/\$fs; then
      sh /work/noenf.sh \$fs /work/berthctl /mnt/\$fs
      umount /mnt/\$fs
    fi
  else echo "not ok \$fs: the guest mounts \$dev with prjquota"; fi
done
EOS
  start=$SECONDS
  VM_MODULES="$mods" VM_BINS="lsattr" VM_TIMEOUT=${VM_TIMEOUT:-400} VM_QEMU_ARGS="$drives" \
    tests/vm/run-in-vm.sh "$R" "/bin/sh /work/inner.sh" > "$tmp/vm.out" 2>&1
  vrc=$?
  grep -E '^(ok|not ok|#) ' "$tmp/vm.out"
  grep -q '^not ok ' "$tmp/vm.out" && failed=1
  if [ "$vrc" = 2 ] && ! grep -q '^ok ' "$tmp/vm.out"; then
    echo "# skip: no VM here for the project quota checks: $(oneline "$(tail -n 3 "$tmp/vm.out")")"
  elif [ "$vrc" != 0 ] || ! grep -q '^ok ' "$tmp/vm.out"; then
    notok "the quota checks in the VM ran (rc $vrc)"; sed 's/^/# /' "$tmp/vm.out" | tail -n 30
  fi
  echo "# VM: $((SECONDS - start)) s"
fi
exit $failed
