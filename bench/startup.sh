#!/bin/bash
# Start-up latency of `berthctl run` of /bin/true in a busybox container
# against a bare unshare of the same namespaces, bwrap, crun, runc and
# lxc-execute on the same root file system, measured by hyperfine in
# alternating rounds; prints medians and ratios to crun. A benchmark, not
# a test: it judges nothing. See bench/README.md.
#   startup.sh BUILD      BUILD holds berthctl (absolute path)
# BENCH_BASE=DIR adds berth-base and berth-base-tmpfs: DIR/berthctl, another
# build (e.g. main's), in the same rounds, so that old and new are compared
# under the same load; BENCH_BASE_REV names its commit.
set -euo pipefail

BUILD=${1:?usage: startup.sh BUILD}
ROUNDS=${BENCH_ROUNDS:-5}   # hyperfine invocations, the command order rotated each time
RUNS=${BENCH_RUNS:-20}      # timed runs per command per round
WARMUP=${BENCH_WARMUP:-3}   # untimed runs per command per round
BASE=${BENCH_BASE:-}        # another build's directory: berth-base rows
GAP_MS=${BENCH_GAP_MS:-0}   # idle time before each run: >= 100 measures isolated starts
                            # (no RCU grace period left over from the previous run)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RESULTS=${BENCH_RESULTS:-$here/results}
berthctl=$BUILD/berthctl

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$berthctl" ] || die "no $berthctl (run make all)"
[ -z "$BASE" ] || [ -x "$BASE/berthctl" ] || die "BENCH_BASE: no $BASE/berthctl"
for v in "$ROUNDS" "$RUNS" "$WARMUP" "$GAP_MS"; do
  [[ $v =~ ^[0-9]+$ ]] || die "BENCH_ROUNDS, BENCH_RUNS, BENCH_WARMUP and BENCH_GAP_MS must be numbers"
done
gap=()
((GAP_MS > 0)) && gap=(--prepare "sleep $((GAP_MS / 1000)).$(printf %03d $((GAP_MS % 1000)))")
((ROUNDS >= 1 && RUNS >= 2)) || die "need BENCH_ROUNDS >= 1 and BENCH_RUNS >= 2"

