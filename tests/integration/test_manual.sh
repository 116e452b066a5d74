#!/bin/bash
# The man pages are the contract: a conformance test of berthctl(8) and
# berthd(8) against the programs.
#   1. the verbs of berthctl(8) are exactly those of `berthctl --help`;
#      the options of each verb's synopsis are exactly those its --help
#      (and `berthctl help VERB`) lists, so that an option removed from the
#      code or added without documentation fails here; the options of
#      berthd(8) are exactly those of `berthd --help`;
#   2. every documented (verb, option) pair and every berthd option is run
#      at least once against a private berthd, and its exit status and an
#      observable effect are checked (a registry, `cov`, records what ran:
#      a documented option no check runs is a failure);
#   3. the behaviours issue 15 found untrue: stats with no NAME, kill's
#      default signal, start of required containers, stop/restart -t,
#      frozen in ls, freeze/unfreeze of several names, inspect's whole
#      definition and cgroup, top's columns, health's exit status.
# Each berthd runs on private conf/state/run directories below one
# mktemp -d (containers named mn<pid>-*); the EXIT trap (daemon_cleanup)
# stops them and removes everything, also when a check fails. Re-runnable.
# shellcheck disable=SC2016,SC2119,SC2317 # eval'd check strings; daemon_start takes no args here; helpers called indirectly
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=mn$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_TIMEOUT
ROOT=$(mktemp -d /tmp/btmanual.XXXXXX)
PAGE=$REPO/man/berthctl.8.scd
DPAGE=$REPO/man/berthd.8.scd
SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require "manual: "
OK_PREFIX="manual: "

