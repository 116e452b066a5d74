#!/bin/bash
# migrate --live (issue 20) on this host, with two private berthd (A, the
# source; B, the target reached over a pipe with --via). CRIU itself cannot
# work on the kernels of our CI machines (`criu check` fails; the QEMU boot
# lane, tests/vm/boot-guest-live20.sh, moves a running container live), so
# this suite checks what must hold wherever CRIU refuses or fails:
#  1. migrate --live refuses at once with CRIU's own reason, the container
#     untouched (same pid, running, no staging left here or on B);
#  2. bad arguments: --live without --to, a stopped container, import
#     --stage with a bad id, --abort without --stage, --stage with --name,
#     a round that is not a directory of images, one from a file;
#  3. the protocol with a stand-in criu (BERTH_CRIU: check passes, pre-dump
#     writes images of a shrinking size, the final dump fails like CRIU's):
#     the pre-dump rounds reach B's staging, the last dump fails, the
#     container runs on here with its pid and definition, B's staging and
#     ours are removed, B has nothing of it;
#  4. import --stage by hand: a round staged, then removed by --abort.
set -u
. "$(dirname "$0")/lib.sh"
criu_suite live20

FAKE=$ROOT/criu
cat > "$FAKE" <<'EOF'
#!/bin/sh
# A stand-in for criu: check passes; pre-dump writes images whose pages
# shrink round by round (8 MiB, then 1 MiB); dump fails as CRIU's does.
case $1 in
check) echo "Looks good."; exit 0 ;;
pre-dump)
  while [ $# -gt 0 ]; do case $1 in -D) dir=$2; shift ;; --prev-images-dir) prev=$2; shift ;; esac; shift; done
  if [ -n "${prev:-}" ]; then ln -s "$prev" "$dir/parent"; mb=1; else mb=8; fi
  dd if=/dev/zero of="$dir/pages-1.img" bs=1M count=$mb 2>/dev/null
  echo inventory > "$dir/inventory.img"
  exit 0 ;;
dump)
  while [ $# -gt 0 ]; do case $1 in -D) dir=$2; shift ;; -o) log=$2; shift ;; --prev-images-dir) prev=$2; shift ;; esac; shift; done
  echo "(00.001) Error (criu/files-ext.c:96): Can't dump file 3 of that type [8] (unknown /dev/live20)" > "$dir/$log"
  echo "(00.002) Error (criu/cr-dump.c:2093): Dumping FAILED (parent ${prev:-none})." >> "$dir/$log"
  exit 1 ;;
esac
exit 1
EOF
chmod +x "$FAKE"

env_new a
A=$D
SA=$A/state
# init = false: berth's own init runs from a sealed memfd, which CRIU cannot restore.
container "$P-k" "$(cmd "$COUNTER")" 'init = false' 'autostart = true' 'restart = "always"' 'network { mode = "none" }'
container "$P-s" "$(cmd "$COUNTER")" 'init = false' 'autostart = false' 'network { mode = "none" }'
daemon_start env BERTH_CRIU="$FAKE"
DA=$DPID
check "berthd A starts the counter" wait_until 60 running "$P-k"
env_new b
B=$D
SB=$B/state
daemon_start
DB=$DPID
D=$A
VIA="env BERTH_SOCKET=$B/run/control.sock PATH=$BUILD:$PATH"
ctla() { BERTH_SOCKET=$A/run/control.sock timeout 120 "$CTL" "$@"; }
ctlb() { BERTH_SOCKET=$B/run/control.sock timeout 60 "$CTL" "$@"; }
no_staging() { [ -z "$(find "$SA/snapshots" "$SB/snapshots" -maxdepth 2 -name '.live-*' 2>/dev/null)" ]; }
nothing_on_b() { [ ! -e "$B/conf/$P-k.conf" ] && [ ! -e "$SB/containers/$P-k" ] && [ ! -e "$SB/snapshots/$P-k" ]; }

# ---- 1. CRIU refuses this host: --live refuses with its reason -----------------------------------
if criu_refuses_here; then
  pid=$(pid_of "$P-k")
  t0=$SECONDS
  out=$(ctla migrate "$P-k" --to b.example --via "$VIA" --live 2>&1); rc=$?
  check "migrate --live refuses, exit $rc, with CRIU's own reason '$first' ($(oneline "$out"))" \
    bash -c '[ "$1" = 1 ] && grep -qF -- "$2" <<<"$3" && grep -q "criu check" <<<"$3"' _ "$rc" "$first" "$out"
  check "it refuses at once (in $((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 10
  check "the container is untouched: running, same pid $pid" bash -c '[ "$1" = "$2" ] && [ "$3" = running ]' _ "$(pid_of "$P-k")" "$pid" "$(jget "$P-k" state)"
  check "its counter goes on" wait_until 10 grows "$P-k"
  check "its definition stays here, nothing reached B" bash -c "[ -f $A/conf/$P-k.conf ] && [ ! -e $B/conf/$P-k.conf ]"
  check "no staging is left here or on B" no_staging
fi

# ---- 2. bad arguments ---------------------------------------------------------------------------
out=$(ctla migrate "$P-k" --live 2>&1); rc=$?
check "--live without --to: refused, exit 2 ($(oneline "$out"))" bash -c '[ "$1" = 2 ] && grep -q -- "--to" <<<"$2"' _ "$rc" "$out"
out=$(BERTH_CRIU=$FAKE ctla migrate "$P-s" --to b.example --via "$VIA" --live 2>&1); rc=$?
check "--live of a stopped container: refused, it has no processes ($(oneline "$out"))" \
  bash -c '[ "$1" = 1 ] && grep -q "not running" <<<"$2" && grep -q "without --live" <<<"$2"' _ "$rc" "$out"
out=$(ctlb import --stage 'Bad!' - </dev/null 2>&1); rc=$?
check "import --stage with a bad id: refused, exit 2 ($(oneline "$out"))" bash -c '[ "$1" = 2 ] && grep -q "not a migration id" <<<"$2"' _ "$rc" "$out"
out=$(ctlb import --abort - </dev/null 2>&1); rc=$?
check "import --abort without --stage: refused ($(oneline "$out"))" bash -c '[ "$1" = 2 ] && grep -q -- "--abort goes with --stage" <<<"$2"' _ "$rc" "$out"
out=$(ctlb import --stage abc --name other - </dev/null 2>&1); rc=$?
check "import --stage with --name: refused ($(oneline "$out"))" bash -c '[ "$1" = 2 ] && grep -q -- "no --name" <<<"$2"' _ "$rc" "$out"
out=$(ctlb import --stage abc "$FAKE" 2>&1); rc=$?
check "import --stage from a file: refused, a round comes on standard input ($(oneline "$out"))" bash -c '[ "$1" = 2 ] && grep -q "standard input" <<<"$2"' _ "$rc" "$out"
out=$(ctlb import --stage abc - </dev/null 2>&1); rc=$?
check "import --stage of an empty stream: an error, nothing staged ($(oneline "$out"))" \
  bash -c '[ "$1" = 1 ] && grep -q "staging is removed" <<<"$2" && [ ! -e "$3/snapshots/.live-abc" ]' _ "$rc" "$out" "$SB"
mkdir -p "$ROOT/bad/x/sub"
out=$(tar -C "$ROOT/bad" -cf - x | ctlb import --stage abc - 2>&1); rc=$?
check "import --stage of a round with a subdirectory: refused ($(oneline "$out"))" \
  bash -c '[ "$1" = 1 ] && grep -q "not one of a directory of images" <<<"$2" && [ ! -e "$3/snapshots/.live-abc" ]' _ "$rc" "$out" "$SB"

# ---- 3. the protocol with a stand-in criu: the last dump fails ---------------------------------
pid=$(pid_of "$P-k")
out=$(BERTH_CRIU=$FAKE ctla migrate "$P-k" --to b.example --via "$VIA" --live 2>&1); rc=$?
check "migrate --live whose last dump fails: exit 1, CRIU's reason ($(oneline "$out"))" \
  bash -c '[ "$1" = 1 ] && grep -q "Can.t dump file 3 of that type" <<<"$2" && grep -q "not moved" <<<"$2"' _ "$rc" "$out"
check "two pre-dump rounds were sent to B first (8 MiB, then 1 MiB: it stopped)" \
  bash -c 'grep -q "pre-dump 1 of .*: 8192 KiB" <<<"$1" && grep -q "pre-dump 2 of .*: 1024 KiB" <<<"$1" && ! grep -q "pre-dump 3" <<<"$1"' _ "$out"
check "the last dump was asked for after the last pre-dump (parent ../.live-ID/pre-2)" \
  bash -c 'grep -q "parent \.\./\.live-[0-9a-f]*/pre-2" <<<"$1"' _ "$out"
sleep 1
check "the container runs on here: same pid $pid" bash -c '[ "$1" = "$2" ] && [ "$3" = running ]' _ "$(pid_of "$P-k")" "$pid" "$(jget "$P-k" state)"
check "its counter goes on" wait_until 10 grows "$P-k"
check "its definition stays here" test -f "$A/conf/$P-k.conf"
check "no staging is left here or on B (B's removed by --abort)" no_staging
check "B has nothing of it" nothing_on_b
check "no checkpoint snapshot or images of the failed dump are left here" bash -c "[ -z \"\$(ls -A $SA/snapshots/$P-k 2>/dev/null | grep live-)\" ]"
kill -KILL "$pid" 2>/dev/null
newpid() { local p; p=$(pid_of "$P-k"); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ] && running "$P-k"; }
check "and it is still supervised: killed, restart = always starts it again" wait_until 30 newpid "$pid"

# ---- 4. import --stage by hand -------------------------------------------------------------------
mkdir -p "$ROOT/round/pre-1"
echo pages > "$ROOT/round/pre-1/pages-1.img"
ln -s ../pre-0 "$ROOT/round/pre-1/parent"
out=$(tar -C "$ROOT/round" -cf - pre-1 | ctlb import --stage abc - 2>&1); rc=$?
check "import --stage abc - stages a round ($(oneline "$out"))" \
  bash -c '[ "$1" = 0 ] && [ "$(cat "$2/snapshots/.live-abc/pre-1/pages-1.img")" = pages ] && [ "$(readlink "$2/snapshots/.live-abc/pre-1/parent")" = ../pre-0 ]' _ "$rc" "$SB"
out=$(ctlb import --stage abc --abort - </dev/null 2>&1); rc=$?
check "import --stage abc --abort - removes it ($(oneline "$out"))" bash -c '[ "$1" = 0 ] && [ ! -e "$2/snapshots/.live-abc" ]' _ "$rc" "$SB"

D=$B DPID=$DB; daemon_stop; D=$A DPID=$DA; daemon_stop
daemon_finish ""
exit $fail
