#!/bin/bash
# "The declaration is the contract": honest results and one context for
# every verb. Each check starts its own berthd on private conf/state/run
# directories below one mktemp -d (containers named ho<pid>-*); the EXIT
# trap (daemon_cleanup) stops them and removes everything, also when a
# check fails. Re-runnable.
#   1. reload exits 1 and names the container whose start failed, or whose
#      live update the kernel refused (a CPU that does not exist in cpuset;
#      on cgroup v1 without swap also a memory limit below what it holds);
#   2. check reports a template that does not exist and a rootfs that is a
#      file as FILE:LINE errors;
#   3. --json prints one valid JSON document with "errors" when something
#      is wrong (check, plan, ls, inspect, stats, reload);
#   4. exec, health, check, logs, stats, top, freeze work with nothing but
#      BERTH_SOCKET next to a berthd started with -c DIR --state-dir DIR2;
#      run keeps its own directories there and leaves no container behind.
# shellcheck disable=SC2016,SC2119,SC2317 # eval'd check strings; daemon_start takes no args here; helpers called indirectly
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=ho$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_STATE_DIR
ROOT=$(mktemp -d /tmp/bthonest.XXXXXX)
SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require "honest: "
OK_PREFIX="honest: "

is_json() { "$PY" -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null; }
# has_errors: stdin is one JSON document whose "errors" is a non-empty list
has_errors() { "$PY" -c 'import json, sys; d = json.load(sys.stdin); assert d["errors"], d' 2>/dev/null; }

# ---- 1. reload tells the truth ------------------------------------------------------------

t_reload_start_failed() {
  env_new reload-start
  container "$P-good" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-good" running
  container "$P-bad" 'command = { "/no/such/command" }' 'autostart = true'
  local out rc
  out=$(ctl reload 2>&1); rc=$?
  check "reload: a container that cannot start makes reload exit 1 (rc=$rc: $(oneline "$out"))" test "$rc" = 1
  check "reload: the failed container is named" grep -q "container '$P-bad' failed" <<<"$out"
  check "reload: the running one is not blamed" eval '! grep -q "$P-good.* failed" <<<"$out"'
  out=$(ctl reload --json 2>/dev/null)
  check "reload --json: a reload with nothing to do is one document, ok" \
    "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["ok"] and d["failed"] == []' "$out" 2>/dev/null
  # Fix it: the next reload restarts it and succeeds.
  container "$P-bad" "$SLEEPER" 'autostart = true'
  out=$(ctl reload 2>&1); rc=$?
  check "reload: exits 0 once the definition is fixed (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  daemon_stop
}

t_reload_update_failed() {
  env_new reload-live
  container "$P-live" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-live" running
  local pid out rc
  pid=$(pid_of "$P-live")
  # CPU 4000 does not exist: the kernel refuses cpuset.cpus (v1 and v2).
  container "$P-live" "$SLEEPER" 'autostart = true' 'limits { cpuset = "4000" }'
  out=$(ctl reload 2>&1); rc=$?
  check "reload: a live update the kernel refuses makes reload exit 1 (rc=$rc: $(oneline "$out"))" test "$rc" = 1
  check "reload: the container whose update failed is named" grep -q "container '$P-live' failed: .*cpuset" <<<"$out"
  check "reload: the container kept running (same pid)" test "$(pid_of "$P-live")" = "$pid"
  out=$(ctl reload --json 2>/dev/null); rc=$?
  check "reload --json: one document naming the failure (rc=$rc)" \
    "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); assert not d["ok"] and d["failed"][0]["name"] == sys.argv[2]' \
    "$out" "$P-live" 2>/dev/null
  daemon_stop
}

t_reload_memory_below_usage() {
  # cgroup v1 refuses a memory limit below what the container holds and
  # cannot reclaim (anonymous memory, no swap) with EBUSY; v2 would OOM-kill.
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || [ "$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)" != 0 ]; then
    note "skip memory-below-usage: needs cgroup v1 without swap"
    return
  fi
  env_new reload-mem
  local hold='command = { "/bin/sh", "-c", "x=$(yes | head -c 33554432); touch /held; while :; do sleep 1; done" }'
  container "$P-mem" "$hold" 'autostart = true' 'limits { memory = 256M }'
  daemon_start
  wait_until 30 state_is "$P-mem" running
  wait_until 30 ctl exec -c "$D/conf" --state-dir "$D/state" "$P-mem" -- test -e /held
  local out rc
  container "$P-mem" "$hold" 'autostart = true' 'limits { memory = 8M }'
  out=$(ctl reload 2>&1); rc=$?
  check "reload: a memory limit below the container's use makes reload exit 1 (rc=$rc: $(oneline "$out"))" test "$rc" = 1
  check "reload: the container whose memory limit was refused is named" grep -q "container '$P-mem' failed: .*memory" <<<"$out"
  daemon_stop
}

# ---- 2. check sees what the files refer to -------------------------------------------------