is_json() { "$PY" -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null; }
# jv EXPR: a python expression on the JSON document on stdin (d), as JSON
jv() { "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))' "$1" 2>/dev/null; }
# jq_ EXPR: the same, as python prints it (strings bare)
jq_() { "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" 2>/dev/null; }

# ---- the page, read -----------------------------------------------------------------------

# "VERB OPTION" for every option in the synopsis of every "## VERB"
# subsection of COMMANDS (the lines that start with *berthctl VERB*).
page_pairs() {
  "$PY" - "$PAGE" <<'EOF'
import re, sys
verb = None
in_cmds = False
for line in open(sys.argv[1]):
    if line.startswith('# '):
        in_cmds = line.strip() == '# COMMANDS'
        verb = None
        continue
    m = re.match(r'## (\S+)', line)
    if in_cmds and m:
        verb = m.group(1)
        print(verb, '-')
        continue
    if verb and line.startswith('*berthctl %s*' % verb):
        for o in re.findall(r'\*(--?[a-zA-Z][a-zA-Z-]*)\*', line):
            print(verb, o)
EOF
}
page_verbs() { page_pairs | awk '{ print $1 }' | sort -u; }
page_opts() { page_pairs | awk -v v="$1" '$1 == v && $2 != "-" { print $2 }' | sort -u; }
# The options a verb's --help lists (the lines below "options:").
help_opts() {
  "$CTL" "$1" --help 2>/dev/null | awk '/^options:/ { o = 1; next } o' |
    grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' ,' | sort -u
}
ctl_verbs() { "$CTL" --help | awk '/^verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 }' | sort -u; }

# ---- the registry of what ran ------------------------------------------------------------------

COV=$ROOT/covered
: > "$COV"
# cov VERB OPTION...: a check ran VERB with each OPTION
cov() { local v=$1 o; shift; for o in "$@"; do echo "$v $o" >> "$COV"; done; }

# ---- 1. the page and the programs list the same verbs and options -----------------------------

t_page_matches_code() {
  local pv cv v po ho
  pv=$(page_verbs | tr '\n' ' ')
  cv=$(ctl_verbs | tr '\n' ' ')
  check "berthctl(8) documents exactly the verbs of berthctl --help (page: $pv; code: $cv)" test "$pv" = "$cv"
  for v in $(ctl_verbs); do
    po=$( (page_opts "$v"; printf '%s\n' -h --help) | sort -u | tr '\n' ' ')
    ho=$(help_opts "$v" | tr '\n' ' ')
    check "$v: the synopsis in berthctl(8) and berthctl $v --help list the same options (page: $po; code: $ho)" \
      test "$po" = "$ho"
    check "$v: berthctl help $v is berthctl $v --help" \
      eval '[ "$("$CTL" help "$v")" = "$("$CTL" "$v" --help)" ] && [ -n "$("$CTL" help "$v")" ]'
    "$CTL" "$v" --no-such-option >/dev/null 2>"$ROOT/err"; local rc=$?
    check "$v: an undocumented option is a usage error (rc=$rc: $(oneline "$(cat "$ROOT/err")"))" \
      eval '[ "$rc" = 2 ] && grep -q "no-such-option" "$ROOT/err"'
    cov "$v" -h --help
  done
  # berthd: the OPTIONS section against berthd --help.
  po=$(awk '/^# OPTIONS/ { o = 1; next } /^# / { o = 0 } o && /^\*-/' "$DPAGE" |
    grep -oE '\*--?[a-zA-Z][a-zA-Z-]*\*' | tr -d '*' | sort -u | tr '\n' ' ')
  ho=$("$BERTHD" --help | grep -oE '(^|[ |[])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' |[' | sort -u | tr '\n' ' ')
  check "berthd(8) OPTIONS are exactly berthd --help's (page: $po; code: $ho)" test "$po" = "$ho"
  "$BERTHD" --no-such-option >/dev/null 2>&1
  check "berthd: an undocumented option is a usage error" test $? = 2
}

# ---- helpers on the main berthd ---------------------------------------------------------------------

SOCK=''
# ctls VERB ARGS...: berthctl with --socket (and no BERTH_SOCKET)
ctls() { local v=$1; shift; timeout 60 "$CTL" "$v" --socket "$SOCK" "$@"; }
# ctlx VERB ARGS...: berthctl with neither (defaults)
ctlx() { timeout 60 "$CTL" "$@"; }
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# ---- 2. berthd's options ----------------------------------------------------------------------

t_berthd_options() {
  env_new daemon-opts
  container "$P-d" "$SLEEPER" 'autostart = true'
  # --conf-dir, --state-dir, --run-dir, --foreground, --cgroup-manager, --log-level
  JOURNAL_STREAM=1:1 "$BERTHD" --conf-dir "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --foreground \
    --cgroup-manager cgroupfs --log-level debug >>"$D/berthd.log" 2>&1 &
  DPID=$!
  DPIDS+=("$DPID")
  wait_until 20 daemon_up
  check "berthd --run-dir: the control socket is DIR/control.sock" test -S "$D/run/control.sock"
  check "berthd --conf-dir: its container is declared" wait_until 30 state_is "$P-d" running
  check "berthd --state-dir: the container's directory is below it" test -d "$D/state/containers/$P-d"
  check "berthd --foreground: 'berthd: ' lines even when stderr is the journal" grep -q '^berthd: ' "$D/berthd.log"
  check "berthd --foreground: no journal priority prefixes" eval '! grep -q "^<[0-9]>" "$D/berthd.log"'
  check "berthd --log-level debug: messages up to debug (info too) are logged" \
    grep -q "^berthd: berthd [0-9.]*: definitions in $D/conf" "$D/berthd.log"
  local cg
  cg=$(jget "$P-d" cgroup)
  check "berthd --cgroup-manager cgroupfs: the container's cgroup is below berth/ ($cg)" \
    eval '[ -d "$cg" ] && [[ "$cg" == */berth/$P-d ]]'
  daemon_stop
  # -c, -h, --help, --version; without --foreground under the journal:
  # priority prefixes.
  : > "$D/berthd.log"
  JOURNAL_STREAM=1:1 "$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --log-level error \
    >>"$D/berthd.log" 2>&1 &
  DPID=$!
  DPIDS+=("$DPID")
  wait_until 20 daemon_up
  check "berthd -c: its container is declared" wait_until 30 state_is "$P-d" running
  daemon_stop
  check "berthd --log-level error: nothing below error is logged ($(oneline "$(head -3 "$D/berthd.log")"))" \
    eval '! grep -qE "^<[4-7]>|^berthd: " "$D/berthd.log"'
  check "berthd -h prints the usage" eval '"$BERTHD" -h | grep -q "^usage: berthd"'
  check "berthd --help prints the usage" eval '"$BERTHD" --help | grep -q -- "--run-dir"'
  check "berthd --version prints the version" eval '"$BERTHD" --version | grep -qE "^berthd [0-9]"'
  "$BERTHD" --log-level loud >/dev/null 2>&1
  check "berthd --log-level with an unknown level is a usage error" test $? = 2
  "$BERTHD" --cgroup-manager nosuch >/dev/null 2>&1
  check "berthd --cgroup-manager with an unknown manager is a usage error" test $? = 2
  # --idmap-pool: its effect is test_idmap18.sh's
  "$BERTHD" --idmap-pool 5:10 >/dev/null 2>&1
  check "berthd --idmap-pool with fewer than 65536 ids is a usage error" test $? = 2
  # --metrics-listen: its effect is test_met21.sh's
  "$BERTHD" --metrics-listen localhost:9323 >/dev/null 2>&1
  check "berthd --metrics-listen with a host name is a usage error" test $? = 2
}

# ---- 3. every verb and option against the main berthd ------------------------------------------

# Containers of the main berthd:
#   a  a sleeper with a health check, limits, a mount, env, user, workdir
#   b  requires a (start/stop order)
#   k  traps TERM (exit 7) and USR1 (a line in its log): kill
#   i  ignores SIGTERM, stop-timeout 60s: stop/restart -t
#   w  exits 5 after a while: wait
#   l  prints a line a second, and an escape sequence: logs
#   f  has a failing health check that does nothing: health's exit 1
main_setup() {
  env_new main
  SOCK=$D/run/control.sock
  container "$P-a" "$SLEEPER" 'autostart = true' 'env = { "MN_VAR=from-definition" }' 'user = "0:0"' \
    'workdir = "/"' 'limits { memory = 64M pids = 100 }' \
    'mount scratch {' '    type = "tmpfs"' '    target = "/scratch"' '}' \
    'health {' '    command = { "true" }' '    interval = 1s' '    timeout = 1s' '}'
  container "$P-b" "$SLEEPER" 'autostart = true' "requires = { \"$P-a\" }"
  container "$P-k" 'command = { "/bin/sh", "-c", "trap \"exit 7\" TERM; trap \"echo got-usr1\" USR1; while :; do sleep 1; done" }' \
    'autostart = true' 'restart = "no"'
  container "$P-i" 'command = { "/bin/sh", "-c", "trap \"\" TERM; while :; do sleep 1; done" }' \
    'autostart = true' 'stop-timeout = 60s' 'restart = "no"'
  container "$P-w" 'command = { "/bin/sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.2; done; exit 5" }' \
    'autostart = true' 'restart = "no"'
  container "$P-l" 'command = { "/bin/sh", "-c", "printf \"\\033]0;mn-title\\007\\n\"; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; done" }' \
    'autostart = true'
  container "$P-f" "$SLEEPER" 'autostart = true' \
    'health {' '    command = { "false" }' '    interval = 60s' '    on-failure = "none"' '}'
  daemon_start
  local n
  for n in a b k i w l f; do
    wait_until 40 state_is "$P-$n" running || nok "main: $P-$n runs (state $(jget "$P-$n" state))"
  done
}

t_check() {
  local out rc
  out=$(ctls check 2>&1); rc=$?
  check "check --socket: the berthd's definitions (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$out" = "ok: 7 containers, 0 networks" ]'
  mkdir -p "$D/bad"
  printf 'container %s-x {\n  template = "busybox"\n  nosuchkey = 1\n}\n' "$P" > "$D/bad/x.conf"
  out=$(ctlx check -c "$D/bad" 2>&1); rc=$?
  check "check -c DIR: an error there is FILE:LINE and exit 1 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "^$D/bad/x.conf:3: " <<<"$out"'
  out=$(ctlx check --conf-dir "$D/conf" --state-dir "$D/state" 2>&1); rc=$?
  check "check --conf-dir DIR --state-dir DIR (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$out" = "ok: 7 containers, 0 networks" ]'
  # --state-dir decides where a template must be: imported in one, missing in another.
  mkdir -p "$D/imp/bin" "$D/tpl" "$D/tplconf" "$D/empty-state"
  cp /bin/busybox "$D/imp/bin/" 2>/dev/null || cp "$(command -v sh)" "$D/imp/bin/"
  printf 'container %s-t {\n  template = "mnimp"\n}\n' "$P" > "$D/tplconf/t.conf"
  ctlx template --state-dir "$D/tpl" import mnimp "$D/imp" >/dev/null 2>&1
  out=$(ctlx check -c "$D/tplconf" --state-dir "$D/tpl" 2>&1); rc=$?
  check "check --state-dir: a template imported there is found (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  out=$(ctlx check -c "$D/tplconf" --state-dir "$D/empty-state" 2>&1); rc=$?
  check "check --state-dir: missing from another state dir, FILE:LINE (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "$D/tplconf/t.conf:2: " <<<"$out"'
  local got
  got=$(ctls check --json 2>/dev/null | jv '[d["ok"], d["containers"], d["networks"], d["errors"]]')
  check "check --json: one document with ok, containers, networks, errors ($got)" test "$got" = '[true, 7, 0, []]'
  cov check -c --conf-dir --state-dir --json --socket
}

t_run() {
  local out rc
  mkdir -p "$D/runconf"
  printf 'container %s-r {\n  template = "busybox"\n  command = { "/bin/sh", "-c", "echo run-default" }\n}\n' "$P" \
    > "$D/runconf/r.conf"
  out=$(ctlx run -c "$D/runconf" --state-dir "$D/state" --no-tty "$P-r" </dev/null 2>&1); rc=$?
  check "run -c DIR --state-dir DIR --no-tty: the definition's command (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q run-default <<<"$out"'
  out=$(ctlx run --conf-dir "$D/runconf" --state-dir "$D/state" --no-tty "$P-r" -- /bin/sh -c \
    'test -t 1 && echo has-tty || echo no-tty; exit 3' </dev/null 2>&1); rc=$?
  check "run --no-tty -- COMMAND: no terminal, the command's exit status (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 3 ] && grep -q "^no-tty" <<<"$out"'
  out=$(ctlx run -c "$D/runconf" --state-dir "$D/state" -t "$P-r" -- /bin/sh -c 'test -t 1 && echo has-tty' \
    </dev/null 2>&1); rc=$?
  check "run -t: the command has a terminal (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q has-tty <<<"$out"'
  out=$(ctlx run -c "$D/runconf" --state-dir "$D/state" --tty "$P-r" -- /bin/sh -c 'test -t 0 && echo has-tty' \
    </dev/null 2>&1); rc=$?
  check "run --tty: the command has a terminal (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q has-tty <<<"$out"'
  out=$(ctlx run -c "$D/runconf" --state-dir "$D/state" --no-tty "$P-r" -- /no/such </dev/null 2>&1); rc=$?
  check "run: a command that is not found is 127 (rc=$rc)" test "$rc" = 127
  check "run: the ephemeral run left no container directory" test ! -e "$D/state/containers/$P-r"
  cov run -c --conf-dir --state-dir -t --tty --no-tty
}

t_plan_reload() {
  local out rc
  out=$(ctls plan 2>&1); rc=$?
  check "plan: nothing to do when everything matches (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^nothing to do" <<<"$out"'
  container "$P-n" "$SLEEPER"
  out=$(ctls plan 2>&1); rc=$?
  check "plan: a new definition is to create, nothing done (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -qE "^create +$P-n" <<<"$out" && ! ctls ls --names | grep -qx "$P-n"'
  local got
  got=$(ctls plan --json 2>/dev/null | jv '[a["action"] for a in d["actions"] if a["name"] == "'"$P-n"'"]')
  check "plan --json: the actions as one document ($got)" test "$got" = '["create"]'
  out=$(ctls reload 2>&1); rc=$?
  check "reload: applies it and exits 0 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && ctls ls --names | grep -qx "$P-n"'
  rm -f "$D/conf/$P-n.conf"
  out=$(ctls reload --json 2>/dev/null); rc=$?
  check "reload --json: one document, ok (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(jq_ "d[\"ok\"]" <<<"$out")" = True ]'
  cov plan --json --socket
  cov reload --json --socket
}

t_ls_inspect() {
  local out rc
  out=$(ctls ls 2>&1); rc=$?
  check "ls: a table with the containers and their state (rc=$rc)" \
    eval '[ "$rc" = 0 ] && grep -qE "^$P-a +running +healthy|^$P-a +running +starting" <<<"$out"'
  out=$(ctls ls --names 2>&1); rc=$?
  check "ls --names: only names, one per line (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -qx "$P-a" <<<"$out" && [ "$(wc -l <<<"$out")" = 7 ]'
  local got
  got=$(ctls ls --json 2>/dev/null | jv '[c["state"] for c in d["containers"] if c["name"] == "'"$P-b"'"]')
  check "ls --json: containers with name and state ($got)" test "$got" = '["running"]'
  out=$(ctls inspect "$P-a" 2>/dev/null); rc=$?
  got=$(jv '[d["file"], d["line"]]' <<<"$out")
  check "inspect: the definition's file and line (rc=$rc: $got)" test "$got" = "[\"$D/conf/$P-a.conf\", 1]"
  got=$(jv '[d["definition"]["limits"]["memory"], d["definition"]["limits"]["pids"]]' <<<"$out")
  check "inspect: limits of the definition, memory 64M and pids 100 ($got)" test "$got" = '[67108864, 100]'
  got=$(jv '[[m["type"], m["target"]] for m in d["definition"]["mounts"]]' <<<"$out")
  check "inspect: mounts of the definition ($got)" test "$got" = '[["tmpfs", "/scratch"]]'
  got=$(jv '[d["definition"][k] for k in ("user", "env", "stop_timeout_usec", "restart", "stop_signal")]' <<<"$out")
  check "inspect: user, env and the defaults filled in ($got)" \
    test "$got" = '["0:0", ["MN_VAR=from-definition"], 10000000, "no", "SIGTERM"]'
  local cg
  cg=$(jq_ 'd["cgroup"]' <<<"$out")
  check "inspect: the cgroup of the running container ($cg) holds its init" \
    eval '[ -d "$cg" ] && grep -qx "$(jq_ "d[\"pid\"]" <<<"$out")" "$cg/cgroup.procs"'
  out=$(ctls inspect --json "$P-nothere" 2>/dev/null); rc=$?
  check "inspect --json: an unknown container is exit 1 and a document with errors (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && [ -n "$(jq_ "d[\"errors\"][0][\"message\"]" <<<"$out")" ]'
  cov ls --json --names --socket
  cov inspect --json --socket
}

t_start_stop_restart() {
  local out rc t0 pid1 pid2 ms
  # stop NAME stops what requires it first; both stay stopped.
  out=$(ctls stop "$P-a" 2>&1); rc=$?
  check "stop: requirers first, named in the output (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "stop .$P-b. first" <<<"$out"'
  check "stop: both end stopped" wait_until 30 eval 'state_is "$P-a" stopped && state_is "$P-b" stopped'
  # start NAME starts what it requires first.
  out=$(ctls start "$P-b" 2>&1); rc=$?
  check "start: what it requires first (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "start .$P-a. first" <<<"$out"'
  check "start: both run" wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  out=$(ctls start --json "$P-b" 2>/dev/null); rc=$?
  check "start --json: the actions as one document (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && jq_ "d[\"actions\"][0]" <<<"$out" | grep -q "already running"'
  out=$(ctls start "$P-nothere" 2>&1); rc=$?
  check "start: an unknown container is exit 1 with the reason (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "no container .$P-nothere." <<<"$out"'
  # -t: SIGKILL after DURATION, not after the definition's 60s.
  t0=$(date +%s%N)
  out=$(ctls stop -t 1s "$P-i" 2>&1); rc=$?
  check "stop -t 1s: accepted (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  wait_until 20 state_is "$P-i" stopped; ms=$(elapsed_ms "$t0")
  check "stop -t 1s: a container that ignores SIGTERM is killed after 1s, not 60s (${ms} ms)" \
    eval 'state_is "$P-i" stopped && [ "$ms" -lt 15000 ]'
  check "stop -t: the kill is an event" has_event "$P-i" killing "within 1s"
  ctls start "$P-i" >/dev/null 2>&1
  wait_until 30 state_is "$P-i" running
  pid1=$(pid_of "$P-i")
  t0=$(date +%s%N)
  out=$(ctls restart --timeout 1s "$P-i" 2>&1); rc=$?
  check "restart --timeout 1s: accepted (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q "restart .$P-i." <<<"$out"'
  wait_until 20 eval 'state_is "$P-i" running && [ "$(pid_of "$P-i")" != "$pid1" ]'
  pid2=$(pid_of "$P-i"); ms=$(elapsed_ms "$t0")
  check "restart --timeout 1s: running again with a new init within 15s ($pid1 -> $pid2, ${ms} ms)" \
    eval '[ -n "$pid2" ] && [ "$pid2" != "$pid1" ] && [ "$pid2" != 0 ] && [ "$ms" -lt 15000 ]'
  out=$(ctls stop --timeout 1s --json "$P-i" 2>/dev/null); rc=$?
  check "stop --timeout --json: the actions as one document (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && jq_ "d[\"actions\"]" <<<"$out" | grep -q "stop"'
  wait_until 20 state_is "$P-i" stopped
  pid1=$(pid_of "$P-b")
  out=$(ctls restart -t 5s --json "$P-b" 2>/dev/null); rc=$?
  check "restart -t --json: the actions as one document (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && jq_ "d[\"actions\"]" <<<"$out" | grep -q "restart"'
  check "restart: a new init" wait_until 30 eval 'state_is "$P-b" running && [ "$(pid_of "$P-b")" != "$pid1" ]'
  out=$(ctls stop -t soon "$P-b" 2>&1); rc=$?
  check "stop -t with no duration is a usage error (rc=$rc: $(oneline "$out"))" test "$rc" = 2
  cov start --json --socket
  cov stop -t --timeout --json --socket
  cov restart -t --timeout --json --socket
}

t_kill() {
  local out rc
  out=$(ctls kill -s USR1 "$P-k" 2>&1); rc=$?
  check "kill -s USR1: sent, the container's trap ran (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && wait_until 10 eval "ctls logs $P-k | grep -q got-usr1" && state_is "$P-k" running'
  out=$(ctls kill --signal CONT "$P-k" "$P-a" 2>&1); rc=$?
  check "kill --signal CONT NAME NAME: accepted for several running containers (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  out=$(ctls kill "$P-k" "$P-i" 2>&1); rc=$?
  check "kill: a named container that does not run: exit 1, nothing sent (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "$P-i" <<<"$out" && state_is "$P-k" running'
  out=$(ctls kill "$P-k" 2>&1); rc=$?
  check "kill: the default signal is SIGTERM (its trap exits 7) (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && wait_until 20 eval "[ \"\$(jget $P-k last_status)\" = 7 ]"'
  out=$(ctls kill -s NOSUCH "$P-a" 2>&1); rc=$?
  check "kill -s with no signal is a usage error (rc=$rc)" test "$rc" = 2
  cov kill -s --signal --socket
}

t_logs() {
  local out rc
  out=$(ctls logs "$P-l" 2>&1); rc=$?
  check "logs: the container's output (rc=$rc)" eval '[ "$rc" = 0 ] && grep -q "^tick-1$" <<<"$out"'
  out=$(ctls logs -n 1 "$P-l" 2>&1); rc=$?
  check "logs -n 1: one line, the last (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^tick-" <<<"$out"'
  out=$(ctls logs --lines 2 "$P-l" 2>&1); rc=$?
  check "logs --lines 2: two lines (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && [ "$(wc -l <<<"$out")" = 2 ]'
  out=$(timeout 4 "$CTL" logs --socket "$SOCK" -f -n 1 "$P-l" 2>&1); rc=$?
  check "logs -f: keeps printing new output until interrupted (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 124 ] && [ "$(grep -c "^tick-" <<<"$out")" -ge 3 ]'
  out=$(timeout 4 "$CTL" logs --socket "$SOCK" --follow -n 0 "$P-l" 2>&1); rc=$?
  check "logs --follow: the same (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 124 ] && [ "$(grep -c "^tick-" <<<"$out")" -ge 2 ]'
  # On a terminal: escaped; with --raw: as written. Into a pipe: as written.
  out=$(script -qec "$CTL logs --socket $SOCK -n 100000 $P-l" /dev/null 2>&1 | head -c 2000)
  check "logs on a terminal: ESC is shown as \\x1b" eval 'grep -qF "\\x1b]0;mn-title" <<<"$out" && ! grep -q $'"'"'\x1b'"'"' <<<"$out"'
  out=$(script -qec "$CTL logs --socket $SOCK --raw -n 100000 $P-l" /dev/null 2>&1 | head -c 2000)
  check "logs --raw on a terminal: ESC as written" eval 'grep -q $'"'"'\x1b]0;mn-title'"'"' <<<"$out"'
  out=$(ctls logs -n 100000 "$P-l" 2>&1)
  check "logs into a pipe: as written" eval 'grep -q $'"'"'\x1b]0;mn-title'"'"' <<<"$out"'
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" logs --state-dir "$D/state" "$P-l" 2>&1); rc=$?
  check "logs --state-dir: found there without berthd (rc=$rc)" eval '[ "$rc" = 0 ] && grep -q "^tick-1$" <<<"$out"'
  out=$(timeout 30 "$CTL" logs --socket "$D/run/nothere.sock" "$P-l" 2>&1); rc=$?
  check "logs --socket: with none answering, the default state dir (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "/var/lib/berth/containers/$P-l/console.log" <<<"$out"'
  cov logs -f --follow -n --lines --raw --state-dir --socket
  # times and streams (issue 21)
  out=$(ctls logs -t -n 3 "$P-l" 2>&1); rc=$?
  check "logs -t: each line with its time and stream (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(grep -cE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z stdout tick-[0-9]+$" <<<"$out")" = 3 ]'
  out=$(ctls logs --timestamps -n 1 "$P-l" 2>&1); rc=$?
  check "logs --timestamps: the same (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qE "Z stdout tick-" <<<"$out"'
  out=$(ctls logs --since 3s --until 0s "$P-l" 2>&1); rc=$?
  check "logs --since 3s --until 0s: the last seconds' lines only (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(grep -c "^tick-" <<<"$out")" -ge 1 ] && [ "$(grep -c "^tick-" <<<"$out")" -le 5 ]'
  out=$(ctls logs --since "2000-01-01 00:00:00" --until 2000-01-02T00:00:00Z "$P-l" 2>&1); rc=$?
  check "logs --since/--until absolute times: nothing in 2000 (rc=$rc)" eval '[ "$rc" = 0 ] && [ -z "$out" ]'
  out=$(ctls logs --since soon "$P-l" 2>&1); rc=$?
  check "logs --since in a bad format: a usage error (rc=$rc)" eval '[ "$rc" = 2 ] && grep -q "soon" <<<"$out"'
  out=$(ctls logs --stdout -n 2 "$P-l" 2>&1); rc=$?
  check "logs --stdout: the standard output's lines (rc=$rc)" eval '[ "$rc" = 0 ] && [ "$(grep -c "^tick-" <<<"$out")" = 2 ]'
  out=$(ctls logs --stderr "$P-l" 2>&1); rc=$?
  check "logs --stderr: none, l writes to its standard output only (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && ! grep -q "tick-" <<<"$out"'
  out=$(ctls logs --stream stderr "$P-k" 2>&1); rc=$?
  check "logs --stream stderr: the same selection by name (rc=$rc)" eval '[ "$rc" = 0 ] && ! grep -q "got-usr1" <<<"$out"'
  out=$(ctls logs --all -n 200 2>&1); rc=$?
  check "logs --all: every container's, each line named (rc=$rc)" \
    eval '[ "$rc" = 0 ] && grep -q "^$P-l | tick-" <<<"$out"'
  cov logs -t --timestamps --since --until --stdout --stderr --stream --all
}

t_exec() {
  local out rc
  out=$(ctls exec "$P-a" -- /bin/sh -c 'echo "$MN_VAR"; exit 4' </dev/null 2>&1); rc=$?
  check "exec: runs in the container with its environment, its exit status (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 4 ] && grep -qx from-definition <<<"$out"'
  out=$(ctls exec -t "$P-a" -- /bin/sh -c 'test -t 1 && echo has-tty' </dev/null 2>&1); rc=$?
  check "exec -t: a terminal (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q has-tty <<<"$out"'
  out=$(ctls exec --tty "$P-a" -- /bin/sh -c 'test -t 0 && echo has-tty' </dev/null 2>&1); rc=$?
  check "exec --tty: a terminal (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q has-tty <<<"$out"'
  out=$(ctls exec -u 1234 "$P-a" -- id -u </dev/null 2>&1); rc=$?
  check "exec -u 1234: that user (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qx 1234 <<<"$out"'
  out=$(ctls exec --user 1235:77 "$P-a" -- id -g </dev/null 2>&1); rc=$?
  check "exec --user 1235:77: that group (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qx 77 <<<"$out"'
  out=$(ctls exec -e MN_E=one --env MN_F=two "$P-a" -- /bin/sh -c 'echo "$MN_E-$MN_F"' </dev/null 2>&1); rc=$?
  check "exec -e/--env: the variables (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qx one-two <<<"$out"'
  out=$(ctls exec -w /scratch "$P-a" -- pwd </dev/null 2>&1); rc=$?
  check "exec -w DIR: runs there (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qx /scratch <<<"$out"'
  out=$(ctls exec --workdir /proc "$P-a" -- pwd </dev/null 2>&1); rc=$?
  check "exec --workdir DIR: runs there (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -qx /proc <<<"$out"'
  out=$(ctlx exec -c "$D/conf" --state-dir "$D/state" "$P-a" -- true </dev/null 2>&1); rc=$?
  check "exec -c DIR --state-dir DIR: without berthd's help (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  out=$(ctlx exec --conf-dir "$D/conf" --state-dir "$D/state" "$P-a" -- /no/such </dev/null 2>&1); rc=$?
  check "exec --conf-dir: a command that is not found is 127 (rc=$rc)" test "$rc" = 127
  out=$(ctlx exec --state-dir "$D/state" "$P-a" -- true </dev/null 2>&1); rc=$?
  check "exec without -c next to no berthd: the default definition directory, 125 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 125 ] && grep -q /etc/containers.d <<<"$out"'
  out=$(ctls exec -e NOEQUALS "$P-a" -- true </dev/null 2>&1); rc=$?
  check "exec -e without = is a usage error (rc=$rc)" test "$rc" = 2
  cov exec -t --tty -u --user -e --env -w --workdir -c --conf-dir --state-dir --socket
}

t_stats_top() {
  local out rc got
  out=$(ctls stats 2>&1); rc=$?
  check "stats with no NAME: every running container (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^NAME " <<<"$out" && grep -q "^$P-a " <<<"$out" && grep -q "^$P-l " <<<"$out" && ! grep -q "^$P-i " <<<"$out"'
  out=$(ctls stats "$P-a" "$P-b" 2>&1); rc=$?
  check "stats NAME NAME: those, CPU % and memory against its limit in units (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(wc -l <<<"$out")" = 3 ] && grep -qE "^$P-a +[0-9.]+% +[0-9.]+(B|KiB|MiB) / 64.0MiB " <<<"$out"'
  out=$(ctls stats --raw "$P-a" "$P-b" 2>&1); rc=$?
  check "stats --raw NAME NAME: memory and pids as numbers (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(wc -l <<<"$out")" = 3 ] && awk -v n="$P-a" "\$1 == n && \$3 ~ /^[0-9]+\$/ && \$4 == 67108864 && \$7 ~ /^[0-9]+\$/ { f = 1 } END { exit !f }" <<<"$out"'
  out=$(ctls stats --watch 1 --count 2 "$P-a" 2>&1); rc=$?
  check "stats --watch 1 --count 2: two tables (rc=$rc)" eval '[ "$rc" = 0 ] && [ "$(grep -c "^NAME" <<<"$out")" = 2 ]'
  out=$(ctls stats --count 2 "$P-a" 2>&1); rc=$?
  check "stats --count without --watch: a usage error (rc=$rc)" test "$rc" = 2
  got=$(ctls stats --json "$P-a" 2>/dev/null | jv '[d["name"], d["memory_current"] > 0, d["pids"] >= 1]')
  check "stats --json NAME: its object ($got)" test "$got" = "[\"$P-a\", true, true]"
  got=$(ctls stats --json 2>/dev/null | jv 'sorted(c["name"] for c in d if c["name"] in ("'"$P-a"'", "'"$P-b"'"))')
  check "stats --json: a list of every running one ($got)" test "$got" = "[\"$P-a\", \"$P-b\"]"
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" stats --state-dir "$D/state" "$P-a" 2>&1); rc=$?
  check "stats --state-dir: found there without berthd (rc=$rc)" eval '[ "$rc" = 0 ] && grep -q "^$P-a " <<<"$out"'
  out=$(ctls stats "$P-a" "$P-i" 2>&1); rc=$?
  check "stats: a named container that does not run is exit 1 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "$P-i" <<<"$out"'
  out=$(ctls top "$P-a" 2>&1); rc=$?
  local init
  init=$(pid_of "$P-a")
  check "top: the documented columns (rc=$rc: $(head -1 <<<"$out"))" \
    eval '[ "$rc" = 0 ] && head -1 <<<"$out" | grep -qE "^PID +CT-PID +UID +CT-UID +STATE +TIME +COMMAND$"'
  check "top: the init with host pid, pid 1 in the container, uid 0 outside and in, a state, a CPU time" \
    eval 'grep -qE "^$init +1 +0 +0 +[A-Za-z] +[0-9]+:[0-9]{2}:[0-9]{2} " <<<"$out"'
  check "top: the workload's command line" grep -q 'while :; do sleep 1; done' <<<"$out"
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" top --state-dir "$D/state" "$P-a" 2>&1); rc=$?
  check "top --state-dir: found there without berthd (rc=$rc)" eval '[ "$rc" = 0 ] && grep -q "^$init " <<<"$out"'
  cov stats --json --state-dir --socket --raw --watch --count
  cov top --state-dir --socket
}

t_cp() {
  local out rc
  out=$(ctls cp "$P-a:/etc/passwd" "$ROOT/cp-passwd" 2>&1); rc=$?
  check "cp NAME:PATH DEST: the container's file (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(cat "$ROOT/cp-passwd")" = "$(ctls exec "$P-a" -- cat /etc/passwd </dev/null)" ]'
  echo "mn-cp-$$" > "$ROOT/cp-in"
  out=$(ctls cp -c "$D/conf" "$ROOT/cp-in" "$P-a:/tmp/" 2>&1); rc=$?
  check "cp -c DIR SRC NAME:DIR/: into the container (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(ctls exec "$P-a" -- cat /tmp/cp-in </dev/null)" = "mn-cp-$$" ]'
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" cp --conf-dir "$D/conf" --state-dir "$D/state" "$P-a:/tmp/cp-in" "$ROOT/cp-back" 2>&1); rc=$?
  check "cp --conf-dir --state-dir: without berthd (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && cmp -s "$ROOT/cp-in" "$ROOT/cp-back"'
  out=$(ctls cp "$P-nosuch:/etc/passwd" "$ROOT/" 2>&1); rc=$?
  check "cp from a container that does not exist: exit 1 (rc=$rc)" eval '[ "$rc" = 1 ] && grep -q "$P-nosuch" <<<"$out"'
  out=$(ctls cp "$ROOT/cp-in" "$ROOT/cp-x" 2>&1); rc=$?
  check "cp with no container side: a usage error (rc=$rc)" test "$rc" = 2
  cov cp -c --conf-dir --state-dir --socket
}

