# shellcheck shell=bash disable=SC2034,SC2154 # variables set for and by the suites
# Helpers shared by the integration suites, sourced first thing by each as
#   . "$(dirname "$0")/lib.sh"
# and never run on its own (tests/run-all.sh runs only test_*.sh). It owns
# the ok/not ok reporting, bounded waits, process lookups, the private-berthd
# layer of test_daemon.sh and test_health.sh and the `berthctl run` layer of
# the runtime suites. Sourcing it creates nothing and starts nothing.

# ---- where things are ---------------------------------------------------------------------
# REPO: the checkout; BUILD: the build directory under test ($BERTH_BUILD,
# which tests/run-all.sh sets, else REPO/build).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BERTH_BUILD:-$REPO/build}

# BERTH_TEST_IDMAP=auto (tests/run-all.sh's idmap lane; or HOSTID:COUNT):
# every container whose definition sets no idmap runs with that one. The
# private berthds get --default-idmap; `berthctl run` and whatever else
# reads definitions get $BERTH_DEFAULT_IDMAP. The pool is the suite's own
# block of ids (not the default one other suites and helpers use).
if [ -n "${BERTH_TEST_IDMAP:-}" ]; then
  export BERTH_DEFAULT_IDMAP=$BERTH_TEST_IDMAP
  export BERTH_IDMAP_POOL=${BERTH_IDMAP_POOL:-3000000000:13107200}
fi
# idmapped: the suite runs with a default idmap (host ids of files differ)
idmapped() { [ -n "${BERTH_DEFAULT_IDMAP:-}" ] && [ "$BERTH_DEFAULT_IDMAP" != none ]; }

# ---- reporting --------------------------------------------------------------------------
# One line per check, "ok OK_PREFIX DESCRIPTION" or "not ok ...". A suite sets
# OK_PREFIX after sourcing ("exec: " gives "ok exec: ...") and ends with
# `exit $fail`.

OK_PREFIX=''
fail=0
ok() { echo "ok ${OK_PREFIX}$*"; }
nok() { echo "not ok ${OK_PREFIX}$*"; fail=1; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local _ck_d=$1; shift; if "$@"; then ok "$_ck_d"; else nok "$_ck_d"; fi; }
note() { echo "# $*"; }
# oneline TEXT: TEXT on one line, at most 400 bytes (for not ok details)
oneline() { printf '%s' "$1" | tr '\n' ' ' | head -c 400; }

# ---- processes --------------------------------------------------------------------------

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# PIDs of processes whose argv contains $1 (python: one pass over /proc).
procs_with() {
  "$PY" - "$1" <<'EOF'
import os, sys
me, pat = os.getpid(), sys.argv[1].encode()
for p in os.listdir('/proc'):
    if not p.isdigit() or int(p) == me:
        continue
    try:
        c = open('/proc/%s/cmdline' % p, 'rb').read()
    except OSError:
        continue
    if pat in c:
        print(p)
EOF
}

# alive PID: it exists and is no zombie (a child not yet waited for)
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# wait_until SECONDS COMMAND...: polls every 0.1 s, at most SECONDS*10 times
wait_until() {
  local _wu_n=$(($1 * 10)) _wu_i; shift
  for ((_wu_i = 0; _wu_i < _wu_n; _wu_i++)); do "$@" && return 0; sleep 0.1; done
  "$@"
}

# stop_pids PID...: SIGTERM to all, then for each at most 5 s until it is
# gone, SIGKILL and wait (for the suite's own background children).
stop_pids() {
  local p i
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  for p in "$@"; do
    for ((i = 0; i < 50; i++)); do alive "$p" || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
}

# ---- one private berthd per check ---------------------------------------------------------
# The suite sets, after sourcing:
#   BERTHD, CTL     the binaries
#   ROOT            its mktemp -d; every daemon's directory $D is below it
#   P               prefix of its container names (their cgroups are named so)
# and may change:
#   STATE_DIR       one state directory for every daemon ('' = $D/state each)
#   SHARED_MODE     mode given to $D/shared ('' = as mkdir made it)
#   START_TIMEOUT   seconds until a new berthd must answer (20)
#   STOP_TIMEOUT    seconds berthd gets after SIGTERM, before SIGKILL (30)
# It may define cleanup_extra, run by daemon_cleanup for what else it made.

