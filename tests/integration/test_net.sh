#!/bin/bash
# Networking as root: runs the live cmocka driver (bridges, veths in fresh
# network namespaces, ping, sticky ipam, published port through nftables,
# 100 setup/teardown cycles) and reports each test, then checks that nothing
# named btn* (links, netns, nft tables) is left on the host.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${BERTH_BUILD:?}
leftovers() {
  { ip -o link show | awk -F': ' '{print $2}' | grep -E '^(btn|vb-btn)' ;
    ip netns list 2>/dev/null | grep -E '^btn' ;
    nft list tables 2>/dev/null | grep -E ' btn' ; } | sort
}
before=$(leftovers)
trap 'rm -f "$out"' EXIT
out=$(mktemp)

"$B/tests/test_net_live" >"$out" 2>&1; rc=$?
while read -r line; do
  case "$line" in
    "[       OK ] "*) ok "net_live: ${line#*] }" ;;
    "[  FAILED  ] test_"*) nok "net_live: ${line#*] }" ;;
    "[  SKIPPED ] test_"*) nok "net_live: ${line#*] } (skipped as root)" ;;
  esac
done < <(grep -E '^\[ +(OK|FAILED|SKIPPED) +\] test_' "$out")
if [ "$rc" != 0 ]; then nok "net_live exits 0 (rc $rc)"; sed 's/^/# /' "$out"; else ok "net_live exits 0"; fi

after=$(leftovers)
if [ "$after" = "$before" ]; then ok "no btn* link, netns or nft table left"; else nok "leftovers: $after"; fi
ip -o addr show | grep -q ' 198\.19\.[0-9]*\.[0-9]*/' && nok "no 198.19 address left on the host" \
  || ok "no 198.19 address left on the host"
exit $fail
