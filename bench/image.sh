#!/bin/bash
# Images as templates: the import of a ~500 MB OCI image (made here with
# umoci from generated files, five layers) by `berthctl template import`,
# next to `podman load` of the same image when podman is installed; then
# the start of a container (`berthctl run` of /bin/true) on that five-layer
# image against one on a single-layer template holding the same files
# (the image's tree imported as a directory), in alternating rounds.
# A benchmark, not a test: it judges nothing. See bench/README.md.
#   image.sh BUILD      BUILD holds berthctl (absolute path)
set -euo pipefail

BUILD=${1:?usage: image.sh BUILD}
MB=${BENCH_IMAGE_MB:-500}       # size of the generated files, all layers
IMPORTS=${BENCH_IMPORTS:-3}     # imports timed (each into an empty store)
ROUNDS=${BENCH_ROUNDS:-5}       # start rounds, the order alternating
RUNS=${BENCH_RUNS:-10}          # starts of each per round
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RESULTS=${BENCH_RESULTS:-$here/results}
berthctl=$BUILD/berthctl

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$berthctl" ] || die "no $berthctl (run make all)"
command -v umoci >/dev/null && command -v skopeo >/dev/null || die "needs umoci and skopeo (tests/deps.sh)"
for v in "$MB" "$IMPORTS" "$ROUNDS" "$RUNS"; do [[ $v =~ ^[1-9][0-9]*$ ]] || die "sizes and counts must be numbers >= 1"; done

