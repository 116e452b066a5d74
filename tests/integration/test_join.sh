#!/bin/bash
# Integration test of what joins a running container (berthctl exec, health
# probes) against a container that attacks it, and of the fds a container's
# PID 1 inherits (red-team findings 1-4 of the security issue):
#  1. a container with sys_ptrace seizes every new process as it appears
#     (tests/helpers/join_probe.c): no exec'd or probe process it catches
#     holds a capability beyond the container's, runs without no_new_privs
#     or seccomp, or holds a host fd;
#  2. a container that SIGSTOPs every new process, and one whose
#     /etc/passwd is a FIFO, cannot hang berthd: `berthctl ls` answers
#     within a second throughout and berthd stops them;
#  3. an fd leaked by whoever started berthctl run / berthd never reaches
#     the container's PID 1;
#  4. exec after an edit of the definition without a reload keeps the
#     capabilities and seccomp filter the container was started with;
#  5. a probe killed in a frozen container never makes berthd wait, and is
#     reaped once thawed; a stop with a probe in flight is prompt.
# Private berthds below one mktemp -d, containers bj<pid>-*; the EXIT trap
# removes everything (lib.sh's daemon layer).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="join: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=bj$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/bjoin.XXXXXX)
STATE=$ROOT/state
mkdir -p "$STATE"
STATE_DIR=$STATE START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""
[ -x "$BUILD/tests/helpers/join_probe" ] || { nok "join_probe missing"; exit 1; }
HELPERS="mount h { type = \"bind\" source = \"$BUILD/tests/helpers\" target = \"/h\" }"
cmd() { printf 'command = { "/bin/sh", "-c", "%s" }' "$1"; }
xctl() { ctl exec -c "$D/conf" --state-dir "$STATE" "$@"; }
running() { [ "$(jget "$1" state)" = running ]; }
# ls_fast: `berthctl ls` answers within 1 s
ls_fast() { BERTH_SOCKET=$D/run/control.sock timeout 1 "$CTL" ls >/dev/null 2>&1; }

# ---- 1. ptrace from inside ---------------------------------------------------------------------

t_seize() {
  env_new seize
  container "$P-t" "$HELPERS" 'autostart = true' 'capabilities { add = { "sys_ptrace" } }' \
    "$(cmd '/h/join_probe seize 12 > /tmp/seize.log 2>&1; sleep 1000')" \
    'health { command = { "/bin/true" } interval = 1s timeout = 1s }'
  daemon_start
  wait_until 30 running "$P-t" || { nok "seize: container did not start"; return; }
  local i
  for ((i = 0; i < 20; i++)); do xctl "$P-t" -- /bin/true >/dev/null 2>&1; sleep 0.2; done
  for ((i = 0; i < 5; i++)); do xctl -t "$P-t" -- /bin/true </dev/null >/dev/null 2>&1; done
  wait_until 20 eval "xctl '$P-t' -- grep -q '^seized [0-9]*, privileged' /tmp/seize.log"
  local log
  log=$(xctl "$P-t" -- cat /tmp/seize.log 2>&1)
  note "seize: $(printf '%s\n' "$log" | tail -n 1); first privileged: $(printf '%s\n' "$log" | grep -m1 '^PRIV' | head -c 300)"
  local n priv
  n=$(printf '%s\n' "$log" | sed -n 's/^seized \([0-9]*\), privileged.*/\1/p')
  priv=$(printf '%s\n' "$log" | sed -n 's/^seized [0-9]*, privileged \([0-9]*\)/\1/p')
  check "seize: the ptrace-capable container caught exec'd and probe processes (${n:-0})" test "${n:-0}" -ge 10
  check "seize: none it caught held more than the container's confinement or a host fd" test "${priv:-1}" = 0
  daemon_stop
}

# ---- 2. stopped probes, a FIFO for /etc/passwd --------------------------------------------------