t_freeze() {
  local out rc before after
  out=$(ctls freeze "$P-a" "$P-l" 2>&1); rc=$?
  check "freeze NAME NAME: exit 0 (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  check "freeze: ls shows both frozen" eval 'state_is "$P-a" frozen && state_is "$P-l" frozen'
  before=$(ctls logs -n 1 "$P-l"); sleep 2.5; after=$(ctls logs -n 1 "$P-l")
  check "freeze: the processes stop ($before = $after)" test "$before" = "$after"
  check "freeze: a frozen container with a health check does not turn unhealthy" \
    eval '[ "$(jget "$P-a" health)" != unhealthy ]'
  out=$(ctls unfreeze "$P-a" "$P-l" 2>&1); rc=$?
  check "unfreeze NAME NAME: exit 0 (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  check "unfreeze: both running again" eval 'state_is "$P-a" running && state_is "$P-l" running'
  check "unfreeze: the processes go on" wait_until 5 eval '[ "$(ctls logs -n 1 "$P-l")" != "$after" ]'
  out=$(ctls freeze "$P-a" "$P-i" 2>&1); rc=$?
  check "freeze: a named container that does not run: exit 1, none frozen (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && state_is "$P-a" running'
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" freeze --state-dir "$D/state" "$P-l" 2>&1); rc=$?
  check "freeze --state-dir: without berthd (rc=$rc)" eval '[ "$rc" = 0 ] && state_is "$P-l" frozen'
  out=$(BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" unfreeze --state-dir "$D/state" "$P-l" 2>&1); rc=$?
  check "unfreeze --state-dir: without berthd (rc=$rc)" eval '[ "$rc" = 0 ] && state_is "$P-l" running'
  cov freeze --state-dir --socket
  cov unfreeze --state-dir --socket
}

t_wait_events() {
  local out rc wpid
  ctls wait "$P-w" >/dev/null 2>&1 &
  wpid=$!
  HPIDS+=("$wpid")
  sleep 1
  check "wait: still waiting while the container runs" alive "$wpid"
  ctls exec "$P-w" -- touch /tmp/go </dev/null >/dev/null 2>&1
  wait_until 20 eval '! alive "$wpid"'
  wait "$wpid"; rc=$?
  check "wait: exits with the container's status when it exits (rc=$rc)" test "$rc" = 5
  ctls wait "$P-w" >/dev/null 2>&1; rc=$?
  check "wait: a container that is not running: its last status at once (rc=$rc)" test "$rc" = 5
  out=$(timeout 3 "$CTL" events --socket "$SOCK" 2>&1); rc=$?
  check "events: the recent events, then waits until interrupted (rc=$rc)" \
    eval '[ "$rc" = 124 ] && grep -qE "$P-w: exited: status 5" <<<"$out"'
  out=$(timeout 3 "$CTL" events --socket "$SOCK" "$P-w" 2>&1)
  check "events NAME: only that container's" \
    eval 'grep -q "$P-w" <<<"$out" && ! grep -q "$P-a" <<<"$out"'
  out=$(timeout 3 "$CTL" events --socket "$SOCK" --json "$P-w" 2>&1)
  check "events --json: one JSON object per line" \
    eval '[ -n "$out" ] && while read -r l; do is_json <<<"$l" || exit 1; done <<<"$out"'
  sleep 2
  out=$(timeout 3 "$CTL" events --socket "$SOCK" --since 1s 2>&1)
  check "events --since 1s: not the older events ($(oneline "$out"))" eval '! grep -q "exited: status 5" <<<"$out"'
  out=$(timeout 3 "$CTL" events --socket "$SOCK" --since 1h "$P-w" 2>&1)
  check "events --since 1h: the older ones" grep -q "exited: status 5" <<<"$out"
  timeout 3 "$CTL" events --socket "$SOCK" --since never >/dev/null 2>&1; rc=$?
  check "events --since with no duration is a usage error (rc=$rc)" test "$rc" = 2
  out=$(timeout 3 "$CTL" events --socket "$SOCK" -n 1000 "$P-w" 2>&1)
  check "events -n 1000: replays the journal, the exit among them" grep -q "exited: status 5" <<<"$out"
  out=$(timeout 3 "$CTL" events --socket "$SOCK" --lines 1000 "$P-w" 2>&1)
  check "events --lines 1000: the same" grep -q "exited: status 5" <<<"$out"
  timeout 3 "$CTL" events --socket "$SOCK" -n 0 >/dev/null 2>&1; rc=$?
  check "events -n 0 is a usage error (rc=$rc)" test "$rc" = 2
  cov wait --socket
  cov events --json --since --socket -n --lines
}

t_template() {
  local out rc S=$D/tpl2
  mkdir -p "$S" "$D/spec/bin" "$D/spec/dev"
  cp "$D/imp/bin/"* "$D/spec/bin/"
  mknod "$D/spec/dev/mnnull" c 1 3
  out=$(ctlx template --state-dir "$S" list 2>&1); rc=$?
  check "template --state-dir DIR list: empty in a new state dir (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ -z "$out" ]'
  out=$(ctlx template --state-dir "$S" import mndrop "$D/spec" 2>&1); rc=$?
  check "template import DIR: imported, device nodes dropped (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ ! -e "$S/templates/mndrop/dev/mnnull" ] && [ -x "$S/templates/mndrop/bin/$(ls "$D/spec/bin")" ]'
  out=$(ctlx template import --keep-special mnkeep "$D/spec" --state-dir "$S" 2>&1); rc=$?
  check "template import --keep-special: device nodes kept (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ -c "$S/templates/mnkeep/dev/mnnull" ]'
  out=$(ctlx template --state-dir "$S" ls 2>&1)
  check "template list: dropped and kept ($(oneline "$out"))" \
    eval 'grep -qE "^mndrop +imported .* dropped " <<<"$out" && grep -qE "^mnkeep +imported .* kept " <<<"$out"'
  out=$(ctlx template --state-dir "$D/state" build busybox 2>&1); rc=$?
  check "template build busybox: its path (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$out" = "$D/state/templates/busybox" ] && [ -d "$out" ]'
  out=$(ctlx template --state-dir "$S" remove mnkeep 2>&1); rc=$?
  check "template remove: gone (rc=$rc)" eval '[ "$rc" = 0 ] && [ ! -e "$S/templates/mnkeep" ] && ! ctlx template --state-dir "$S" list | grep -q mnkeep'
  out=$(ctlx template --state-dir "$S" --keep-special list 2>&1); rc=$?
  check "template: --keep-special is for import only (rc=$rc)" test "$rc" = 2
  mkdir -p "$D/tplconf2"
  printf 'container %s-tu {\n  template = "mndrop"\n}\n' "$P" > "$D/tplconf2/t.conf"
  out=$(ctlx template --state-dir "$S" --conf-dir "$D/tplconf2" --json list 2>&1); rc=$?
  check "template --conf-dir DIR --json list: the definitions using each ($(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(jv "[t[\"definitions\"] for t in d[\"templates\"] if t[\"name\"] == \"mndrop\"]" <<<"$out")" = "[[\"$P-tu\"]]" ]'
  out=$(ctlx template --state-dir "$S" -c "$D/tplconf2" remove mndrop 2>&1); rc=$?
  check "template remove: refused for a template a definition names (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "in use (definitions: $P-tu)" <<<"$out" && [ -d "$S/templates/mndrop" ]'
  out=$(ctlx template --state-dir "$S" -c "$D/tplconf2" prune 2>&1); rc=$?
  check "template prune: keeps what a definition names (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^prune: 0 templates, 0 layers" <<<"$out" && [ -d "$S/templates/mndrop" ]'
  out=$(ctls template --state-dir "$S" list 2>&1); rc=$?
  check "template --socket: berthd's definitions (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 0 ] && grep -q "^mndrop " <<<"$out"'
  cov template --state-dir --keep-special --conf-dir -c --json --socket
}

t_health() {
  local out rc
  out=$(ctls health "$P-a" 2>&1); rc=$?
  check "health: the probe passed, exit 0 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^$P-a: command probe passed" <<<"$out"'
  out=$(ctls health "$P-f" 2>&1); rc=$?
  check "health: a failing probe is exit 1 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "probe failed" <<<"$out"'
  out=$(ctls health "$P-b" 2>&1); rc=$?
  check "health: no health check is exit 2 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 2 ] && grep -q "no health check" <<<"$out"'
  out=$(ctls health "$P-i" 2>&1); rc=$?
  check "health: a container that does not run is exit 2 (rc=$rc)" test "$rc" = 2
  out=$(ctlx health -c "$D/conf" --state-dir "$D/state" "$P-a" 2>&1); rc=$?
  check "health -c DIR --state-dir DIR: without berthd's help (rc=$rc: $(oneline "$out"))" test "$rc" = 0
  out=$(ctlx health --conf-dir "$D/conf" --state-dir "$D/state" "$P-f" 2>&1); rc=$?
  check "health --conf-dir DIR (rc=$rc)" test "$rc" = 1
  cov health -c --conf-dir --state-dir --socket
}

# reload --force, ls --all and destroy on a berthd of their own: two
# running containers whose definitions both go.
t_orphans() {
  local out rc
  env_new orphans
  local S=$D/run/control.sock
  container "$P-o1" "$SLEEPER" 'autostart = true'
  container "$P-o2" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-o1" running && state_is "$P-o2" running'
  rm -f "$D/conf/"*.conf
  out=$(timeout 60 "$CTL" reload --socket "$S" 2>&1); rc=$?
  check "reload: refused when every definition is gone (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "2 of the 2 running" <<<"$out" && state_is "$P-o1" running'
  out=$(timeout 60 "$CTL" reload --socket "$S" --force 2>&1); rc=$?
  check "reload --force: applied, the containers stopped and orphaned (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && wait_until 30 eval "state_is $P-o1 orphaned"'
  out=$(timeout 60 "$CTL" ls --socket "$S" 2>&1)
  check "ls: no orphan without --all" eval '! grep -q "$P-o1" <<<"$out"'
  out=$(timeout 60 "$CTL" ls --socket "$S" --all 2>&1)
  check "ls --all: the orphans ($(oneline "$out"))" eval 'grep -qE "^$P-o1 +orphaned" <<<"$out"'
  check "destroy: the orphan's data is there before" test -d "$D/state/containers/$P-o1"
  out=$(timeout 60 "$CTL" destroy --socket "$S" "$P-o1" 2>&1); rc=$?
  check "destroy: exit 0, its directory is gone (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ ! -e "$D/state/containers/$P-o1" ]'
  container "$P-o2" "$SLEEPER"
  out=$(timeout 60 "$CTL" destroy --socket "$S" "$P-o2" 2>&1); rc=$?
  check "destroy: refused while a definition declares it (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && [ -d "$D/state/containers/$P-o2" ]'
  daemon_stop
  cov reload --force
  cov ls --all
  cov destroy --socket
}

# --timeout DURATION on every verb that has it, against a socket that
# accepts and never answers: the verbs that need berthd end with status 1
# and the documented message within about DURATION; the others use their
# defaults after DURATION. events, whose stream may be quiet from the
# start, is bounded only in its connection: it gets a socket whose backlog
# is full (a berthd that accepts nothing).
t_timeout() {
  local hang=$ROOT/hang.sock full=$ROOT/full.sock v out rc t0 ms sock
  "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0)
cs = []
for i in range(4):
    c = socket.socket(socket.AF_UNIX); c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except OSError:
        pass
    cs.append(c)
time.sleep(300)' "$full" &
  local helpers=($!)
  HPIDS+=($!)
  "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64)
conns = []
end = time.time() + 300
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass' "$hang" &
  helpers+=($!)
  HPIDS+=($!)
  wait_until 5 test -S "$hang"
  wait_until 5 test -S "$full"
  for v in $(ctl_verbs); do
    grep -qx -- --timeout <<<"$(page_opts "$v")" || continue
    case $v in stop | restart) continue ;; esac # their --timeout is the stop timeout
    local args=("$P-a")
    case $v in
    check | plan | reload | ls) args=() ;;
    events) args=() ;;
    exec) args=("$P-a" -- true) ;;
    restore) args=("$P-a" mn1) ;;
    clone) args=("$P-a" "$P-clone") ;;
    template) args=(list) ;;
    export) args=("$P-a" -o "$ROOT/mn-timeout.tar") ;;
    import) args=("$ROOT/mn-timeout.tar") ;;
    cp) args=("$P-a:/etc/passwd" "$ROOT/cp-timeout") ;;
    migrate) args=(--to nowhere "$P-a") ;;
    esac
    sock=$hang
    [ "$v" = events ] && sock=$full
    t0=$(date +%s%N)
    out=$(timeout 30 "$CTL" "$v" --socket "$sock" --timeout 1s --state-dir "$ROOT/nothere" "${args[@]}" </dev/null 2>&1)
    rc=$?
    if [ "$rc" = 2 ] && grep -q "unknown option '--state-dir'" <<<"$out"; then
      out=$(timeout 30 "$CTL" "$v" --socket "$sock" --timeout 1s "${args[@]}" </dev/null 2>&1); rc=$?
    fi
    ms=$(elapsed_ms "$t0")
    if grep -qx -- --state-dir <<<"$(page_opts "$v")" || [ "$v" = check ]; then
      check "$v --timeout 1s: no answer, its defaults after about 1s (${ms} ms, rc=$rc)" \
        eval '[ "$ms" -lt 8000 ] && [ "$rc" != 124 ]'
    else
      check "$v --timeout 1s: exit 1, 'did not answer within 1s' (${ms} ms, rc=$rc: $(oneline "$out"))" \
        eval '[ "$rc" = 1 ] && grep -q "did not answer within 1s" <<<"$out" && [ "$ms" -lt 8000 ]'
    fi
    cov "$v" --timeout
    out=$(timeout 30 "$CTL" "$v" --timeout forever "${args[@]}" </dev/null 2>&1); rc=$?
    check "$v --timeout with no duration is a usage error (rc=$rc)" test "$rc" = 2
  done
  # stop and restart: $BERTH_TIMEOUT is their answer timeout.
  out=$(BERTH_TIMEOUT=1s timeout 30 "$CTL" stop --socket "$hang" "$P-a" 2>&1); rc=$?
  check "stop with BERTH_TIMEOUT=1s: exit 1, 'did not answer within 1s' (rc=$rc)" \
    eval '[ "$rc" = 1 ] && grep -q "did not answer within 1s" <<<"$out"'
  # --socket PATH with nothing there: the verbs that need berthd name it.
  out=$(timeout 30 "$CTL" ls --socket "$ROOT/nothere.sock" 2>&1); rc=$?
  check "ls --socket PATH: that socket, not the default (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "$ROOT/nothere.sock" <<<"$out"'
  stop_pids "${helpers[@]}"
}

