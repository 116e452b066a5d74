#!/bin/bash
# Snapshots, clones, export and import of a container with a large writable
# layer (issue 20), side by side in one run with what an operator does by
# hand on the same tree (cp -a, tar | zstd, zstd -d | tar). A benchmark, not
# a test: it judges nothing. See bench/README.md.
#   snapshot.sh BUILD    BUILD holds berthd, berthctl, berth-monitor, berth-init
# Settings: BENCH_SNAP_MB (size of the layer, 1024), BENCH_SNAP_ROUNDS (3),
# BENCH_SNAP_FS ("auto": the state directory's file system, plus an XFS
# with reflink on a loop file when mkfs.xfs and loop devices are there;
# "host": only the former).
# The layer is BENCH_SNAP_MB of random data in 64 MiB files plus 2,000
# small files, written from inside the running container. The container
# runs (frozen for the instant of the copy) during snapshot; it is stopped
# for export, as an operator would before a backup they want consistent
# without a freeze.
# Everything lives below one mktemp -d; the EXIT trap stops berthd,
# unmounts the loop file system and removes the directory.
set -euo pipefail

BUILD=${1:?usage: snapshot.sh BUILD}
MB=${BENCH_SNAP_MB:-1024}
ROUNDS=${BENCH_SNAP_ROUNDS:-3}
FSMODE=${BENCH_SNAP_FS:-auto}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RESULTS=${BENCH_RESULTS:-$here/results}
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root"
for f in "$BERTHD" "$CTL" "$BUILD/berth-monitor" "$BUILD/berth-init"; do [ -x "$f" ] || die "no $f (run make all)"; done
[[ $MB =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ ]] || die "BENCH_SNAP_MB and BENCH_SNAP_ROUNDS must be numbers"
((MB >= 64 && MB <= 16384 && ROUNDS >= 1 && ROUNDS <= 10)) || die "BENCH_SNAP_MB: 64..16384, BENCH_SNAP_ROUNDS: 1..10"
case $FSMODE in auto | host) ;; *) die "BENCH_SNAP_FS: auto or host" ;; esac
need=()
command -v jq >/dev/null || need+=(jq)
command -v zstd >/dev/null || need+=(zstd)
[ "$FSMODE" = host ] || command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || say "cannot install ${need[*]}"
fi
command -v jq >/dev/null && command -v zstd >/dev/null || die "needs jq and zstd"

P=bsn$$
W=$(mktemp -d /tmp/berth-snap.XXXXXX)
DPID= LOOPMNT=
ctl() { BERTH_SOCKET=$D/run/control.sock timeout 900 "$CTL" "$@"; }
stop_daemon() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DPID" 2>/dev/null || true
  wait "$DPID" 2>/dev/null || true
  DPID=
}
cleanup() {
  trap - EXIT INT TERM
  stop_daemon
  [ -z "$LOOPMNT" ] || umount -l "$LOOPMNT" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | awk '{printf "%.3f", $1}'; }
command -v bc >/dev/null || since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }

# one_fs LABEL DIR: a berthd with its state in DIR, the measurements as JSON lines
one_fs() {
  local label=$1 base=$2
  D=$base/d
  mkdir -p "$D/conf" "$D/run" "$D/state"
  local S=$D/state
  cat >"$D/conf/$P.conf" <<EOF
container $P {
    template = "busybox"
    autostart = true
    command = { "/bin/sleep", "1000000" }
    network { mode = "none" }
}
EOF
  BERTH_TEMPLATES=$repo/templates timeout 300 "$CTL" template build --state-dir "$S" busybox >/dev/null 2>&1 || true
  "$BERTHD" -c "$D/conf" --state-dir "$S" --run-dir "$D/run" >"$base/berthd.log" 2>&1 &
  DPID=$!
  for _ in $(seq 1 600); do
    [ "$(ctl inspect "$P" 2>/dev/null | jq -r .state 2>/dev/null)" = running ] && break
    kill -0 "$DPID" 2>/dev/null || die "berthd exited: $(tail -n 5 "$base/berthd.log")"
    sleep 0.1
  done
  [ "$(ctl inspect "$P" | jq -r .state)" = running ] || die "the container did not start ($label)"
  say "$label: writing $MB MiB into the container's layer"
  ctl exec "$P" -- sh -c "mkdir -p /data/small && i=0; while [ \$i -lt $((MB / 64)) ]; do
      dd if=/dev/urandom of=/data/big\$i bs=1M count=64 2>/dev/null; i=\$((i + 1)); done
    i=0; while [ \$i -lt 2000 ]; do echo file-\$i > /data/small/f\$i; i=\$((i + 1)); done; sync" ||
    die "cannot write the layer"
  local upper=$S/containers/$P/upper bytes
  bytes=$(du -sb "$upper" | cut -f1)
  local t
  for ((r = 1; r <= ROUNDS; r++)); do
    say "$label: round $r/$ROUNDS"
    sync; t=$(now); out=$(ctl snapshot "$P" "s$r" 2>&1) || die "snapshot: $out"
    local snap=$(since "$t") method
    method=$(grep -oE 'method [a-z]+' <<<"$out" | head -n1 | cut -d' ' -f2)
    sync; t=$(now); cp -a --reflink=auto "$upper" "$base/cp$r"; sync; local cpa=$(since "$t")
    rm -rf "$base/cp$r"
    t=$(now); out=$(ctl clone "$P" "$P-c$r" 2>&1) || die "clone: $out"
    local clone=$(since "$t")
    ctl stop "$P" >/dev/null 2>&1 || die "stop"
    sync; t=$(now); out=$(ctl export "$P" -o "$base/e$r.tar.zst" 2>&1) || die "export: $out"
    local export=$(since "$t") esize
    esize=$(stat -c %s "$base/e$r.tar.zst")
    sync; t=$(now); tar -C "$upper" -cf - . | zstd -q -T1 -o "$base/t$r.tar.zst"; sync; local tarz=$(since "$t")
    t=$(now); out=$(ctl import "$base/e$r.tar.zst" --name "$P-i$r" 2>&1) || die "import: $out"
    local import=$(since "$t")
    mkdir -p "$base/u$r"
    t=$(now); zstd -q -d -c "$base/t$r.tar.zst" | tar -C "$base/u$r" -xf -; sync; local untar=$(since "$t")
    rm -rf "$base/u$r" "$base/e$r.tar.zst" "$base/t$r.tar.zst"
    # the clone and the import go (definition gone, then destroy), so the
    # file system holds one round's copies at a time
    rm -f "$D/conf/$P-c$r.conf" "$D/conf/$P-i$r.conf"
    ctl reload >/dev/null 2>&1 || true
    ctl destroy "$P-c$r" >/dev/null 2>&1 || true
    ctl destroy "$P-i$r" >/dev/null 2>&1 || true
    rm -rf "$S/containers/$P-c$r" "$S/containers/$P-i$r"
    ctl start "$P" >/dev/null 2>&1 || true
    jq -cn --arg fs "$label" --argjson r "$r" --argjson bytes "$bytes" --arg method "${method:-?}" \
      --argjson snapshot "$snap" --argjson cp "$cpa" --argjson clone "$clone" --argjson exp "$export" \
      --argjson export_bytes "$esize" --argjson tar_zstd "$tarz" --argjson imp "$import" --argjson untar "$untar" \
      '{fs: $fs, round: $r, layer_bytes: $bytes, snapshot_method: $method, snapshot_s: $snapshot, cp_a_s: $cp,
        clone_s: $clone, export_s: $exp, export_bytes: $export_bytes, tar_zstd_s: $tar_zstd, import_s: $imp,
        untar_s: $untar}' >>"$W/runs.jsonl"
    ctl snapshot rm "$P" "s$r" >/dev/null 2>&1 || true
  done
  stop_daemon
}

