# shellcheck shell=bash disable=SC2034,SC2153 # variables set for the benches
# Helpers the benches share, sourced first thing as
#   . "$(dirname "$0")/lib.sh"
# and never run on its own (bench/run.sh skips it). Sourcing it defines
# functions and sets here (bench/) and repo; it creates nothing and starts
# nothing. The Python side (the sd_notify listener, the process lookup,
# berthctl and schedstat for a bench's own helpers) is bench/benchlib.py.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000)) | awk '{ printf "%.1f", $1 / 1000 }'; }
# cpu_ns PID: the CPU time its main thread has run (schedstat), ns
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }

bench_need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# bench_need_build: BERTHD and CTL of $BUILD, which must hold berthd,
# berthctl, berth-monitor and berth-init
bench_need_build() {
  BERTHD=$BUILD/berthd
  CTL=$BUILD/berthctl
  local f
  for f in "$BERTHD" "$CTL" "$BUILD/berth-monitor" "$BUILD/berth-init"; do [ -x "$f" ] || die "no $f (run make all)"; done
}

# bench_need_py_jq: PY (python3), and jq
bench_need_py_jq() {
  PY=$(command -v python3) || die "needs python3"
  command -v jq >/dev/null || die "needs jq"
}

# ---- one private berthd below one temporary directory -------------------------------------
# bench_workdir NAME: W (mktemp -d /tmp/berth-NAME.XXXXXX), D=$W/d; no
# berthd (DPID) and no helper processes (HPIDS) yet. P, the prefix of the
# bench's container names (and so of their cgroups), is the bench's.
bench_workdir() {
  W=$(mktemp -d "/tmp/berth-$1.XXXXXX")
  D=$W/d
  DPID=
  HPIDS=()
}

# h FUNCTION ARGS...: runs the bench's own Python helpers, $W/h.py (which
# may import benchlib)
h() { PYTHONPATH=$here "$PY" "$W/h.py" "$@"; }

# berthd_stop: SIGTERM to $DPID, SIGKILL BENCH_STOP_S (300) s later;
# stop_ms: how long it took
stop_ms=
berthd_stop() {
  [ -n "$DPID" ] || return 0
  local t0 i secs=${BENCH_STOP_S:-300}
  t0=$(now_ns)
  kill -TERM "$DPID" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do alive "$DPID" || break; sleep 0.1; done
  if alive "$DPID"; then
    say "berthd $DPID still running $secs s after SIGTERM: SIGKILL"
    kill -KILL "$DPID" 2>/dev/null || true
  fi
  wait "$DPID" 2>/dev/null || true
  stop_ms=$(ms_since "$t0")
  DPID=
}

# Our cgroups: "<hierarchy><our path>/berth/$P-*" in every hierarchy.
our_cgroups() {
  local hid ctrls path mp
  while IFS=: read -r hid ctrls path; do
    case $ctrls in name=*) continue ;; esac
    if [ "$hid" = 0 ]; then
      mp=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
    else
      mp=$(awk -v c="$ctrls" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
    fi
    [ -n "$mp" ] && [ -d "$mp${path%/}/berth" ] && find "$mp${path%/}/berth" -maxdepth 1 -mindepth 1 -type d -name "$P-*"
  done </proc/self/cgroup
  return 0
}

# bench_cleanup (the EXIT trap bench_traps sets): the helpers killed,
# berthd stopped, what is left killed (processes whose argv holds $W/, then
# a container's init, found by its cgroup), our cgroups, the mounts below
# $W and $W removed.
bench_cleanup() {
  set +e
  trap - EXIT INT TERM
  local p n c
  for p in "${HPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  berthd_stop
  for n in 1 2; do
    for p in $("$PY" "$here/benchlib.py" procs_with "$W/"); do kill -KILL "$p" 2>/dev/null; done
    sleep 0.5
  done
  # A container's init carries no path of ours in its argv: found by its cgroup.
  for c in $(our_cgroups); do
    [ -f "$c/cgroup.procs" ] && for p in $(<"$c/cgroup.procs"); do kill -KILL "$p" 2>/dev/null; done
  done
  sleep 0.5
  our_cgroups | xargs -r rmdir 2>/dev/null
  findmnt -rn -o TARGET | grep "^$W/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$W"
}
bench_traps() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_dirs: $D's conf/, run/ and state/; BERTH_SOCKET, BERTH_TEMPLATES
# (unless set) and CTL exported for berthctl and the helpers
bench_dirs() {
  export BERTH_TEMPLATES=${BERTH_TEMPLATES:-$repo/templates}
  export CTL
  mkdir -p "$D/conf" "$D/run" "$D/state"
  export BERTH_SOCKET=$D/run/control.sock
}

# bench_template BERTHCTL STATE: the busybox template built into STATE
# (its log in $W/template.log, shown when the build fails: then 1)
bench_template() {
  "$1" template --state-dir "$2" build busybox >"$W/template.log" 2>&1 || { cat "$W/template.log" >&2; return 1; }
}

# bench_notify_listen SOCKET OUT SECONDS: an sd_notify listener on SOCKET
# (one "NS LINE" a line into OUT, which starts empty; it ends after SECONDS
# without a message), in HPIDS; returns once SOCKET exists
bench_notify_listen() {
  rm -f "$1"
  : >"$2"
  "${PY:-python3}" "$here/benchlib.py" listen "$1" "$2" "$3" &
  HPIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do [ -S "$1" ] && break; sleep 0.05; done
  [ -S "$1" ] || die "notify listener did not start"
}

# ---- benches of libberth (bench/NAME.c) ---------------------------------------------------
# bench_cc BUILD NAME: BUILD/bench/NAME, from bench/NAME.c against
# BUILD/libberth.a (made first); run from the checkout's top. With BUILD
# build-asan it is a correctness run: its times are not meaningful.
bench_cc() {
  local build=$1 name=$2 san=
  if [ "$build" = build-asan ]; then
    make -s SANITIZE=1 "$build/libberth.a"
    san="-fsanitize=address,undefined"
  else
    make -s BUILD="$build" "$build/libberth.a"
  fi
  local pkgs="libconfuse libcap libseccomp libsystemd libnl-route-3.0 libnl-3.0 libnftables json-c"
  mkdir -p "$build/bench"
  # shellcheck disable=SC2046,SC2086
  cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 $san -Ilib $(pkg-config --cflags $pkgs) \
    "bench/$name.c" -o "$build/bench/$name" "$build/libberth.a" $(pkg-config --libs $pkgs)
}
