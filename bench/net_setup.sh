#!/bin/bash
# Container network setup time, median over N (default 100): berth's
# net_container_setup (netlink, one process) vs the same steps as `ip`
# commands (veth with peer born in the netns, enslave + up, address, eth0
# and lo up, default route). Netns creation is outside the timed part in
# both. Prints medians and the ratio. Root; 198.19.253/254.0/24 only; uses
# bridges btnbenchbr / btnbenchip. LXC is not measured: its veth setup
# cannot be timed apart from a whole container start.
#   bench/net_setup.sh [BUILD] [N]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-100}
PKGS="libconfuse libcap libseccomp libsystemd libnl-route-3.0 libnl-3.0 libnftables json-c"
tmp=$(mktemp -d)
cleanup() {
  ip link del btnbenchip 2>/dev/null || true
  ip link del vb-btnbench-i 2>/dev/null || true
  ip netns del btnbenchns 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -f "$BUILD/libberth.a" ] || make BUILD="$BUILD" all >/dev/null
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Ilib $(pkg-config --cflags $PKGS) bench/net_setup.c \
  "$BUILD/libberth.a" $(pkg-config --libs $PKGS) -o "$tmp/net_setup"

berth_us=$("$tmp/net_setup" "$N")

ip link add btnbenchip type bridge
ip addr add 198.19.254.1/24 dev btnbenchip
ip link set btnbenchip up
times=()
for i in $(seq 1 "$N"); do
  ip netns add btnbenchns
  t0=$(date +%s%N)
  ip link add vb-btnbench-i master btnbenchip up type veth peer name eth0 netns btnbenchns
  ip -n btnbenchns addr add 198.19.254.2/24 dev eth0
  ip -n btnbenchns link set eth0 up
  ip -n btnbenchns link set lo up
  ip -n btnbenchns route add default via 198.19.254.1
  t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000 )))
  ip link del vb-btnbench-i
  ip netns del btnbenchns
done
ip_us=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( N / 2 + 1 ))p")

echo "container network setup, median of $N:"
echo "  berth (libnl, in-process): ${berth_us} us"
echo "  ip commands (5 execs):     ${ip_us} us"
awk -v b="$berth_us" -v i="$ip_us" 'BEGIN { printf "  ratio ip/berth: %.1fx\n", i / b }'
