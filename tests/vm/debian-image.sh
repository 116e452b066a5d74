#!/bin/bash
# debian-image.sh — prints the path of a cached Debian 12 minbase root file
# system tarball with systemd and berth's runtime libraries, building it with
# debootstrap when it is not in tests/vm/cache/ yet. The cache key is a hash
# of the package list, the suite and the mirror, so a changed list rebuilds.
# The mirror is the host's (first URIs of /etc/apt/sources.list.d/debian.sources,
# or the first deb line of /etc/apt/sources.list); nothing is hard-coded.
# Exit status: 0 with the path on stdout; 3 when the image cannot be built
# (no debootstrap, no mirror reachable).
set -euo pipefail
cd "$(dirname "$0")"
CACHE=$PWD/cache
SUITE=bookworm
PKGS=(systemd systemd-sysv udev kmod dbus
      libconfuse2 libcap2 libseccomp2 libsystemd0 libnl-3-200 libnl-route-3-200
      libnftables1 libjson-c5 libarchive13 libssl3 libmicrohttpd12 busybox-static nftables iproute2 procps
      systemd-container # machinectl, systemd-machined (boot-guest-jrn21.sh)
      criu)
# VM_EXTRA_PKGS: more packages, e.g. lxc for BOOT_LXC=1 (another image, cached apart)
read -r -a extra <<<"${VM_EXTRA_PKGS:-}"
PKGS+=("${extra[@]}")

mirror() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -r $f ]; then
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' $f
  elif [ -r /etc/apt/sources.list ]; then
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list
  fi
}
MIRROR=${VM_MIRROR:-$(mirror)}
[ -n "$MIRROR" ] || { echo "debian-image: no Debian mirror in the host's apt sources" >&2; exit 3; }
KEY=$(printf '%s\n' "$SUITE" "$MIRROR" "${PKGS[@]}" | sha256sum | cut -c1-16)
IMG=$CACHE/debian-$SUITE-$KEY.tar
if [ -s "$IMG" ]; then echo "$IMG"; exit 0; fi
command -v debootstrap >/dev/null || { echo "debian-image: need debootstrap (apt-get install debootstrap)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "debian-image: debootstrap needs root" >&2; exit 3; }
mkdir -p "$CACHE"
T=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$T"' EXIT
echo "debian-image: debootstrap $SUITE from $MIRROR (once; cached as $IMG)" >&2
inc=$(IFS=,; echo "${PKGS[*]}")
if ! debootstrap --variant=minbase --include="$inc" "$SUITE" "$T/root" "$MIRROR" > "$T/log" 2>&1; then
  echo "debian-image: debootstrap failed (no network to $MIRROR?); last lines:" >&2
  tail -n 15 "$T/log" >&2
  exit 3
fi
rm -rf "$T/root/var/cache/apt/archives/"*.deb "$T/root/var/lib/apt/lists/"*
tar -C "$T/root" --numeric-owner --xattrs -cf "$T/img.tar" .
mv "$T/img.tar" "$IMG"
echo "$IMG"
