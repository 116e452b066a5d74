#!/bin/bash
# stateful-stop (berthd --stateful-stop, the container key stateful-stop):
# at berthd's shutdown a container is checkpointed instead of stopped, and
# its next start restores it. CRIU refuses this host's kernel (`criu check`
# fails; the QEMU boot lane, tests/vm/boot-guest-stateful20.sh, runs the
# real checkpoint and restore across a berthd stop and start), so this suite
# checks what must hold wherever CRIU refuses or fails, with a private berthd:
#  1. the key: a value that is not a boolean is an error at FILE:LINE;
#  2. real criu, berthd --stateful-stop: the shutdown stops the container
#     cold and says why (CRIU's own reason), berthd exits in time, no
#     stateful record is left, the next berthd starts it cold;
#  3. a stand-in criu (BERTH_CRIU) whose dump works (it kills the tree, as
#     CRIU does after a dump) and whose restore fails: the shutdown takes
#     the checkpoint and records it; the next start tries the restore, says
#     why it failed and starts the container cold; the record is gone, so
#     the start after that is cold without a try;
#  4. stateful-stop = false overrides --stateful-stop; stateful-stop = true
#     without the option asks for it;
#  5. a definition changed (a restart change) between shutdown and start:
#     a cold start, the checkpoint dropped;
#  6. a dump that fails: the container is stopped cold, with the log's reason;
#  7. berthd killed (kill -9) in the middle of the checkpoint: nothing is
#     lost, the next berthd starts the container (cold, no stale record).
set -u
. "$(dirname "$0")/lib.sh"
criu_suite stateful20
# sd_start [env VAR=VALUE...] -- [berthd options...]
sd_start() {
  local pre=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pre+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  "${pre[@]}" "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" "$@" >>"$D/berthd.log" 2>&1 &
  DPID=$!
  DPIDS+=("$DPID")
  wait_until "$START_TIMEOUT" daemon_up
}
logged() { grep -F -- "$1" "$D/berthd.log" | grep -qF -- "$2"; }
# stop_timed: daemon_stop, its duration in $took
stop_timed() { local t0=$SECONDS; daemon_stop; took=$((SECONDS - t0)); }
record() { echo "$SA/snapshots/$1/.stateful"; }
ckpts() { ls -d "$SA/snapshots/$1"/stateful-* 2>/dev/null | wc -l; }
fake_runs() { [ -n "$(procs_with "$FAKE")" ]; }

env_new a
SA=$D/state

# ---- 1. the key ----------------------------------------------------------------------------------
container "$P-bad" 'command = { "/bin/true" }' 'stateful-stop = maybe'
out=$(BERTH_SOCKET=/nonexistent timeout 30 "$CTL" check --conf-dir "$D/conf" 2>&1); rc=$?
check "stateful-stop = maybe: an error at FILE:LINE ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && grep -qF -- "$2:4: stateful-stop" <<<"$3" && grep -q "not a boolean" <<<"$3"' _ "$rc" "$D/conf/$P-bad.conf" "$out"
rm -f "$D/conf/$P-bad.conf"
out=$("$BERTHD" --help 2>&1)
check "berthd --help names --stateful-stop" grep -q -- '--stateful-stop' <<<"$out"

# init = false: berth's own init runs from a sealed memfd, which CRIU cannot restore.
container "$P-k" "$(cmd "$COUNTER")" 'init = false' 'autostart = true' 'network { mode = "none" }'

# ---- 2. real criu refuses this host: a cold stop, and why ---------------------------------------
if criu_refuses_here; then
  sd_start -- --stateful-stop
  check "berthd --stateful-stop starts the counter" wait_until 60 running "$P-k"
  check "the counter counts" wait_until 10 grows "$P-k"
  stop_timed
  check "berthd stops in time ($took s)" test "$took" -le 20
  check "the shutdown says why the container was stopped cold: CRIU's '$first'" \
    logged "$P-k: stateful-stop-failed" "$first"
  check "... and that it stopped it cold" logged "$P-k: stateful-stop-failed" "stopping it cold"
  check "no stateful record, no checkpoint is left" bash -c '[ ! -e "$1" ] && [ "$2" = 0 ]' _ "$(record "$P-k")" "$(ckpts "$P-k")"
  check "nothing of the container runs" nothing_left
  : > "$D/berthd.log"
  sd_start -- --stateful-stop
  check "the next berthd starts it (autostart)" wait_until 60 running "$P-k"
  check "cold: no restore was tried" bash -c '! grep -q "stateful-restore" "$1"' _ "$D/berthd.log"
  daemon_stop
