#!/bin/bash
# Installs the Debian packages berth needs, with apt-get, and only those that
# are missing. Idempotent.
#   tests/deps.sh run     what `make run` needs: build the programs, run berthd
#                         on the examples in conf.d/ (busybox template)
#   tests/deps.sh check   what `make check` needs: the above, and every test
#                         suite's tools (cmocka, clang, QEMU and a kernel for
#                         the VM lanes, debootstrap, python3...) (default)
#   tests/deps.sh SET --list   prints the set, one package a line
set -euo pipefail
RUN_PKGS=(
  gcc make pkg-config libc6-dev
  libconfuse-dev libcap-dev libseccomp-dev libsystemd-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libjson-c-dev
  libarchive-dev libssl-dev libmicrohttpd-dev
  busybox-static
)
CHECK_PKGS=(
  "${RUN_PKGS[@]}"
  clang libcmocka-dev python3 umoci skopeo
  iproute2 nftables util-linux procps scdoc
  qemu-system-x86 linux-image-amd64 cpio debootstrap e2fsprogs kmod
  criu
)
case ${1:-check} in
run) PKGS=("${RUN_PKGS[@]}") ;;
check) PKGS=("${CHECK_PKGS[@]}") ;;
*) echo "usage: tests/deps.sh [run|check] [--list]" >&2; exit 2 ;;
esac
if [ "${2:-}" = --list ]; then
  printf '%s\n' "${PKGS[@]}"
  exit 0
fi
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
# The package lists are refreshed only when apt cannot find or fetch what is
# missing with the lists it has (none on a fresh image, or stale ones).
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