: >"$W/runs.jsonl"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
one_fs "$(findmnt -no FSTYPE -T "$W" | head -n1)" "$W/host"
if [ "$FSMODE" = auto ] && command -v mkfs.xfs >/dev/null && [ -e /dev/loop-control ]; then
  sz=$((MB * 4 + 2048))
  truncate -s "${sz}M" "$W/xfs.img"
  if mkfs.xfs -q -m reflink=1 "$W/xfs.img" && mkdir -p "$W/xfs" && mount -o loop "$W/xfs.img" "$W/xfs"; then
    LOOPMNT=$W/xfs
    one_fs "xfs-reflink(loop)" "$W/xfs"
  else
    say "no XFS with reflink here: measured on the host file system only"
  fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$RESULTS"
out=$RESULTS/snapshot-$(date -u +%FT%H%M%S).json
jq -s --arg load_before "$load_before" --arg load_after "$load_after" --argjson mb "$MB" \
  --arg commit "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" --arg kernel "$(uname -r)" '
  def med: sort | .[(length / 2 | floor)];
  { machine: { kernel: $kernel, loadavg_before: $load_before, loadavg_after: $load_after }, berth_commit: $commit,
    method: { layer_mib: $mb, note: "random data in 64 MiB files + 2000 small files; medians over rounds" },
    summary: (group_by(.fs) | map({ fs: .[0].fs, snapshot_method: .[0].snapshot_method, layer_bytes: .[0].layer_bytes,
      snapshot_s: (map(.snapshot_s) | med), cp_a_s: (map(.cp_a_s) | med), clone_s: (map(.clone_s) | med),
      export_s: (map(.export_s) | med), tar_zstd_s: (map(.tar_zstd_s) | med),
      import_s: (map(.import_s) | med), untar_s: (map(.untar_s) | med) }
      | . + { snapshot_vs_cp: (.snapshot_s / .cp_a_s), export_vs_tar_zstd: (.export_s / .tar_zstd_s),
              import_vs_untar: (.import_s / .untar_s),
              export_mb_s: (.layer_bytes / 1048576 / .export_s), import_mb_s: (.layer_bytes / 1048576 / .import_s) })),
    runs: . }' "$W/runs.jsonl" >"$out"
jq -r '.summary[] | "\(.fs) (snapshot method \(.snapshot_method), layer \(.layer_bytes / 1048576 | floor) MiB):",
  "  snapshot \(.snapshot_s) s (cp -a \(.cp_a_s) s: \(.snapshot_vs_cp * 100 | round / 100)x), clone \(.clone_s) s",
  "  export \(.export_s) s = \(.export_mb_s | floor) MiB/s (tar|zstd \(.tar_zstd_s) s: \(.export_vs_tar_zstd * 100 | round / 100)x)",
  "  import \(.import_s) s = \(.import_mb_s | floor) MiB/s (zstd -d|tar \(.untar_s) s: \(.import_vs_untar * 100 | round / 100)x)"' "$out"
echo "load average $load_before before, $load_after after"
say "results: $out"
