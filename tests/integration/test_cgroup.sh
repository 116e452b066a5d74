#!/bin/bash
# Integration test of the cgroup module on this host's real cgroups (v1 or
# v2): runs the live cmocka suite (limits enforced by the kernel, freeze,
# kill, devices, stats, removal) with TAP output, then checks from the shell
# that none of its cgroups (btcg-<pid>-*) is left in any hierarchy.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="cgroup: "
T=$(mktemp -d /tmp/btcg-int.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

bin=$BUILD/tests/test_cgroup_live
if [ ! -x "$bin" ]; then nok "$bin missing"; exit 1; fi

CMOCKA_MESSAGE_OUTPUT=TAP "$bin" > "$T/out" 2>&1 &
pid=$!
wait "$pid"; rc=$?
while IFS= read -r line; do
  case $line in
    *"ok "[0-9]*" # SKIP"*) echo "# skipped: ${line##*# SKIP }" ;;
    "ok "[0-9]*) ok "${line#* - }" ;;
    "not ok "[0-9]*) nok "${line#* - }" ;;
    "#"*) echo "$line" ;;
  esac
done < "$T/out"
if [ "$rc" = 0 ]; then ok "live suite exit status"
else nok "live suite exited with $rc"; grep -v '^\(ok\|#\)' "$T/out" | head -40 | sed 's/^/# /'; fi

# Every hierarchy this process belongs to, under its own cgroup.
left=
while IFS=: read -r _ ctrl path; do
  if [ -z "$ctrl" ]; then
    [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || continue
    dirs=/sys/fs/cgroup$path
  else
    dirs=$(awk -v c="$ctrl" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -n1)
    [ -n "$dirs" ] || continue
    dirs=$dirs$path
  fi
  for d in "$dirs" "$(dirname "$dirs")"; do
    [ -d "$d" ] || continue
    l=$(find "$d" -maxdepth 3 -type d -name "btcg-$pid-*" 2>/dev/null)
    [ -n "$l" ] && left="$left $l"
  done
done < /proc/self/cgroup
if [ -z "$left" ]; then ok "no btcg-$pid-* cgroup left in any hierarchy"
else nok "left behind: $(printf '%s\n' $left | sort -u | tr '\n' ' ')"; fi
exit $fail