t_check_refs() {
  env_new check
  : >"$D/afile"
  printf 'container %s {\n    template = "hono-such-template"\n}\n' "$P-t" >"$D/conf/t.conf"
  printf 'container %s {\n    autostart = false\n    rootfs = "%s"\n}\n' "$P-r" "$D/afile" >"$D/conf/r.conf"
  local out rc
  # No --state-dir: the default one (no berthd answers) holds no such template.
  out=$("$CTL" check -c "$D/conf" 2>&1); rc=$?
  check "check: missing template or file rootfs exits 1 (rc=$rc)" test "$rc" = 1
  check "check: a missing template is an error at its FILE:LINE ($(oneline "$out"))" \
    grep -q "^$D/conf/t.conf:2: template: no template 'hono-such-template'" <<<"$out"
  check "check: a rootfs that is a file is an error at its FILE:LINE" \
    grep -q "^$D/conf/r.conf:3: rootfs: '$D/afile' is not a directory" <<<"$out"
  out=$("$CTL" check --json -c "$D/conf" 2>/dev/null)
  check "check --json: both errors with file and line" \
    "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); assert not d["ok"] and sorted(e["line"] for e in d["errors"]) == [2, 3], d' "$out" 2>/dev/null
  # busybox is a built-in (a script): fine without a state directory;
  # an imported template in the state directory counts too.
  printf 'container %s {\n    template = "busybox"\n}\n' "$P-t" >"$D/conf/t.conf"
  mkdir -p "$D/root/bin" "$D/state/templates/hoimported"
  printf 'container %s {\n    autostart = false\n    rootfs = "%s"\n}\n' "$P-r" "$D/root" >"$D/conf/r.conf"
  printf 'container %s {\n    template = "hoimported"\n}\n' "$P-i" >"$D/conf/i.conf"
  out=$("$CTL" check -c "$D/conf" --state-dir "$D/state" 2>&1); rc=$?
  check "check: built-in and imported templates and a directory rootfs pass (rc=$rc: $(oneline "$out"))" test "$rc" = 0
}

# ---- 3. --json is always one document -------------------------------------------------------

t_json() {
  env_new json
  container "$P-j" "$SLEEPER"
  daemon_start
  echo 'container broken {' >"$D/conf/broken.conf"
  local out
  out=$(ctl plan --json 2>/dev/null)
  check "plan --json: invalid definitions give one JSON document with errors ($(oneline "$out"))" has_errors <<<"$out"
  out=$(ctl reload --json 2>/dev/null)
  check "reload --json: refused definitions give one JSON document with errors" has_errors <<<"$out"
  rm -f "$D/conf/broken.conf"
  out=$("$CTL" check --json -c "$D/nonexistent" 2>/dev/null)
  check "check --json: an unreadable directory gives errors" has_errors <<<"$out"
  out=$(ctl inspect --json "$P-nothere" 2>/dev/null)
  check "inspect --json: an unknown container gives errors ($(oneline "$out"))" has_errors <<<"$out"
  out=$(ctl stats --json "$P-j" 2>/dev/null)
  check "stats --json: a stopped container gives errors ($(oneline "$out"))" has_errors <<<"$out"
  out=$(BERTH_SOCKET=$D/run/nothere.sock "$CTL" ls --json 2>/dev/null)
  check "ls --json: no berthd gives errors ($(oneline "$out"))" has_errors <<<"$out"
  out=$(ctl ls --json 2>/dev/null)
  check "ls --json: a good answer is still one document" is_json <<<"$out"
  daemon_stop
}

# ---- 4. one context: the daemon's -------------------------------------------------------------

t_socket_only() {
  env_new socket
  container "$P-s" 'command = { "/bin/sh", "-c", "echo hello-from-log; while :; do sleep 1; done" }' \
    'autostart = true' \
    'health { command = { "true" } interval = 1s timeout = 1s retries = 1 }'
  daemon_start
  wait_until 30 state_is "$P-s" running
  local out rc
  # Nothing but BERTH_SOCKET (ctl sets it): not -c, not --state-dir.
  out=$(ctl exec "$P-s" -- echo hello-from-exec 2>&1); rc=$?
  check "socket only: exec (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q hello-from-exec <<<"$out"'
  out=$(ctl health "$P-s" 2>&1); rc=$?
  check "socket only: health (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q passed <<<"$out"'
  out=$(ctl check 2>&1); rc=$?
  check "socket only: check reads the daemon's definitions (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$out" = "ok: 1 container, 0 networks" ]'
  out=$(ctl logs "$P-s" 2>&1); rc=$?
  check "socket only: logs (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q hello-from-log <<<"$out"'
  out=$(ctl stats "$P-s" 2>&1); rc=$?
  check "socket only: stats (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q "^$P-s " <<<"$out"'
  out=$(ctl top "$P-s" 2>&1); rc=$?
  check "socket only: top (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q sleep <<<"$out"'
  out=$(ctl freeze "$P-s" 2>&1); rc=$?
  check "socket only: freeze (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  out=$(ctl unfreeze "$P-s" 2>&1); rc=$?
  check "socket only: unfreeze (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  # run needs no berthd and never takes the daemon's directories, even
  # with BERTH_SOCKET set; it leaves no container directory behind.
  mkdir -p "$D/runconf" "$D/runstate"
  printf 'container %s {\n    template = "busybox"\n}\n' "$P-r" >"$D/runconf/r.conf"
  out=$(ctl run -c "$D/runconf" --state-dir "$D/runstate" --no-tty "$P-r" -- echo hello-from-run 2>&1); rc=$?
  check "run: its own -c and --state-dir next to a berthd (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q hello-from-run <<<"$out"'
  check "run: nothing of it in the daemon's state directory, no container left in its own" \
    eval '[ ! -e "$D/state/containers/$P-r" ] && [ ! -e "$D/runstate/containers/$P-r" ]'
  daemon_stop
}

# test_honest.sh [t_NAME...]: only those checks (for debugging)
if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_reload_start_failed
  t_reload_update_failed
  t_reload_memory_below_usage
  t_check_refs
  t_json
  t_socket_only
fi

daemon_finish ""
exit $fail