t_stop_probes() {
  env_new stop
  container "$P-s" "$HELPERS" 'autostart = true' \
    "$(cmd '/h/join_probe stop 1000')" \
    'health { command = { "/bin/true" } interval = 1s timeout = 1s on-failure = none }'
  container "$P-f" 'autostart = true' 'user = "root"' \
    "$(cmd 'rm /etc/passwd; mkfifo /etc/passwd; while :; do sleep 1; done')" \
    'health { command = { "/bin/true" } interval = 1s timeout = 1s on-failure = none }'
  daemon_start
  wait_until 30 running "$P-s" && wait_until 30 running "$P-f" || { nok "stop: containers did not start"; return; }
  local i slow=0
  for ((i = 0; i < 16; i++)); do ls_fast || slow=$((slow + 1)); sleep 0.5; done
  check "stop: berthctl ls answered within 1 s all along (late: $slow of 16)" test "$slow" = 0
  check "stop: the container that stops its probes turns unhealthy" wait_until 20 eval "[ \"\$(jget $P-s health)\" = unhealthy ]"
  check "stop: the FIFO /etc/passwd is refused, not opened" \
    eval "inspect $P-f | grep -q 'not in the container.s /etc/passwd (a regular file)'"
  check "stop: exec into the stopping container fails within its deadline, not forever" \
    eval "! timeout 20 $CTL exec -c $D/conf --state-dir $STATE $P-s -- /bin/true >/dev/null 2>&1; [ \$? != 124 ]"
  local t0=$SECONDS
  daemon_stop
  check "stop: berthd stopped both containers and exited in time ($((SECONDS - t0)) s)" nothing_left
}

# ---- 3. leaked fds ------------------------------------------------------------------------------

# init_fds PID: the fd targets of a process other than 0-2, one per line
init_fds() { local f; for f in /proc/"$1"/fd/*; do [ "${f##*/}" -le 2 ] 2>/dev/null && continue; readlink "$f"; done; }

t_leaked_fd() {
  env_new fd
  container "$P-l" 'autostart = true' "$(cmd 'while :; do sleep 1; done')"
  # berthd started with a stray fd 7 on /
  ( exec 7</; daemon_start )
  DPID=$(pgrep -f -- "-c $D/conf" | head -n1); DPIDS+=("$DPID")
  wait_until 30 running "$P-l" || { nok "fd: container did not start"; return; }
  local init; init=$(jget "$P-l" pid)
  local fds; fds=$(init_fds "$init")
  check "fd: berthd's stray fd 7 (/) never reaches the container's PID 1 (has: $(oneline "$fds"))" \
    eval "! printf '%s\n' \"\$fds\" | grep -qx /"
  check "fd: PID 1 holds nothing but its ready pipe" eval "[ \$(printf '%s\n' \"\$fds\" | grep -c .) -le 1 ]"
  daemon_stop
  # berthctl run with fd 7 on /: the workload and PID 1 see none of it
  mkdir -p "$D/runc"
  printf 'container %s {\n  template = "busybox"\n  %s\n}\n' "$P-r" "$(cmd 'ls -l /proc/self/fd; sleep 3')" > "$D/runc/r.conf"
  ( exec 7</; timeout 60 "$CTL" run --no-tty -c "$D/runc" --state-dir "$STATE" "$P-r" </dev/null >"$D/run.out" 2>&1 ) &
  local rp=$! i init2=''
  # the foreground run's record names its PID 1 (written as the workload starts)
  for ((i = 0; i < 200; i++)); do
    init2=$(sed -n 's/^init_pid=//p' "$STATE/containers/$P-r/state" 2>/dev/null)
    [ -n "$init2" ] && [ "$init2" != 0 ] && break
    sleep 0.1
  done
  sleep 0.5
  local init_exe; init_exe=$(readlink /proc/"$init2"/exe 2>/dev/null)
  fds=$(init_fds "$init2")
  wait "$rp"
  check "fd: berthctl run: PID 1 does not hold the caller's fd 7 (has: $(oneline "$fds"))" \
    eval "[ -n \"$init2\" ] && ! printf '%s\n' \"\$fds\" | grep -qx /"
  check "fd: berthctl run: ... that pid was the container's berth-init ($(readlink /proc/"$init2"/exe 2>/dev/null))" \
    eval "[ '$init_exe' != '${init_exe#*berth-init}' ]"
  check "fd: berthctl run: the workload sees only 0-2 (and its own ls)" \
    eval "! grep -q ' 7 -> ' '$D/run.out'"
}

