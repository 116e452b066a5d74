#!/bin/sh
# berth template: Debian (minbase) with debootstrap, from the package mirror
# this machine is configured with (never a hard-coded host).
#   debian.sh TARGET [SUITE]
set -eu
T=$1
SUITE=${2:-${DEBIAN_SUITE:-bookworm}}
command -v debootstrap >/dev/null || { echo "debian template: apt-get install debootstrap" >&2; exit 1; }
MIRROR=${DEBIAN_MIRROR:-}
if [ -z "$MIRROR" ]; then
  # deb822 sources (Debian 12) first, then the one-line format.
  MIRROR=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
if [ -z "$MIRROR" ]; then
  MIRROR=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{print $2}' | head -n1 || true)
fi
[ -n "$MIRROR" ] || { echo "debian template: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
debootstrap --variant=minbase "$SUITE" "$T" "$MIRROR"
rm -rf "$T"/var/cache/apt/archives/*.deb