# snapshot (ls, rm), restore, clone, export, import on the main berthd
# (test_snap20.sh tests them in depth).
t_snapshot() {
  local out rc
  out=$(ctls snapshot --timeout 30s "$P-l" mn1 2>&1); rc=$?
  check "snapshot --socket --timeout NAME TAG: taken, its method shown (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -qE "snapshot .mn1. of .$P-l.: .*method (copy|reflink|mixed|none)" <<<"$out"'
  out=$(ctls snapshot --json "$P-l" mn2 2>&1); rc=$?
  check "snapshot --json: one document with the tag and method (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(jq_ "d[\"tag\"]" <<<"$out")" = mn2 ] && [ -n "$(jq_ "d[\"method\"]" <<<"$out")" ]'
  out=$(ctls snapshot --json ls "$P-l" 2>&1); rc=$?
  check "snapshot --json ls NAME: both snapshots (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && [ "$(jq_ "\",\".join(s[\"tag\"] for s in d[\"snapshots\"])" <<<"$out")" = mn1,mn2 ]'
  out=$(ctls snapshot rm "$P-l" mn2 2>&1); rc=$?
  check "snapshot rm NAME TAG: gone from ls (rc=$rc)" eval '[ "$rc" = 0 ] && ! ctls snapshot ls "$P-l" | grep -q "^mn2 "'
  out=$(ctls restore --timeout 60s "$P-l" mn1 2>&1); rc=$?
  check "restore --socket --timeout NAME TAG: restored and started again (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && wait_until 30 state_is "$P-l" running'
  out=$(ctls restore "$P-l" nosuch 2>&1); rc=$?
  check "restore of a tag that does not exist: exit 1 (rc=$rc: $(oneline "$out"))" test "$rc" = 1
  out=$(ctls clone --timeout 30s "$P-l" "$P-cl" 2>&1); rc=$?
  check "clone --socket --timeout SRC DST: DST.conf written, not started (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^container $P-cl {" "$D/conf/$P-cl.conf" && ! inspect "$P-cl" >/dev/null'
  rm -f "$D/conf/$P-cl.conf"
  out=$(ctls export --timeout 30s --with-snapshots -o "$ROOT/mn.tar" "$P-l" 2>&1); rc=$?
  check "export --with-snapshots -o FILE: written (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && tar tf "$ROOT/mn.tar" | grep -q "^snapshots/mn1/upper" && tar tf "$ROOT/mn.tar" | tail -1 | grep -qx manifest.json'
  out=$(ctls export --output - "$P-l" 2>/dev/null | tar tf - 2>&1); rc=$?
  check "export --output -: the archive on standard output (rc=$rc)" eval '[ "$rc" = 0 ] && grep -qx manifest.json <<<"$out"'
  out=$(ctls import --timeout 30s --name "$P-im" "$ROOT/mn.tar" 2>&1); rc=$?
  check "import --socket --timeout --name NEW FILE: NEW.conf written, not started (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^container $P-im {" "$D/conf/$P-im.conf" && [ -d "$D/state/containers/$P-im/upper" ]'
  rm -f "$D/conf/$P-im.conf"
  cov snapshot --json --socket --timeout
  cov restore --socket --timeout
  cov clone --socket --timeout
  cov export -o --output --with-snapshots --socket --timeout
  cov import --name --socket --timeout
}