W=$(mktemp -d /tmp/berth-bench-image.XXXXXX)
cleanup() {
  set +e
  grep -F " $W/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

# ---- the image: busybox, then four layers of generated files -------------------------------
say "making a ${MB} MB image with umoci in $W"
L=$W/layout
umoci init --layout "$L" >/dev/null
umoci new --image "$L:img" >/dev/null
umoci unpack --image "$L:img" "$W/u" >/dev/null
mkdir -p "$W/u/rootfs/bin"
cp /bin/busybox "$W/u/rootfs/bin/busybox"
for x in sh true sleep; do ln -s busybox "$W/u/rootfs/bin/$x"; done
umoci repack --image "$L:img" "$W/u" >/dev/null
per=$((MB / 4))
for l in 1 2 3 4; do
  umoci unpack --image "$L:img" "$W/u$l" >/dev/null
  mkdir -p "$W/u$l/rootfs/data/l$l"
  # Files of 1 MB, half random (incompressible), half zeros.
  for ((i = 0; i < per; i++)); do
    { head -c 524288 /dev/urandom; head -c 524288 /dev/zero; } > "$W/u$l/rootfs/data/l$l/f$i"
  done
  umoci repack --image "$L:img" "$W/u$l" >/dev/null
  rm -rf "$W/u$l"
done
umoci config --image "$L:img" --config.cmd /bin/true >/dev/null
skopeo copy -q "oci:$L:img" "oci-archive:$W/img.tar"
skopeo copy -q "oci:$L:img" "docker-archive:$W/img-docker.tar:bench/img:latest"
archive_bytes=$(stat -c %s "$W/img.tar")
# The flattened tree, for the single-layer template.
umoci unpack --image "$L:img" "$W/flat" >/dev/null
tree_bytes=$(du -sb "$W/flat/rootfs" | cut -f1)
say "image: 5 layers, $((tree_bytes / 1048576)) MB unpacked, $((archive_bytes / 1048576)) MB archive"

# ---- import ----------------------------------------------------------------------------------
S=$W/state
imports=()
for ((i = 0; i < IMPORTS; i++)); do
  rm -rf "$S"
  sync
  t0=$(now)
  "$berthctl" template --state-dir "$S" -c "$W/noconf" import img "oci-archive:$W/img.tar" >/dev/null
  sync
  t1=$(now)
  imports+=("$(ms "$t0" "$t1")")
done
say "berthctl template import: ${imports[*]} ms"
podman_ms=() podman_note="podman is not installed"
if command -v podman >/dev/null; then
  podman_note="podman $(podman --version | awk '{ print $3 }'), storage driver overlay, --root in the same file system"
  for ((i = 0; i < IMPORTS; i++)); do
    rm -rf "$W/podman"
    sync
    t0=$(now)
    podman --root "$W/podman/root" --runroot "$W/podman/run" --storage-driver overlay load -q -i "$W/img-docker.tar" >/dev/null
    sync
    t1=$(now)
    podman_ms+=("$(ms "$t0" "$t1")")
  done
  podman --root "$W/podman/root" --runroot "$W/podman/run" --storage-driver overlay system reset -f >/dev/null 2>&1 || true
  say "podman load: ${podman_ms[*]} ms"
fi

# ---- start: the 5-layer image against a single-layer template ----------------------------------
"$berthctl" template --state-dir "$S" -c "$W/noconf" import flat "$W/flat/rootfs" >/dev/null
mkdir -p "$W/c/img" "$W/c/flat" "$W/run"
printf 'template img { from = "oci-archive:%s" }\ncontainer bimg { template = "img"  command = { "/bin/true" } }\n' "$W/img.tar" > "$W/c/img/c.conf"
printf 'container bflat { template = "flat"  command = { "/bin/true" } }\n' > "$W/c/flat/c.conf"
start_once() { # start_once WHICH NAME: one run, its ms on stdout
  local t0 t1
  t0=$(now)
  "$berthctl" run --no-tty -c "$W/c/$1" --state-dir "$S" "$2" >/dev/null 2>"$W/run.err" </dev/null ||
    die "berthctl run $2 failed: $(cat "$W/run.err")"
  t1=$(now)
  ms "$t0" "$t1"
}
start_once img bimg >/dev/null # warm-up: page cache, seccomp cache
start_once flat bflat >/dev/null
img_ms=() flat_ms=()
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < RUNS; k++)); do
    if (((r + k) % 2)); then
      img_ms+=("$(start_once img bimg)"); flat_ms+=("$(start_once flat bflat)")
    else
      flat_ms+=("$(start_once flat bflat)"); img_ms+=("$(start_once img bimg)")
    fi
  done
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mi=$(median "${imports[@]}")
m5=$(median "${img_ms[@]}")
m1=$(median "${flat_ms[@]}")
ratio=$(awk -v a="$m5" -v b="$m1" 'BEGIN { printf "%.3f", a / b }')
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "import of a $((tree_bytes / 1048576)) MB 5-layer image: median ${mi} ms (${imports[*]})"
[ ${#podman_ms[@]} -gt 0 ] && echo "podman load of the same image: median $(median "${podman_ms[@]}") ms (${podman_ms[*]})"
echo "start (berthctl run /bin/true): 5-layer image median ${m5} ms, single-layer template median ${m1} ms, ratio ${ratio}"
echo "load average: $load"

mkdir -p "$RESULTS"
stamp=$(date -u +%Y-%m-%dT%H%M%S)
rev=${BENCH_BERTH_REV:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}
out=$RESULTS/image-$stamp-$rev.json
jq_arr() { printf '%s\n' "$@" | awk 'BEGIN { printf "[" } { printf "%s%s", (NR > 1 ? "," : ""), $1 } END { printf "]" }'; }
cat > "$out" <<EOF
{
  "bench": "image",
  "date": "$(date -u +%FT%TZ)",
  "berth": "$rev",
  "machine": { "cpus": $(nproc), "kernel": "$(uname -r)", "load_average": "$load" },
  "image": { "layers": 5, "unpacked_bytes": $tree_bytes, "archive_bytes": $archive_bytes },
  "import_ms": $(jq_arr "${imports[@]}"),
  "import_median_ms": $mi,
  "podman": "$podman_note",
  "podman_load_ms": $( [ ${#podman_ms[@]} -gt 0 ] && jq_arr "${podman_ms[@]}" || echo null),
  "start_5_layers_ms": $(jq_arr "${img_ms[@]}"),
  "start_1_layer_ms": $(jq_arr "${flat_ms[@]}"),
  "start_5_layers_median_ms": $m5,
  "start_1_layer_median_ms": $m1,
  "start_ratio": $ratio
}
EOF
say "results in $out"
