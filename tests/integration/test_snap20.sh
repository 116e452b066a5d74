#!/bin/bash
# Snapshots, restores, clones, export and import (berthctl snapshot,
# restore, clone, export, import; snapshot { every keep }), on a private
# berthd with its own directories over the busybox template, and a second
# one for the import:
#  1. a snapshot taken while a writer runs holds a consistent pair of files
#     (the container frozen for the copy), with its method shown;
#  2. restore swaps the content back, restarts the container, keeps the
#     replaced layer as pre-restore (and only one of it);
#  3. clone: a new definition next to the source's, without the static
#     address; after a reload it boots with the source's files and another
#     address;
#  4. export | import into a second berthd (its own state, config, socket)
#     reproduces the layer byte for byte (sha256 of the upper trees), .zst
#     compressed too, with the snapshots; -o a fifo or a device writes into
#     it, never renames over it;
#  5. a tampered, a truncated archive, an existing name, a missing template:
#     refused, nothing left behind;
#  6. every bad input (no such container, bad tag, existing tag, no such
#     snapshot, a snapshot of another template): an error, a non-zero exit,
#     the container as it was;
#  7. scheduled snapshots taken by berthd and pruned to keep, the manual
#     ones untouched.
set -u
. "$(dirname "$0")/lib.sh"
OK_PREFIX="snap20: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=snap20-$$
BR=snap20b$(($$ % 100000))
NET=198.19.220
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/snap20.XXXXXX)
START_TIMEOUT=60 STOP_TIMEOUT=60
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

cmd() { printf 'command = { "/bin/sh", "-c", "%s" }' "$1"; }
LOOP='trap \"exit 0\" TERM; while :; do sleep 1; done'
# sha256 of a tree: every entry's path, type, mode, owner, and content or target
tree_sum() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
    if [ -L "$f" ]; then printf '%s L %s\n' "$f" "$(readlink "$f")"
    elif [ -f "$f" ]; then printf '%s F %s %s\n' "$f" "$(stat -c '%a %u %g' "$f")" "$(sha256sum < "$f" | cut -c1-64)"
    else printf '%s %s\n' "$f" "$(stat -c '%F %a %u %g %t:%T' "$f")"; fi
  done) | sha256sum | cut -c1-64
}
running() { state_is "$1" running; }
xc() { ctl exec "$1" -- "${@:2}" 2>/dev/null; }

# ---- the first berthd ---------------------------------------------------------------------
env_new a
A=$D
SA=$A/state
cat > "$A/conf/net.conf" <<EOF
network $P-n { bridge = "$BR" subnet = "$NET.0/24" gateway = "$NET.1" }
EOF
# The writer appends numbered records, one write() each, for ever.
container "$P-w" "$(cmd 'i=0; while :; do i=\$((i+1)); echo record-\$i-end >> /log; done')" 'autostart = true'
container "$P-r" "$(cmd "$LOOP")" 'autostart = true'
container "$P-c" "$(cmd "echo marker-\$\$ > /marker; $LOOP")" 'autostart = true' \
  "network { bridge = \"$P-n\"  address = \"$NET.10\" }"
container "$P-s" "$(cmd "$LOOP")" 'autostart = true' 'snapshot { every = 2s  keep = 2 }'
daemon_start
DA=$DPID
all_running() { local n; for n in "$@"; do running "$n" || return 1; done; }
check "berthd A starts its containers" wait_until 90 all_running "$P-w" "$P-r" "$P-c" "$P-s"

# ---- 1. a consistent snapshot of a running writer ---------------------------------------------
out=$(ctl snapshot "$P-w" w1 2>&1); rc=$?
check "snapshot of a running writer succeeds and says so ($(oneline "$out"))" test $rc = 0
check "it shows the method and that the container was frozen" grep -qE 'method (copy|reflink|mixed).*frozen' <<<"$out"
log=$SA/snapshots/$P-w/w1/upper/log
n=$(wc -l < "$log" 2>/dev/null); last=$(tail -n 1 "$log" 2>/dev/null)
check "the writer's log is consistent in the snapshot: $n whole records, the last one record-$n-end ($last)" \
  bash -c "[ '$last' = 'record-$n-end' ] && [ \$(grep -cvE '^record-[0-9]+-end\$' '$log') = 0 ]"