# checkpoint, start --from-checkpoint, import --restore, migrate on the main
# berthd (test_criu20.sh tests them in depth; CRIU refuses this build
# machine's kernel, so checkpoint is checked for its refusal here).
t_criu() {
  local out rc pid
  out=$(ctls import --restore --timeout 60s --name "$P-ir" "$ROOT/mn.tar" 2>&1); rc=$?
  check "import --restore --name NEW FILE: applied and running (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^container $P-ir {" "$D/conf/$P-ir.conf" && state_is "$P-ir" running'
  pid=$(pid_of "$P-ir")
  out=$(ctls checkpoint --leave-running --json "$P-ir" mnck 2>&1); rc=$?
  if criu check >/dev/null 2>&1; then
    check "checkpoint --leave-running --json NAME TAG: taken, still running (rc=$rc: $(oneline "$out"))" \
      eval '[ "$rc" = 0 ] && [ "$(pid_of "$P-ir")" = "$pid" ]'
  else
    check "checkpoint --leave-running --json where CRIU cannot: exit 1, the container untouched (rc=$rc: $(oneline "$out"))" \
      eval '[ "$rc" = 1 ] && grep -qi criu <<<"$out" && [ "$(pid_of "$P-ir")" = "$pid" ]'
  fi
  out=$(ctls migrate --to nowhere --via false "$P-ir" 2>&1); rc=$?
  check "migrate --to HOST --via CMD whose target fails: exit 1, it stays here (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && [ -e "$D/conf/$P-ir.conf" ] && wait_until 30 state_is "$P-ir" running'
  pid=$(pid_of "$P-ir")
  out=$(ctls migrate --to nowhere --via false --live "$P-ir" 2>&1); rc=$?
  check "migrate --live where CRIU cannot or the target fails: exit 1, it runs on here untouched (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && [ -e "$D/conf/$P-ir.conf" ] && [ "$(pid_of "$P-ir")" = "$pid" ] && state_is "$P-ir" running'
  out=$(ctls import --stage mn1 --abort - </dev/null 2>&1); rc=$?
  check "import --stage ID --abort -: the staging removed, exit 0 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "mn1" <<<"$out"'
  ctls stop "$P-ir" >/dev/null 2>&1
  wait_until 30 state_is "$P-ir" stopped
  out=$(ctls start --from-checkpoint mnnosuch "$P-ir" 2>&1); rc=$?
  check "start --from-checkpoint TAG that does not exist: exit 1, not started (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q mnnosuch <<<"$out" && state_is "$P-ir" stopped'
  rm -f "$D/conf/$P-ir.conf"
  ctls reload >/dev/null 2>&1
  ctls destroy "$P-ir" >/dev/null 2>&1
  cov import --restore
  cov checkpoint --leave-running --json --socket
  cov migrate --to --via --socket --live
  cov import --stage --abort
  cov start --from-checkpoint
}

