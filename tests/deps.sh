#!/bin/bash
# Installs exactly the Debian packages berth's build and tests need, with
# apt-get, and only those that are missing. Idempotent.
set -euo pipefail
PKGS=(
  gcc make pkg-config clang
  libconfuse-dev libcap-dev libseccomp-dev libsystemd-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libjson-c-dev libcmocka-dev
  busybox-static iproute2 nftables util-linux procps scdoc
  qemu-system-x86 linux-image-amd64 cpio debootstrap e2fsprogs kmod
)
missing=()
for p in "${PKGS[@]}"; do
  s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$s" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (or: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