# ---- setup: the peers, from Debian packages, only when missing ------------
need=()
for p in hyperfine crun bubblewrap runc lxc jq util-linux busybox-static; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || need+=("$p")
done
if ((${#need[@]})); then
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
    die "apt-get install ${need[*]} failed"
fi

id=bbench$$
W=$(mktemp -d /tmp/berth-bench.XXXXXX)
: >"$W/cgroups" # "mountpoint<TAB>our path" of every hierarchy we are in
: >"$W/pivots"  # lxc.pivot cgroups that lxc creates and that did not exist before

cleanup() {
  set +e
  trap - EXIT INT TERM
  local wrap=()
  [ -e "$W/ns/crun" ] && wrap=(nsenter "--mount=$W/ns/crun")
  [ -d "$W/crun-state/$id-crun" ] && "${wrap[@]}" crun --root "$W/crun-state" delete -f "$id-crun" >/dev/null 2>&1
  [ -d "$W/runc-state/$id-runc" ] && runc --root "$W/runc-state" delete -f "$id-runc" >/dev/null 2>&1
  [ -d "$W/lxc/$id-lxc" ] && lxc-stop -k -n "$id-lxc" -P "$W/lxc" >/dev/null 2>&1
  [ -e "$W/ns/crun" ] && umount "$W/ns/crun"
  mountpoint -q "$W/ns" && umount "$W/ns"
  mountpoint -q "$W/rootfs" && umount "$W/rootfs"
  mountpoint -q "$W/tstate" && umount "$W/tstate"
  # Anything still mounted below our directory (an interrupted berth run).
  findmnt -rn -o TARGET | grep "^$W/" | sort -r | while read -r m; do umount -l "$m"; done
  local mp own n
  while IFS=$'\t' read -r mp own; do
    for n in "$id-crun" "$id-runc" "lxc.payload.$id-lxc" "lxc.monitor.$id-lxc"; do
      [ -d "$mp${own%/}/$n" ] && rmdir "$mp${own%/}/$n"
    done
  done <"$W/cgroups"
  while read -r n; do [ -d "$n" ] && rmdir "$n" 2>/dev/null; done <"$W/pivots"
  rm -rf "/run/lxc/lock$W"
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every cgroup hierarchy this process is in: "mountpoint<TAB>our path".
while IFS=: read -r hid ctrls path; do
  mp=
  if [ "$hid" = 0 ]; then
    mp=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
  else
    while read -r t o; do
      ok=1
      IFS=, read -ra cs <<<"$ctrls"
      for c in "${cs[@]}"; do [[ ,$o, == *,$c,* ]] || ok=0; done
      if ((ok)); then mp=$t; break; fi
    done < <(findmnt -rn -t cgroup -o TARGET,OPTIONS)
  fi
  if [ -n "$mp" ]; then printf '%s\t%s\n' "$mp" "$path" >>"$W/cgroups"; fi
done </proc/self/cgroup
while IFS=$'\t' read -r mp own; do
  if ! [ -d "$mp${own%/}/lxc.pivot" ]; then echo "$mp${own%/}/lxc.pivot" >>"$W/pivots"; fi
done <"$W/cgroups"

# ---- the root file system: the busybox template berth builds --------------
export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$repo/templates}
mkdir -p "$W/conf"
cat >"$W/conf/$id.conf" <<EOF
container $id {
    template = "busybox"
    command  = { "/bin/true" }
}
EOF
mkdir -p "$W/conf-idmap"
cat >"$W/conf-idmap/$id-idmap.conf" <<EOF
container $id-idmap {
    template = "busybox"
    command  = { "/bin/true" }
    idmap    = "2000000000:65536"
}
EOF
berth="$berthctl run --no-tty -c $W/conf --state-dir $W/state $id"
# The same in a user namespace (idmap): the overlay over the idmapped template.
berth_idmap="$berthctl run --no-tty -c $W/conf-idmap --state-dir $W/state $id-idmap"
say "building the busybox template with berthctl run"
$berth >"$W/berth-first.log" 2>&1 || { cat "$W/berth-first.log" >&2; die "berthctl run failed"; }
rootfs=$W/state/templates/busybox
[ -x "$rootfs/bin/busybox" ] || die "berthctl run built no template at $rootfs"

# What berth enforces in this build, read from the host while its
# container runs sleep: root file system type, seccomp mode, no_new_privs,
# effective capabilities, cgroups that differ from ours.
berth_confinement=unknown
$berth -- /bin/sleep 10 >"$W/berth-probe.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do
  # The workload is the container's PID 1 or, below berth's init, its child.
  kid=
  for p in $(cat /proc/$bpid/task/*/children 2>/dev/null); do
    for q in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      if [ "$(cat "/proc/$q/comm" 2>/dev/null)" = sleep ]; then kid=$q; fi
    done
  done
  if [ -n "$kid" ]; then
    st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$kid/status"; }
    rootfs_type=$(awk '$2 == "/" {t = $3} END {print t}' "/proc/$kid/mounts")
    cg=$(grep -vxF -f /proc/self/cgroup "/proc/$kid/cgroup" | cut -d: -f2- | tr '\n' ' ' || true)
    berth_confinement="root=$rootfs_type seccomp=$(st Seccomp) no_new_privs=$(st NoNewPrivs) cap_eff=$(st CapEff) cgroups=${cg:-none}"
    break
  fi
  sleep 0.05
done
kill "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true

# Diagnostic twin: the same berth with its state directory on a tmpfs,
# which shows what the disk (fsync, overlay sync, unlink) costs it.
mkdir "$W/tstate"
mount -t tmpfs -o size=64m,mode=0700 bbench "$W/tstate"
mkdir "$W/tstate/templates"
cp -a "$rootfs" "$W/tstate/templates/busybox"
berth_tmpfs="$berthctl run --no-tty -c $W/conf --state-dir $W/tstate $id"

# The peers see the same tree through a read-only bind: none can change it.
mkdir "$W/rootfs"
mount --bind "$rootfs" "$W/rootfs"
mount -o remount,bind,ro "$W/rootfs"

# crun 1.8 refuses hybrid hosts ("cgroups in hybrid mode not supported"):
# there it runs in a private mount namespace where the cgroup2 mount is
# replaced by an empty tmpfs and each v1 hierarchy by our own cgroup, so
# that its cgroups land below ours. The wrapper's own cost is measured.
crun_wrap=
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] && findmnt -rn -t cgroup2 /sys/fs/cgroup/unified >/dev/null; then
  mkdir "$W/ns"
  mount --bind "$W/ns" "$W/ns"
  mount --make-private "$W/ns"
  touch "$W/ns/crun"
  unshare --mount="$W/ns/crun" --propagation private true
  nsenter --mount="$W/ns/crun" umount /sys/fs/cgroup/unified
  nsenter --mount="$W/ns/crun" mount -t tmpfs -o size=64k,mode=0755 bbench /sys/fs/cgroup/unified
  while IFS=$'\t' read -r mp own; do
    if [ "$mp" != /sys/fs/cgroup/unified ] && [ "$own" != / ]; then
      nsenter --mount="$W/ns/crun" mount --bind "$mp$own" "$mp"
    fi
  done <"$W/cgroups"
  crun_wrap="nsenter --mount=$W/ns/crun"
fi

# OCI bundles from each runtime's own default spec, made to run /bin/true
# on the shared tree with berth's namespaces (mount pid uts ipc net cgroup).
for rt in crun runc; do
  mkdir "$W/$rt"
  (cd "$W/$rt" && $rt spec)
  jq --arg root "$W/rootfs" --arg host "$id" '
      .root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false
    | .hostname = $host
    | .linux.namespaces = [{type:"pid"},{type:"network"},{type:"ipc"},{type:"uts"},{type:"mount"},{type:"cgroup"}]' \
    "$W/$rt/config.json" >"$W/$rt/config.new"
  mv "$W/$rt/config.new" "$W/$rt/config.json"
done
jq --arg cg "/$id-crun" '.linux.cgroupsPath = $cg' "$W/crun/config.json" >"$W/crun/config.new"
mv "$W/crun/config.new" "$W/crun/config.json"

# lxc-execute: a container directory of our own, no network device,
# cgroups below ours (lxc.cgroup.relative).
mkdir -p "$W/lxc/$id-lxc"
cat >"$W/lxc/$id-lxc/config" <<EOF
lxc.uts.name = $id
lxc.rootfs.path = dir:$W/rootfs
lxc.rootfs.options = ro
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:ro
lxc.autodev = 1
lxc.cgroup.relative = 1
EOF

# ---- the commands ---------------------------------------------------------
names=(berth berth-tmpfs berth-idmap unshare bwrap crun runc lxc-execute)
cmds=(
  "$berth"
  "$berth_tmpfs"
  "$berth_idmap"
  "unshare --mount --uts --ipc --net --pid --cgroup --fork --root=$W/rootfs /bin/true"
  "bwrap --unshare-pid --unshare-net --unshare-uts --unshare-ipc --unshare-cgroup --ro-bind $W/rootfs / --proc /proc --dev /dev /bin/true"
  "${crun_wrap:+$crun_wrap }crun --root $W/crun-state run --bundle $W/crun $id-crun"
  "runc --root $W/runc-state run --bundle $W/runc $id-runc"
  "lxc-execute -n $id-lxc -P $W/lxc -- /bin/true"
)
if [ -n "$BASE" ]; then
  names+=(berth-base berth-base-tmpfs)
  cmds+=("${berth/#$berthctl/$BASE/berthctl}" "${berth_tmpfs/#$berthctl/$BASE/berthctl}")
fi
if [ -n "$crun_wrap" ]; then
  names+=(crun-wrapper)
  cmds+=("$crun_wrap $W/rootfs/bin/true")
fi

# One run each first: a peer that cannot run here is left out, with why.
keep_n=() keep_c=()
for i in "${!names[@]}"; do
  # shellcheck disable=SC2086 # the commands are word lists, as hyperfine -N splits them
  if ${cmds[$i]} </dev/null >"$W/check.log" 2>&1; then
    keep_n+=("${names[$i]}") keep_c+=("${cmds[$i]}")
  else
    rc=$?
    [[ ${names[$i]} = berth* ]] && { cat "$W/check.log" >&2; die "${names[$i]} failed (exit $rc)"; }
    say "leaving out ${names[$i]}: exit $rc: $(tail -n 3 "$W/check.log" | tr '\n' ' ')"
  fi
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring ${keep_n[*]}: $ROUNDS rounds x $RUNS runs (+$WARMUP warm-up) each"
n=${#keep_n[@]}
for ((r = 0; r < ROUNDS; r++)); do
  args=()
  for ((k = 0; k < n; k++)); do
    j=$(((k + r) % n))
    args+=(-n "${keep_n[$j]}" "${keep_c[$j]}")
  done
  hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" "${gap[@]}" \
    --export-json "$W/round$r.json" "${args[@]}" >>"$W/hyperfine.log" 2>&1 ||
    { tail -n 20 "$W/hyperfine.log" >&2; die "hyperfine failed in round $((r + 1))"; }
  say "round $((r + 1))/$ROUNDS done"
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# berth must leave nothing behind after all those runs.
leftover=$(ls -A "$W/state/containers" 2>/dev/null | tr '\n' ' ' || true)
[ -z "$leftover" ] || say "warning: berth left container directories behind: $leftover"
leftover=$(ls -A "$W/tstate/containers" 2>/dev/null | tr '\n' ' ' || true)
[ -z "$leftover" ] || say "warning: berth (tmpfs state) left container directories behind: $leftover"
findmnt -rn -o TARGET | grep -q "^$W/t\?state/" && say "warning: berth left mounts below its state directory"

# ---- statistics -----------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
ver() { "$@" 2>/dev/null | head -n1 || true; }
commit=${BENCH_BERTH_REV:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}
jq -s \
  --arg date "$(date -u +%FT%TZ)" --arg host "$(hostname)" --arg cpu "$cpu" --arg cores "$(nproc)" \
  --arg kernel "$(uname -r)" --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" \
  --arg load_before "$load_before" --arg load_after "$load_after" \
  --arg commit "$commit" --arg base_commit "${BENCH_BASE_REV:-${BASE:+unknown}}" --arg confinement "$berth_confinement" \
  --arg cgmode "$(if [ -n "$crun_wrap" ]; then echo hybrid; else stat -f -c %T /sys/fs/cgroup; fi)" \
  --argjson rounds "$ROUNDS" --argjson runs "$RUNS" --argjson warmup "$WARMUP" --argjson gap_ms "$GAP_MS" \
  --arg v_crun "$(ver crun --version)" --arg v_runc "$(ver runc --version)" \
  --arg v_bwrap "$(ver bwrap --version)" --arg v_lxc "$(ver lxc-execute --version)" \
  --arg v_unshare "$(ver unshare --version)" --arg v_hyperfine "$(ver hyperfine --version)" '
  def q($p): . as $t | ($t | length - 1) * $p | . as $x | ($x | floor) as $i
    | if $i + 1 < ($t | length) then $t[$i] + ($t[$i + 1] - $t[$i]) * ($x - $i) else $t[$i] end;
  [ .[].results[] ] | group_by(.command)
  | map({ name: .[0].command, t: (map(.times) | add | sort) })
  | map({ name, n: (.t | length), median_ms: (.t | q(0.5) * 1000), p25_ms: (.t | q(0.25) * 1000),
          p75_ms: (.t | q(0.75) * 1000), min_ms: (.t[0] * 1000) }) as $r
  | ($r | map({ (.name): .median_ms }) | add) as $m
  | (if $m["crun-wrapper"] then $m.crun - $m["crun-wrapper"] else $m.crun end) as $crun
  | { date: $date, machine: { host: $host, cpu: $cpu, cores: ($cores | tonumber), kernel: $kernel, os: $os,
                              cgroups: $cgmode, loadavg_before: $load_before, loadavg_after: $load_after },
      berth_commit: $commit, berth_confinement: $confinement,
      base_commit: (if $base_commit == "" then null else $base_commit end),
      base_vs_berth: (if $m["berth-base"] and $m.berth then $m.berth / $m["berth-base"] else null end),
      method: { rounds: $rounds, runs_per_round: $runs, warmup_per_round: $warmup, gap_ms: $gap_ms },
      versions: { crun: $v_crun, runc: $v_runc, bwrap: $v_bwrap, lxc: $v_lxc, unshare: $v_unshare,
                  hyperfine: $v_hyperfine },
      crun_reference_ms: $crun,
      idmap_vs_plain: (if $m["berth-idmap"] and $m.berth then $m["berth-idmap"] / $m.berth else null end),
      results: ($r | map(. + { ratio_crun: (if $crun then .median_ms / $crun else null end),
                               ratio_berth: (if $m.berth then .median_ms / $m.berth else null end),
                               ratio_unshare: (if $m.unshare then .median_ms / $m.unshare else null end) })
                   | sort_by(.median_ms)) }' \
  "$W"/round*.json >"$W/summary.json"

mkdir -p "$RESULTS"
out=$RESULTS/startup-$(date -u +%F).json
# A second run on the same day keeps the first: the time goes into the name.
[ -e "$out" ] && out=$RESULTS/startup-$(date -u +%FT%H%M%S).json
cp "$W/summary.json" "$out"
[ -n "${BENCH_RAW:-}" ] && jq -s . "$W"/round*.json >"$BENCH_RAW"

jq -r '
  "berth start-up of /bin/true, \(.machine.cpu), \(.machine.cores) cores, kernel \(.machine.kernel), \(.date)",
  "berth \(.berth_commit): \(.berth_confinement)",
  "\(.method.rounds) rounds x \(.method.runs_per_round) runs per command\(if (.method.gap_ms // 0) > 0 then ", \(.method.gap_ms) ms idle before each (isolated starts)" else "" end), order rotated each round; load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after", ""' "$out"
jq -r '
  def r2: . * 100 | round / 100 | tostring;
  (["peer", "median_ms", "p25-p75_ms", "min_ms", "vs_crun", "vs_unshare"] | @tsv),
  (.results[] | [ .name, (.median_ms | r2), "\(.p25_ms | r2)-\(.p75_ms | r2)", (.min_ms | r2),
                  (if .name == "crun-wrapper" then "-" else (.ratio_crun | r2) end),
                  (if .name == "crun-wrapper" then "-" else (.ratio_unshare | r2) end) ] | @tsv)' "$out" |
  column -t -s $'\t'
# The idmap row: the same container in a user namespace of its own, next to
# the plain one of the same rounds (issue 18's target: at most 1.2 x).
jq -r 'if .base_vs_berth then "", "berth (\(.berth_commit)) median / berth-base (\(.base_commit)) median = \(.base_vs_berth * 100 | round / 100)" else empty end' "$out"
jq -r 'if .idmap_vs_plain then "", "idmap: berth-idmap median / berth median = \(.idmap_vs_plain * 100 | round / 100) (target <= 1.2)" else empty end' "$out"
jq -r '"", "crun reference for the ratios: \(.crun_reference_ms * 100 | round / 100) ms\(
     if (.results | map(.name) | index("crun-wrapper")) then " (crun median minus its hybrid-host nsenter wrapper)" else "" end)"' "$out"
echo "results: $out"