STATE_DIR='' SHARED_MODE='' START_TIMEOUT=20 STOP_TIMEOUT=30
DPIDS=()   # every berthd started
HPIDS=()   # the suite's helper processes, killed first by daemon_cleanup
D='' DPID=''

# env_new TAG: a fresh $D with conf/ run/ shared/ (and state/)
env_new() {
  D=$ROOT/$1
  mkdir -p "$D/conf" "$D/run" "$D/shared"
  [ -n "$STATE_DIR" ] || mkdir -p "$D/state"
  [ -z "$SHARED_MODE" ] || chmod "$SHARED_MODE" "$D/shared"
  # Bound into containers to write to: in a user namespace their root is
  # not the host's, so root's 0755 would be read-only to them.
  [ -n "$SHARED_MODE" ] || ! idmapped || chmod 0777 "$D/shared"
  DPID=
}

ctl() { BERTH_SOCKET=$D/run/control.sock timeout 30 "$CTL" "$@"; }

daemon_up() { ctl ls >/dev/null 2>&1; }

# daemon_start [env VAR=VALUE...]: berthd on $D; waits until it answers
daemon_start() {
  "$@" "$BERTHD" -c "$D/conf" --state-dir "${STATE_DIR:-$D/state}" --run-dir "$D/run" \
    ${BERTH_DEFAULT_IDMAP:+--default-idmap "$BERTH_DEFAULT_IDMAP"} >>"$D/berthd.log" 2>&1 &
  DPID=$!
  DPIDS+=("$DPID")
  wait_until "$START_TIMEOUT" daemon_up
}

# daemon_stop: SIGTERM, at most STOP_TIMEOUT s, then SIGKILL. Returns berthd's status.
daemon_stop() {
  [ -n "$DPID" ] || return 0
  kill -TERM "$DPID" 2>/dev/null
  local i
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do alive "$DPID" || break; sleep 0.1; done
  alive "$DPID" && { note "berthd $DPID ignored SIGTERM for $STOP_TIMEOUT s"; kill -KILL "$DPID" 2>/dev/null; }
  wait "$DPID" 2>/dev/null; local rc=$?
  DPID=
  return $rc
}

daemon_kill9() {
  kill -KILL "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  DPID=
}

# nothing of $D runs any more (monitors, containers)
nothing_left() { [ -z "$(procs_with "$D/")" ]; }

# container NAME [extra lines...]: writes $D/conf/NAME.conf
container() {
  local n=$1; shift
  { echo "container $n {"
    echo '    template = "busybox"'
    printf '    %s\n' "$@"
    echo "}"; } > "$D/conf/$n.conf"
}

# ---- inspect --------------------------------------------------------------------------------

inspect() { ctl inspect "$1" 2>/dev/null; }
jget() { # jget NAME KEY
  inspect "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2" 2>/dev/null
}
state_is() { [ "$(jget "$1" state)" = "$2" ]; }
pid_of() { jget "$1" pid; }
# events NAME: "TIME_USEC EVENT DETAIL" lines from inspect
events() {
  inspect "$1" | "$PY" -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    print(e["time_usec"], e["event"], e["detail"])' 2>/dev/null
}
count_events() { events "$1" | awk -v e="$2" '$2 == e' | wc -l; }
has_event() { events "$1" | awk -v e="$2" -v d="$3" '$2 == e && index($0, d) { f = 1 } END { exit !f }'; }

# ---- cgroups --------------------------------------------------------------------------------