# console and attach on a berthd of their own (test_console21.sh tests
# them in a pty, in depth): a console driven through a pipe, the escape
# sequence (default and --escape), --state-dir without berthd, attach's
# live output and its stdin (stdin = true).
t_console() {
  local out rc S
  env_new console
  S=$D/run/control.sock
  container "$P-c" 'autostart = true' 'console = true' 'command = { "/bin/sh" }'
  container "$P-s" 'autostart = true' 'stdin = true' \
    'command = { "/bin/sh", "-c", "while read l; do echo got-$l; done" }'
  daemon_start
  wait_until 40 eval 'state_is "$P-c" running && state_is "$P-s" running'
  out=$( { sleep 1; printf 'echo mn-$((40+2))\r'; sleep 1; printf '\035q'; } |
    timeout 30 "$CTL" console --socket "$S" --timeout 10s "$P-c" 2>&1); rc=$?
  check "console --socket --timeout: typed input runs, Ctrl-] q detaches with 0 (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^mn-42" <<<"$out" && grep -q "detached from" <<<"$out"'
  out=$( { sleep 1; printf 'echo mn-$((50+5))\r'; sleep 1; printf '\001q'; } |
    BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" console --state-dir "$D/state" --escape ^a "$P-c" 2>&1); rc=$?
  check "console --state-dir --escape ^a: without berthd, Ctrl-A q detaches (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -q "^mn-55" <<<"$out" && state_is "$P-c" running'
  out=$( { echo mn-line; sleep 1.5; } | timeout 30 "$CTL" attach --socket "$S" --timeout 10s "$P-s" 2>&1); rc=$?
  check "attach --socket --timeout: stdin goes to the container, its output comes back, EOF detaches (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -qx got-mn-line <<<"$out" && state_is "$P-s" running'
  out=$( { echo mn-other; sleep 1.5; } | BERTH_SOCKET=$D/run/nothere.sock timeout 30 "$CTL" attach --state-dir "$D/state" "$P-s" 2>&1); rc=$?
  check "attach --state-dir: without berthd (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 0 ] && grep -qx got-mn-other <<<"$out"'
  out=$(timeout 30 "$CTL" console --socket "$S" "$P-s" 2>&1 </dev/null); rc=$?
  check "console of a container without one: exit 1 and what to set (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 1 ] && grep -q "has no console; set console = true" <<<"$out"'
  daemon_stop
  cov console --escape --state-dir --socket
  cov attach --state-dir --socket
}

# Every documented (verb, option) pair ran in a check above.
t_coverage() {
  local v o missing=''
  while read -r v o; do
    [ "$o" = - ] && continue
    grep -qx -- "$v $o" "$COV" || missing="$missing $v:$o"
  done < <(page_pairs)
  check "every option in berthctl(8) was run by a check (not run:${missing:- none})" test -z "$missing"
}

t_page_matches_code
t_berthd_options
main_setup
t_check
t_run
t_plan_reload
t_ls_inspect
t_start_stop_restart
t_kill
t_logs
t_exec
t_stats_top
t_cp
t_freeze
t_wait_events
t_template
t_health
t_timeout
t_snapshot
t_criu
daemon_stop
t_console
t_orphans
t_coverage
daemon_finish "manual: "
exit $fail