# ---- 4. exec keeps the confinement the container started with -----------------------------------

t_confinement() {
  env_new conf
  container "$P-c" 'autostart = true' "$(cmd 'while :; do sleep 1; done')"
  daemon_start
  wait_until 30 running "$P-c" || { nok "conf: container did not start"; return; }
  local before after
  before=$(xctl "$P-c" -- grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs)' /proc/self/status)
  container "$P-c" 'autostart = true' "$(cmd 'while :; do sleep 1; done')" \
    'capabilities { add = { "sys_admin" } }' 'seccomp = "unconfined"'
  after=$(xctl "$P-c" -- grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs)' /proc/self/status 2>/dev/null)
  check "conf: exec after an unreloaded edit keeps the started confinement" \
    eval "[ -n \"\$before\" ] && [ \"\$before\" = \"\$after\" ]"
  local eff; eff=$(printf '%s\n' "$after" | awk '/^CapEff/ { print $2 }')
  check "conf: ... no sys_admin (bit 21: CapEff $eff) and seccomp on" \
    eval "[ -n '$eff' ] && [ \$((0x$eff & (1 << 21))) = 0 ] && printf '%s\n' \"\$after\" | grep -q '^Seccomp:[[:space:]]*2'"
  daemon_stop
}

# ---- 5. probes that cannot be reaped at once ----------------------------------------------------

# zombies PID: children of PID that are zombies
zombies() { local c; for c in $(pgrep -P "$1"); do [ "$(awk '{print $3}' /proc/"$c"/stat 2>/dev/null)" = Z ] && echo "$c"; done; }

t_probe_reaping() {
  env_new reap
  container "$P-z" 'autostart = true' "$(cmd 'while :; do sleep 1; done')" 'stop-timeout = 20s' \
    'health { command = { "/bin/sleep", "30" } interval = 2s timeout = 2s on-failure = none }'
  daemon_start
  wait_until 30 running "$P-z" || { nok "reap: container did not start"; return; }
  # a probe is running: freeze the container, so its kill cannot take effect
  wait_until 10 eval "pgrep -f 'sleep 30' >/dev/null"
  ctl freeze "$P-z" >/dev/null 2>&1
  local i slow=0
  for ((i = 0; i < 10; i++)); do ls_fast || slow=$((slow + 1)); sleep 0.5; done
  check "reap: berthd answers within 1 s while a timed-out probe sits in a frozen cgroup (late: $slow of 10)" test "$slow" = 0
  ctl unfreeze "$P-z" >/dev/null 2>&1
  # Reaped within seconds (a probe that just ended may be a zombie for the
  # moment berthd's loop takes to reap it: only a lasting one is a leak).
  sleep 2
  wait_until 5 eval '[ -z "$(zombies "$DPID")" ]'
  check "reap: the killed probe is reaped once thawed (zombies: $(zombies "$DPID"))" eval '[ -z "$(zombies "$DPID")" ]'
  # stop while a probe runs: the container goes at once, not at stop-timeout
  wait_until 10 eval "pgrep -f 'sleep 30' >/dev/null"
  local t0=$SECONDS
  ctl stop "$P-z" >/dev/null 2>&1
  check "reap: stop with a probe in flight takes less than its stop-timeout ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 10
  daemon_stop
}

if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_seize
  t_stop_probes
  t_leaked_fd
  t_confinement
  t_probe_reaping
fi
daemon_finish ""
exit $fail