check "the writer runs on after the snapshot (thawed)" bash -c "
  x=\$(wc -l < $SA/containers/$P-w/upper/log); sleep 0.5; y=\$(wc -l < $SA/containers/$P-w/upper/log); [ \"\$x\" != \"\$y\" ]"
check "ls shows state running, not frozen" running "$P-w"
ls_out=$(ctl snapshot ls "$P-w" 2>&1)
check "snapshot ls lists the tag, time, size and method" grep -qE '^w1 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]+Z +[0-9.]+[BKMG] +(copy|reflink|mixed) +manual' <<<"$ls_out"
def_out=$(ctl snapshot "$P-w" 2>&1)
check "a snapshot without a tag gets a timestamp ($(oneline "$def_out"))" grep -qE "snapshot '[0-9]{8}T[0-9]{6}Z'" <<<"$def_out"
check "the snapshot holds the definition it ran with" grep -q "container $P-w" "$SA/snapshots/$P-w/w1/definition.conf"

# ---- 2. restore -----------------------------------------------------------------------------
xc "$P-r" sh -c 'echo one > /data'
ctl snapshot "$P-r" s1 >/dev/null 2>&1
xc "$P-r" sh -c 'echo two > /data'
pid0=$(pid_of "$P-r")
out=$(ctl restore "$P-r" s1 2>&1); rc=$?
check "restore succeeds ($(oneline "$out"))" test $rc = 0
check "the container runs again after the restore" wait_until 30 running "$P-r"
check "it was restarted (a new pid)" test "$(pid_of "$P-r")" != "$pid0"
check "its file has the snapshot's content" test "$(xc "$P-r" cat /data)" = one
check "the replaced layer is kept as pre-restore" test "$(cat "$SA/snapshots/$P-r/pre-restore/upper/data" 2>/dev/null)" = two
check "snapshot ls shows pre-restore" grep -qE '^pre-restore .* pre-restore$' <<<"$(ctl snapshot ls "$P-r")"
out=$(ctl restore "$P-r" pre-restore 2>&1); rc=$?
check "restoring pre-restore succeeds ($(oneline "$out"))" test $rc = 0
wait_until 30 running "$P-r"
check "after restoring pre-restore the file is 'two' again" test "$(xc "$P-r" cat /data)" = two
check "only one pre-restore, now holding 'one'" test "$(cat "$SA/snapshots/$P-r/pre-restore/upper/data" 2>/dev/null)" = one

# ---- 6. bad input: clear errors, nothing changed -----------------------------------------------
pid1=$(pid_of "$P-r")
out=$(ctl snapshot "$P-none" 2>&1); rc=$?
check "snapshot of a container that does not exist fails ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q \"no container '$P-none'\" <<<\"\$0\"" "$out"
out=$(ctl snapshot "$P-r" 'bad/tag' 2>&1); rc=$?
check "a tag with a '/' is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q 'not a snapshot tag' <<<\"\$0\"" "$out"
out=$(ctl snapshot "$P-r" "$(printf 'x%.0s' {1..65})" 2>&1); rc=$?
check "a tag of 65 characters is refused" test $rc != 0
out=$(ctl snapshot "$P-r" s1 2>&1); rc=$?
check "an existing tag is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q 'already' <<<\"\$0\"" "$out"
out=$(ctl restore "$P-r" nosuch 2>&1); rc=$?
check "restore of a tag that does not exist fails ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q \"no snapshot 'nosuch'\" <<<\"\$0\"" "$out"
cp -a "$SA/snapshots/$P-r/s1" "$SA/snapshots/$P-r/other"
sed -i 's/^template=.*/template=alpine/' "$SA/snapshots/$P-r/other/info"
out=$(ctl restore "$P-r" other 2>&1); rc=$?
check "restore of a snapshot made for another template fails ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q \"template 'alpine'\" <<<\"\$0\"" "$out"
out=$(ctl restore "$P-none" s1 2>&1); rc=$?
check "restore of a container that does not exist fails" test $rc != 0
check "after the refused restores the container runs as it was (same pid, same file)" \
  bash -c "[ '$(pid_of "$P-r")' = '$pid1' ] && [ '$(xc "$P-r" cat /data)' = two ]"
out=$(ctl snapshot rm "$P-r" nosuch 2>&1); rc=$?
check "snapshot rm of a tag that does not exist fails" test $rc != 0
out=$(ctl snapshot rm "$P-r" other 2>&1); rc=$?
check "snapshot rm removes a snapshot" bash -c "[ $rc = 0 ] && [ ! -e '$SA/snapshots/$P-r/other' ]"

# ---- 3. clone ---------------------------------------------------------------------------------
out=$(ctl clone "$P-c" "$P-d" 2>&1); rc=$?
check "clone succeeds ($(oneline "$out"))" test $rc = 0
check "the clone's definition is next to the source's, named for it" grep -q "^container $P-d {" "$A/conf/$P-d.conf"
check "the clone's definition has no static address" bash -c "! grep -q address '$A/conf/$P-d.conf'"
check "the clone is not started: plan shows it as a new container" grep -q "$P-d" <<<"$(ctl plan 2>&1)"
out=$(ctl clone "$P-c" "$P-r" 2>&1); rc=$?
check "clone onto an existing name is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q exists <<<\"\$0\"" "$out"
ctl reload >/dev/null 2>&1
check "after a reload the clone boots" wait_until 60 running "$P-d"
ac=$(jget "$P-c" address); ad=$(jget "$P-d" address)
check "the clone has another address ($ac, $ad)" bash -c "[ -n '$ad' ] && [ '$ac' != '$ad' ]"
check "the clone has the source's files" test "$(xc "$P-d" cat /marker)" = "$(xc "$P-c" cat /marker)"

# ---- 7. scheduled snapshots -------------------------------------------------------------------
ctl snapshot "$P-s" manual1 >/dev/null 2>&1
sched() { ctl snapshot ls "$P-s" 2>/dev/null | awk '$NF == "scheduled"' | wc -l; }
check "berthd takes scheduled snapshots" wait_until 30 eval '[ "$(sched)" -ge 2 ]'
sleep 5
check "scheduled snapshots are pruned to keep = 2 ($(sched))" test "$(sched)" = 2
check "the manual snapshot is not pruned" grep -q '^manual1 ' <<<"$(ctl snapshot ls "$P-s")"
check "scheduled tags are auto-TIMESTAMP" grep -qE '^auto-[0-9]{8}T[0-9]{6}Z ' <<<"$(ctl snapshot ls "$P-s")"

# ---- 4. export | import into a second berthd --------------------------------------------------
env_new b
B=$D
SB=$B/state
daemon_start
DB=$DPID
D=$A
ctlb() { BERTH_SOCKET=$B/run/control.sock timeout 60 "$CTL" "$@"; }
BERTH_TEMPLATES=$REPO/templates timeout 120 "$CTL" template build --state-dir "$SB" busybox >/dev/null 2>&1
ctl stop "$P-r" >/dev/null 2>&1; wait_until 30 state_is "$P-r" stopped
xsum=$(tree_sum "$SA/containers/$P-r/upper")
ctl export "$P-r" -o - --with-snapshots 2>"$ROOT/export.err" | ctlb import - >"$ROOT/import.out" 2>&1
rc=${PIPESTATUS[1]}
check "export | import - succeeds ($(oneline "$(cat "$ROOT/export.err" "$ROOT/import.out")"))" test "$rc" = 0
check "the imported layer is the same byte for byte (sha256 of the upper trees)" \
  test "$(tree_sum "$SB/containers/$P-r/upper" 2>/dev/null)" = "$xsum"
check "the imported definition is in B's definition directory" grep -q "^container $P-r {" "$B/conf/$P-r.conf"
check "the snapshots came along (--with-snapshots)" test "$(cat "$SB/snapshots/$P-r/s1/upper/data" 2>/dev/null)" = one
D=$B
ctl reload >/dev/null 2>&1
check "B starts the imported container after a reload" wait_until 60 running "$P-r"
check "its files are the exported ones" test "$(xc "$P-r" cat /data)" = two
D=$A
out=$(ctl export "$P-r" -o "$ROOT/r.tar.zst" 2>&1); rc=$?
check "export -o FILE.zst succeeds ($(oneline "$out"))" test $rc = 0
check "FILE.zst is zstd-compressed" test "$(head -c4 "$ROOT/r.tar.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd
out=$(ctlb import "$ROOT/r.tar.zst" --name "$P-z" 2>&1); rc=$?
check "import FILE.zst --name NEW succeeds ($(oneline "$out"))" test $rc = 0
check "the renamed import has the same layer" test "$(tree_sum "$SB/containers/$P-z/upper" 2>/dev/null)" = "$xsum"
check "the renamed import's definition carries the new name" grep -q "^container $P-z {" "$B/conf/$P-z.conf"
# -o naming a device or a fifo: written in place, never replaced by FILE.partial
mkfifo "$ROOT/fifo"
timeout 60 cat "$ROOT/fifo" >"$ROOT/fifo.tar" &
cpid=$!
out=$(ctl export "$P-r" -o "$ROOT/fifo" 2>&1); rc=$?
wait "$cpid"
check "export -o FIFO: written into the fifo, which stays one ($(oneline "$out"))" \
  bash -c '[ "$1" = 0 ] && [ -p "$2/fifo" ] && [ ! -e "$2/fifo.partial" ] && tar tf "$2/fifo.tar" 2>/dev/null | grep -qx manifest.json' _ "$rc" "$ROOT"
mknod -m 600 "$ROOT/full" c 1 7
out=$(ctl export "$P-r" -o "$ROOT/full" 2>&1); rc=$?
check "export -o onto a full device (a copy of /dev/full): exit 1, the device stays ($(oneline "$out"))" \
  bash -c '[ "$1" = 1 ] && [ -c "$2/full" ] && [ ! -e "$2/full.partial" ]' _ "$rc" "$ROOT"

# ---- 5. refused archives ------------------------------------------------------------------------
ctl export "$P-r" -o "$ROOT/r.tar" >/dev/null 2>&1
nothing_of() { [ ! -e "$B/conf/$1.conf" ] && [ ! -e "$SB/containers/$1" ] && [ ! -e "$SB/snapshots/$1" ] && [ -z "$(ls -A "$SB/snapshots" | grep '^\.import')" ]; }
"$PY" - "$ROOT/r.tar" "$ROOT/tampered.tar" <<'EOF'
import io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "container/upper/data":
            data = b"evil\n"
            m.size = len(data)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
EOF
out=$(ctlb import "$ROOT/tampered.tar" --name "$P-t" 2>&1); rc=$?
check "a tampered archive is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q 'container/upper/data' <<<\"\$0\"" "$out"
check "the refused import left nothing behind" nothing_of "$P-t"
head -c $(( $(stat -c %s "$ROOT/r.tar") / 2 )) "$ROOT/r.tar" > "$ROOT/short.tar"
out=$(ctlb import - --name "$P-t" < "$ROOT/short.tar" 2>&1); rc=$?
check "a truncated archive is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -qi 'truncated' <<<\"\$0\"" "$out"
check "the truncated import left nothing behind" nothing_of "$P-t"
out=$(ctlb import "$ROOT/r.tar" 2>&1); rc=$?
check "importing an existing name is refused ($(oneline "$out"))" bash -c "[ $rc != 0 ] && grep -q \"'$P-r' exists\" <<<\"\$0\"" "$out"
"$PY" - "$ROOT/r.tar" "$ROOT/notmpl.tar" <<'EOF'
import io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "manifest.json":
            j = json.loads(data); j["template"] = "snap20-nosuch"; data = json.dumps(j).encode(); m.size = len(data)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
EOF
out=$(ctlb import "$ROOT/notmpl.tar" --name "$P-t" 2>&1); rc=$?
check "an archive over a missing template is refused, naming it ($(oneline "$out"))" \
  bash -c "[ $rc != 0 ] && grep -q \"template 'snap20-nosuch'\" <<<\"\$0\"" "$out"
check "the refused import left nothing behind" nothing_of "$P-t"
out=$(ctlb import "$ROOT/r.tar" --name 'bad/name' 2>&1); rc=$?
check "import --name with an invalid name is refused" test $rc != 0

D=$B DPID=$DB; daemon_stop; D=$A DPID=$DA; daemon_stop
check "both berthds stop" test -z "$(procs_with "$ROOT/")"
daemon_finish ""
exit $fail