fi

# ---- 3. a stand-in criu: checkpoint at shutdown, restore fails, cold start ------------------------
FAKE=$ROOT/criu
MODE=$ROOT/criu-mode
cat > "$FAKE" <<EOF
#!/bin/sh
# A stand-in for criu: check passes; dump kills the tree as CRIU does after
# a dump (or fails, or is slow: $MODE); restore fails with its log.
mode=\$(cat "$MODE" 2>/dev/null)
cmd=\$1
while [ \$# -gt 0 ]; do case \$1 in -t) pid=\$2; shift ;; -D) dir=\$2; shift ;; -o) log=\$2; shift ;; esac; shift; done
case \$cmd in
check) echo "Looks good."; exit 0 ;;
dump)
  if [ "\$mode" = fail ]; then
    echo "(00.001) Error (criu/sk-inet.c:188): inet: stateful20 cannot dump this socket" > "\$dir/\$log"
    echo "(00.002) Error (criu/cr-dump.c:2093): Dumping FAILED." >> "\$dir/\$log"
    exit 1
  fi
  [ "\$mode" = slow ] && sleep 5
  echo "(00.001) dumped" > "\$dir/\$log"
  echo image > "\$dir/core-\$pid.img"
  kill -KILL "\$pid"
  exit 0 ;;
restore)
  echo "(00.001) Error (criu/cr-restore.c:1234): stateful20 restore refused" > "\$dir/restore.log"
  exit 1 ;;
esac
exit 1
EOF
chmod +x "$FAKE"
: > "$MODE"
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE" -- --stateful-stop
check "berthd (stand-in criu) starts the counter" wait_until 60 running "$P-k"
check "the counter counts" wait_until 10 grows "$P-k"
stop_timed
check "berthd stops in time ($took s)" test "$took" -le 30
check "the shutdown checkpointed the container" logged "$P-k: stateful-stop" "checkpoint 'stateful-"
check "a stateful record names the checkpoint" bash -c 'read -r t h < "$1" && [ -d "$2/$t/criu" ]' _ "$(record "$P-k")" "$SA/snapshots/$P-k"
tag=$(awk '{print $1}' "$(record "$P-k")" 2>/dev/null)
check "nothing of the container runs" nothing_left
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE" -- --stateful-stop
check "the next berthd starts it" wait_until 60 running "$P-k"
check "it tried the restore of '$tag'" logged "$P-k: stateful-restore" "restoring it from its checkpoint '$tag'"
check "the restore's failure is told with CRIU's reason, and the cold start" \
  bash -c 'grep -F "stateful-restore-failed" "$1" | grep -F "stateful20 restore refused" | grep -qF "starting it cold"' _ "$D/berthd.log"
check "it counts (cold)" wait_until 10 grows "$P-k"
check "the record is gone (never tried twice)" test ! -e "$(record "$P-k")"
check "the checkpoint is kept for a look" test -d "$SA/snapshots/$P-k/$tag"
ctl snapshot rm "$P-k" "$tag" >/dev/null 2>&1
ctl stop "$P-k" >/dev/null 2>&1
check "berthctl stop is a cold stop" wait_until 30 state_is "$P-k" stopped
check "... with no checkpoint" bash -c '[ ! -e "$1" ] && [ "$2" = 0 ]' _ "$(record "$P-k")" "$(ckpts "$P-k")"
ctl start "$P-k" >/dev/null 2>&1
check "and it starts again cold" wait_until 30 running "$P-k"

