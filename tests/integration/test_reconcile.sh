#!/bin/bash
# Integration test: limits edited while berthd was down take effect when it
# starts again (crash-consistency issue, finding 4): berthd compares what
# runs with the definitions, not with its record. A container runs with
# memory 64M and pids 40; berthd is killed; the file now says 96M and 50;
# the new berthd adopts the same container (same pid) and its cgroup holds
# the new values; `plan` then has nothing to do.
# Private berthd below one mktemp -d, containers bl<pid>-*; the EXIT trap
# removes everything (lib.sh's daemon layer).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="reconcile: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=bl$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/brecon.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""
running() { [ "$(jget "$1" state)" = running ]; }
# cg_value NAME FILE: FILE of the container's cgroup (v1 memory/pids or v2)
cg_value() {
  local pid; pid=$(jget "$1" pid)
  local line ctrl path mnt
  while IFS=: read -r _ ctrl path; do
    case ",$ctrl," in
      *,"${2%%.*}",*) mnt=$(awk -v c="${2%%.*}" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
                     cat "$mnt$path/$2" 2>/dev/null; return ;;
      ,,) [ -f "/sys/fs/cgroup$path/$3" ] && { cat "/sys/fs/cgroup$path/$3"; return; } ;;
    esac
  done < "/proc/$pid/cgroup"
}

env_new d
container "$P-m" 'autostart = true' 'command = { "/bin/sleep", "100000" }' 'limits { memory = 64M pids = 40 }'
daemon_start
if ! wait_until 60 running "$P-m"; then
  nok "the container did not start"
else
  pid0=$(jget "$P-m" pid)
  m0=$(cg_value "$P-m" memory.limit_in_bytes memory.max)
  check "memory starts at 64M ($m0)" test "$m0" = $((64 << 20))
  daemon_kill9
  container "$P-m" 'autostart = true' 'command = { "/bin/sleep", "100000" }' 'limits { memory = 96M pids = 50 }'
  daemon_start
  wait_until 30 running "$P-m"
  check "the new berthd adopts the same container" test "$(jget "$P-m" pid)" = "$pid0"
  wait_until 10 eval "[ \"\$(cg_value $P-m memory.limit_in_bytes memory.max)\" = $((96 << 20)) ]"
  m1=$(cg_value "$P-m" memory.limit_in_bytes memory.max)
  p1=$(cg_value "$P-m" pids.max pids.max)
  check "the limit edited while berthd was down is applied (memory $m1)" test "$m1" = $((96 << 20))
  check "... and pids ($p1)" test "$p1" = 50
  plan=$(ctl plan 2>&1)
  check "plan has nothing left to do ($(oneline "$plan"))" eval "printf '%s' \"\$plan\" | grep -qi 'nothing to do'"
fi
daemon_stop
daemon_finish ""
exit $fail