# The berth/ directories below this shell's cgroup in every hierarchy.
berth_cgroup_dirs() {
  local ctrl path mnt
  while IFS=: read -r _ ctrl path; do
    case $ctrl in name=*) continue ;; esac
    if [ -z "$ctrl" ]; then
      mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
    else
      mnt=$(awk -v c="$ctrl" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
    fi
    [ -n "$mnt" ] && echo "${mnt}${path%/}/berth"
  done < /proc/self/cgroup
}
# The cgroups of the suite's containers ($P-*).
our_cgroups() {
  local b
  for b in $(berth_cgroup_dirs); do
    [ -d "$b" ] && find "$b" -maxdepth 1 -mindepth 1 -type d -name "$P-*" 2>/dev/null
  done
}

# ---- begin and end of a daemon suite ----------------------------------------------------------

# daemon_cleanup (the EXIT trap): stops every berthd started (SIGTERM, then
# SIGKILL), thaws and kills what is left of their monitors and containers
# (found by $ROOT in their argv, never by program name: a container's init
# carries berthd's command line), removes leftover cgroups of ours, runs
# cleanup_extra, unmounts what is below $ROOT and removes it.
daemon_cleanup() {
  local p i
  for p in "${HPIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${DPIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    local any=
    for p in "${DPIDS[@]}"; do alive "$p" && any=1; done
    [ -z "$any" ] && break
    sleep 0.1
  done
  for p in "${DPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # A frozen container (a freeze check that failed half-way) takes no
  # signal until thawed.
  local f
  for f in $(our_cgroups); do
    [ -f "$f/freezer.state" ] && echo THAWED > "$f/freezer.state" 2>/dev/null
    [ -f "$f/cgroup.freeze" ] && echo 0 > "$f/cgroup.freeze" 2>/dev/null
  done
  # Monitors and containers of ours (argv holds $ROOT). An init is PID 1
  # of its namespace: SIGKILL takes the whole container.
  for p in $(procs_with "$ROOT/"); do kill -KILL "$p" 2>/dev/null; done
  sleep 0.3
  for p in $(procs_with "$ROOT/"); do kill -KILL "$p" 2>/dev/null; done
  local c
  for c in $(our_cgroups); do rmdir "$c" 2>/dev/null; done
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
  grep -F " $ROOT/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do umount -l "$m"; done
  chattr -R -i "$ROOT" 2>/dev/null
  rm -rf "$ROOT"
}

# daemon_require LABEL: ends the suite unless berthd and berthctl are built
daemon_require() {
  if [ ! -x "$BERTHD" ] || [ ! -x "$CTL" ]; then
    nok "$1$BERTHD or $CTL missing"
    exit 1
  fi
}

