#!/bin/bash
# check-fresh.sh — the README's first command on a fresh machine: a Debian 12
# minbase image (debootstrap, from this machine's apt mirror) without any of
# the build packages, the tree copied into it, then `make run` in a chroot
# until the example containers run; Ctrl-C (SIGINT) must stop them and make.
#
# Two steps, each in its own mount and PID namespace (everything in them dies
# with them, and their mounts vanish):
#   1. with this host's network: `apt-get update`, `apt-get install make` (the
#      README's prerequisite) and a download (no install) of the packages
#      `make run` will install, so that
#   2. `make run` can run in a network namespace of its own (its bridge lan0,
#      its NAT table and published port never touch the host's), where it
#      installs those packages (tests/deps.sh run), builds and starts berthd
#      (tests/fresh/in-image.sh).
# The image is removed on exit, also on failure. About 3-5 minutes, most of it
# debootstrap and the build. Run as root: make check-fresh. Prints ok/not ok
# lines; exits 0 when all pass.
#   FRESH_KEEP=1   keep the image (path printed) for a look afterwards
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
fail=0
ok() { echo "ok fresh: $*"; }
nok() { echo "not ok fresh: $*"; fail=1; }
[ "$(id -u)" = 0 ] || { echo "check-fresh: needs root" >&2; exit 1; }
for t in debootstrap unshare chroot tar; do
  command -v "$t" >/dev/null || { echo "check-fresh: needs $t (tests/deps.sh check)" >&2; exit 1; }
done

W=$(mktemp -d /var/tmp/berth-fresh.XXXXXX)
R=$W/image
NSPIDS=()
# A cgroup of its own in every hierarchy, below this shell's: the examples'
# cgroups (berth/web, berth/probe) cannot meet those of a make run or test
# running on the host at the same time.
CGDIRS=()
while IFS=: read -r _ ctrl path; do
  case $ctrl in name=*) continue ;; esac
  if [ -z "$ctrl" ]; then
    mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
  else
    mnt=$(awk -v c="$ctrl" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
  fi
  [ -n "$mnt" ] || continue
  d=${mnt}${path%/}/${W##*/}
  mkdir "$d" || continue
  CGDIRS+=("$d")
  # cpuset (v1) takes no process until it has CPUs and memory nodes.
  [ ! -f "$d/cpuset.cpus" ] || { cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"; cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"; }
done </proc/self/cgroup
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local p
  # Killing a namespace's first process kills everything in it (berthd,
  # monitors, containers) and unmounts what it mounted.
  for p in "${NSPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for p in "${CGDIRS[@]}"; do find "$p" -depth -type d -exec rmdir {} + 2>/dev/null; done
  if grep -q " $W/" /proc/self/mountinfo; then
    echo "check-fresh: mounts left below $W, not removing it" >&2
    return
  fi
  if [ -n "${FRESH_KEEP:-}" ]; then echo "check-fresh: image kept in $R"; return; fi
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ns_run SECONDS [UNSHARE-OPTIONS...] -- SCRIPT: SCRIPT (sh) in new mount and
# PID namespaces, bounded; its exit status.
ns_run() {
  local secs=$1; shift
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  timeout -k 5 "$secs" unshare --mount --pid --fork "${opts[@]}" sh -c "$1" &
  local p=$!
  NSPIDS+=("$p")
  wait "$p"
}

# ---- the image ------------------------------------------------------------------------------
t0=$SECONDS
if timeout -k 5 600 sh templates/debian.sh "$R" bookworm >"$W/debootstrap.log" 2>&1; then
  ok "a Debian 12 minbase image ($((SECONDS - t0)) s)"
else
  nok "debootstrap failed: $(tail -n 3 "$W/debootstrap.log" | tr '\n' ' ')"
  exit 1
fi
# This machine's apt configuration (which mirror, how to reach it), as a
# fresh machine here would have it.
rm -f "$R/etc/apt/sources.list"
cp -a /etc/apt/sources.list.d/. "$R/etc/apt/sources.list.d/"
[ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$R/etc/apt/sources.list"
cp -a /etc/apt/apt.conf.d/. "$R/etc/apt/apt.conf.d/"
cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
present=$(chroot "$R" dpkg-query -W -f='${Package} ${Status}\n' gcc make pkg-config libnl-3-dev busybox-static 2>/dev/null |
  awk '$NF == "installed" { print $1 }' | tr '\n' ' ')
[ -z "$present" ] && ok "the image has no compiler, make, pkg-config, libnl or busybox" ||
  nok "the image already has: $present"

mkdir -p "$R/root/berth"
tar -C "$REPO" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$R/root/berth" -xf -

# ---- 1. package lists and downloads (host network) ------------------------------------------
t0=$SECONDS
pkgs=$(tests/deps.sh run --list | tr '\n' ' ')
if ns_run 600 -- "mount -t proc proc '$R/proc' && mount --rbind /dev '$R/dev' &&
    exec chroot '$R' sh -c 'export DEBIAN_FRONTEND=noninteractive && apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends make >/dev/null &&
      apt-get install -y -qq --download-only --no-install-recommends $pkgs'" \
    >"$W/apt.log" 2>&1; then
  ok "apt-get update, the README's apt-get install make, the run set downloaded ($((SECONDS - t0)) s)"
else
  nok "apt-get update or download failed: $(tail -n 3 "$W/apt.log" | tr '\n' ' ')"
  exit 1
fi

# ---- 2. make run (own network namespace) ----------------------------------------------------
t0=$SECONDS
# The image's root is a mount point, as on a real machine (berth makes the
# containers' mount namespaces private from /).
ns_run 900 --net -- "for d in ${CGDIRS[*]}; do echo 0 >\$d/cgroup.procs || exit 1; done &&
    mount --bind '$R' '$R' && mount -t proc proc '$R/proc' && mount -t sysfs sysfs '$R/sys' &&
    mount --rbind /sys/fs/cgroup '$R/sys/fs/cgroup' && mount --rbind /dev '$R/dev' &&
    exec chroot '$R' /bin/bash /root/berth/tests/fresh/in-image.sh" >"$W/in-image.log" 2>&1
rc=$?
grep -E '^(not )?ok ' "$W/in-image.log" | sed 's/^\(not \)\{0,1\}ok /&fresh: /'
grep -q '^not ok ' "$W/in-image.log" && fail=1
if [ "$rc" != 0 ]; then
  nok "in-image.sh exited with $rc after $((SECONDS - t0)) s; its last lines:"
  grep -vE '^(not )?ok ' "$W/in-image.log" | tail -n 25 | sed 's/^/# /'
else
  ok "make run in the image: installed, built, ran, stopped ($((SECONDS - t0)) s)"
fi
exit $fail