# ---- 4. the key overrides berthd's option ---------------------------------------------------------
daemon_stop
container "$P-k" "$(cmd "$COUNTER")" 'init = false' 'autostart = true' 'stateful-stop = false' 'network { mode = "none" }'
container "$P-t" "$(cmd "$COUNTER")" 'init = false' 'autostart = true' 'stateful-stop = true' 'network { mode = "none" }'
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE" -- --stateful-stop
both() { running "$P-k" && running "$P-t"; }
check "berthd starts both" wait_until 60 both
n0=$(ckpts "$P-k")
: > "$D/berthd.log"
daemon_stop
check "stateful-stop = false: stopped cold under --stateful-stop" \
  bash -c '! grep -q "$1: stateful" "$2" && [ ! -e "$3" ] && [ "$4" = "$5" ]' _ "$P-k" "$D/berthd.log" "$(record "$P-k")" "$(ckpts "$P-k")" "$n0"
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE"
check "berthd (without the option) starts both" wait_until 60 both
: > "$D/berthd.log"
daemon_stop
check "stateful-stop = true without --stateful-stop: checkpointed" \
  bash -c 'grep -q "$1: stateful-stop: checkpoint" "$2" && [ -e "$3" ]' _ "$P-t" "$D/berthd.log" "$(record "$P-t")"
check "the other one: cold" bash -c '! grep -q "$1: stateful" "$2"' _ "$P-k" "$D/berthd.log"

# ---- 5. the definition changed meanwhile: cold start, checkpoint dropped ------------------------
tag=$(awk '{print $1}' "$(record "$P-t")" 2>/dev/null)
container "$P-t" "$(cmd "echo changed > /changed; $COUNTER")" 'init = false' 'autostart = true' 'stateful-stop = true' 'network { mode = "none" }'
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE"
check "the changed container starts" wait_until 60 running "$P-t"
check "cold, because its definition changed since '$tag'" logged "$P-t: stateful-restore-failed" "definition changed"
check "no restore was tried" bash -c '! grep -q "$1: stateful-restore: " "$2"' _ "$P-t" "$D/berthd.log"
check "it runs the new command" wait_until 10 test -e "$SA/containers/$P-t/upper/changed"
check "record and checkpoint are gone" bash -c '[ ! -e "$1" ] && [ ! -e "$2" ]' _ "$(record "$P-t")" "$SA/snapshots/$P-t/$tag"

# ---- 6. a dump that fails: stopped cold, with the reason -----------------------------------------
echo fail > "$MODE"
: > "$D/berthd.log"
n0=$(ckpts "$P-t")
stop_timed
check "berthd stops in time ($took s)" test "$took" -le 30
check "the dump's reason is told, and the cold stop" \
  bash -c 'grep -F "$1: stateful-stop-failed" "$2" | grep -F "cannot dump this socket" | grep -qF "stopping it cold"' _ "$P-t" "$D/berthd.log"
check "no record, no new checkpoint" bash -c '[ ! -e "$1" ] && [ "$2" = "$3" ]' _ "$(record "$P-t")" "$(ckpts "$P-t")" "$n0"
check "nothing of the containers runs" nothing_left

# ---- 7. berthd killed during the checkpoint: the container is not lost ---------------------------
: > "$MODE"
sd_start env BERTH_CRIU="$FAKE"
check "berthd starts both again" wait_until 60 both
echo slow > "$MODE"
kill -TERM "$DPID"
check "the checkpoint at shutdown begins" wait_until 20 logged "$P-t: stateful-stop" "checkpointing it"
sleep 1
daemon_kill9
check "the checkpoint goes on without berthd" fake_runs
check "... and ends" wait_until 30 eval '! fake_runs'
sleep 1
check "no stateful record (its berthd is gone: no restore of it later)" test ! -e "$(record "$P-t")"
: > "$MODE"
: > "$D/berthd.log"
sd_start env BERTH_CRIU="$FAKE"
check "the next berthd starts the container (not lost)" wait_until 60 running "$P-t"
check "cold, and why ('berthd ended during its checkpoint')" logged "$P-t: stateful-stop-failed" "berthd ended during its checkpoint"
check "no restore was tried" bash -c '! grep -q "$1: stateful-restore" "$2"' _ "$P-t" "$D/berthd.log"
check "it counts" wait_until 10 grows "$P-t"
daemon_stop

daemon_finish ""
exit $fail