# daemon_finish LABEL: the closing checks (LABEL before their descriptions):
# nothing of ours running, no cgroup of ours left, no sanitizer report in a
# berthd log; the logs' tails when anything failed.
daemon_finish() {
  local left cg san l
  left=$(procs_with "$ROOT/")
  check "${1}no berthd, monitor or container of this test is left running" test -z "$left"
  [ -z "$left" ] || note "left running: $left"
  cg=$(our_cgroups)
  check "${1}no $P-* cgroup is left below this shell's cgroups" test -z "$cg"
  [ -z "$cg" ] || note "left: $cg"
  san=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$ROOT"/*/berthd.log 2>/dev/null)
  check "${1}no sanitizer report in any berthd log" test -z "$san"
  for l in $san; do note "== $l"; grep -A12 -E 'Sanitizer|runtime error:' "$l" | head -30 | sed 's/^/# /'; done
  if [ "$fail" != 0 ]; then
    for l in "$ROOT"/*/berthd.log; do
      [ -f "$l" ] && { note "== $l"; tail -n 15 "$l" | sed 's/^/# /'; }
    done
  fi
}

# ---- containers through `berthctl run` ------------------------------------------------------
# The suite sets B (berthctl), tmp (its mktemp -d) and state (the state dir).

# def NAME LINES...: a definition directory of its own for container NAME.
def() {
  local n=$1; shift
  mkdir -p "$tmp/c/$n"
  { printf 'container %s {\n' "$n"; printf '  %s\n' "$@"; printf '}\n'; } > "$tmp/c/$n/c.conf"
}
# run NAME [CMD...]: runs it with no tty, at most 60 s; sets rc, out, err.
run() {
  local n=$1; shift
  if [ $# -gt 0 ]; then
    timeout -k 5 60 "$B" run --no-tty -c "$tmp/c/$n" --state-dir "$state" "$n" -- "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  else
    timeout -k 5 60 "$B" run --no-tty -c "$tmp/c/$n" --state-dir "$state" "$n" </dev/null >"$tmp/out" 2>"$tmp/err"
  fi
  rc=$?
  out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
}

# free_24s PFX N LO SPAN: sets FREE24 to an octet X, LO <= X and X+N-1 <
# LO+SPAN, such that PFX.X.0/24 .. PFX.(X+N-1).0/24 carry no address and no
# route on the host and none was handed out before by this function in this
# shell; the search starts at a point chosen by $$. Non-zero when none is.
FREE24_TAKEN=" "
free_24s() {
  local pfx=$1 n=$2 lo=$3 span=$4 i k x ok addrs routes
  addrs=$(ip -4 addr) routes=$(ip -4 route)
  x=$(($$ % (span - n + 1) + lo))
  for ((i = 0; i <= span; i++)); do
    ok=1
    for ((k = 0; k < n && ok; k++)); do
      case $FREE24_TAKEN in *" $((x + k)) "*) ok=0 ;; esac
      grep -q " $pfx\.$((x + k))\." <<<"$addrs" && ok=0
      grep -q "^$pfx\.$((x + k))\." <<<"$routes" && ok=0
    done
    if ((ok)); then
      for ((k = 0; k < n; k++)); do FREE24_TAKEN+="$((x + k)) "; done
      FREE24=$x
      return 0
    fi
    x=$(((x - lo + 1) % (span - n + 1) + lo))
  done
  return 1
}

# criu_suite NAME: the start the checkpoint suites share (test_criu20,
# test_live20, test_stateful20): OK_PREFIX, BERTHD/CTL, P=NAME-PID, ROOT, a
# private berthd's cleanup on exit; cmd TEXT (a definition's command line
# running TEXT with sh -c), COUNTER (a command writing a growing count to
# /count), running NAME, count NAME (the count in its writable layer, from
# the host), grows NAME (the count went up within a second).
criu_suite() {
  OK_PREFIX="$1: "
  BERTHD=$BUILD/berthd
  CTL=$BUILD/berthctl
  P=$1-$$
  unset NOTIFY_SOCKET BERTH_SOCKET BERTH_CRIU
  ROOT=$(mktemp -d "/tmp/$1.XXXXXX")
  START_TIMEOUT=60 STOP_TIMEOUT=60
  trap daemon_cleanup EXIT
  daemon_require ""
  COUNTER='trap \"exit 0\" TERM; i=0; while :; do i=\$((i+1)); echo \$i > /count; sleep 0.2; done'
  cmd() { printf 'command = { "/bin/sh", "-c", "%s" }' "$1"; }
  running() { state_is "$1" running; }
  count() { local c; c=$(cat "$SA/containers/$1/upper/count" 2>/dev/null); echo "${c:-0}"; }
  grows() { local a b; a=$(count "$1"); sleep 1; b=$(count "$1"); [ "$b" -gt "$a" ]; }
  # criu_refuses_here: 0 when criu is installed and `criu check` fails here,
  # with reason (its output) and first (its first error, without "Error
  # (file:line): "); else 1, after a not ok (no criu) or an ok (it passes).
  criu_refuses_here() {
    if ! command -v criu >/dev/null; then
      nok "criu is installed (apt-get install criu; tests/deps.sh)"
      return 1
    fi
    if reason=$(criu check 2>&1); then
      note "criu check passes on this kernel: the refusal path cannot be seen here"
      ok "criu check passes here (refusal not applicable)"
      return 1
    fi
    first=$(sed -n 's/.*Error ([^)]*): //p' <<<"$reason" | head -n1)
  }
}
