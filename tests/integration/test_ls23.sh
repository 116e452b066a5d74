#!/bin/bash
# berthctl ls prints from the reply's text (jsontext.h) and berthd writes
# the reply as text (issue 22): the output must be byte for byte what
# json-c's objects give (BERTH_LS_JSONC=1 takes that path) for plain,
# --json, --names and --all.
#   1. a fake berthd (a Python socket below one mktemp -d) answers List
#      with fixed replies: escapes, unicode, null and missing members,
#      orphans, waiting, long names, every uptime form, unknown members;
#      and replies the text reader leaves to json-c (a fraction, a repeated
#      member, a member of another type, no containers, "continues", an
#      error): stdout, stderr and the exit status compared; the rows of a
#      large reply leave in a few writes (strace), not one per row;
#   2. a real berthd (containers named ls23<pid>-*): running, stopped,
#      failed with an error; ls both ways (uptime masked where it ticked),
#      and each ls --json entry is the head of its inspect.
# The EXIT trap (daemon_cleanup) stops the fake and berthd and removes all.
# shellcheck disable=SC2016,SC2119,SC2317 # eval'd check strings; daemon_start takes no args here; helpers called indirectly
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=ls23$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_STATE_DIR BERTH_LS_JSONC
ROOT=$(mktemp -d /tmp/ls23test.XXXXXX)
trap daemon_cleanup EXIT
daemon_require "ls23: "
OK_PREFIX="ls23: "
FORMS=("" --json --names --all "--json --all" "--names --all")

# ---- 1. a fake berthd with fixed replies ------------------------------------------------------

mkdir -p "$ROOT/fake"
cat >"$ROOT/fake/srv.py" <<'EOF'
import os, socket, sys
# Answers every call with the text of the file REPLY (a NUL appended), for
# at most 15 minutes.
path, reply = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
s.settimeout(900)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    data = b""
    while b"\0" not in data:
        k = c.recv(65536)
        if not k:
            break
        data += k
    with open(reply, "rb") as f:
        c.sendall(f.read() + b"\0")
    c.close()
EOF
FAKE=$ROOT/fake/control.sock
"$PY" "$ROOT/fake/srv.py" "$FAKE" "$ROOT/fake/reply" &
HPIDS+=($!)
wait_until 10 test -S "$FAKE"

# compare TAG: every form of ls against the fake, both paths
compare() {
  local f rc1 rc2 same=1 what=
  for f in "${FORMS[@]}"; do
    # shellcheck disable=SC2086 # the form is words
    BERTH_SOCKET=$FAKE timeout 30 "$CTL" ls $f >"$ROOT/fake/a.out" 2>"$ROOT/fake/a.err"; rc1=$?
    # shellcheck disable=SC2086
    BERTH_LS_JSONC=1 BERTH_SOCKET=$FAKE timeout 30 "$CTL" ls $f >"$ROOT/fake/b.out" 2>"$ROOT/fake/b.err"; rc2=$?
    if ! cmp -s "$ROOT/fake/a.out" "$ROOT/fake/b.out" || ! cmp -s "$ROOT/fake/a.err" "$ROOT/fake/b.err" ||
      [ "$rc1" != "$rc2" ]; then
      same=
      what+="[ls $f: rc $rc1/$rc2, $(diff "$ROOT/fake/a.out" "$ROOT/fake/b.out" | head -4 | oneline "$(cat)")] "
    fi
  done
  check "fake berthd, $1: ls, --json, --names, --all: the same bytes both ways $what" test -n "$same"
}

reply() { printf '%s' "$1" >"$ROOT/fake/reply"; }

# row NAME STATE [MEMBERS [TAIL]]: one container as berthd writes it, the
# members given as raw JSON ("k":v,...) in place of the defaults (in their
# place) or after them, then TAIL as it is. row big N PREFIX: a reply of N.
cat >"$ROOT/fake/row.py" <<'EOF'
import re, sys
def row(name, state, members="", tail=""):
    d = {"name": '"%s"' % name, "state": '"%s"' % state, "orphaned": "false", "health": '"-"', "pid": "0",
         "address": '""', "address6": '""', "restarts": "0", "uptime_sec": "0", "last_status": "-1",
         "error": '""', "declared": "true"}
    for k, v in re.findall(r'"([a-z_0-9]+)":("(?:[^"\\]|\\.)*"|[^,]+)', members):
        d[k] = v
    return "{" + ",".join('"%s":%s' % kv for kv in d.items()) + tail + "}"
if sys.argv[1] == "big":
    n = int(sys.argv[2])
    print('{"parameters":{"containers":[' + ",".join(
        row("%s-%d" % (sys.argv[3], i), "running", '"pid":%d,"uptime_sec":%d' % (1000 + i, i * 37))
        for i in range(n)) + "]}}", end="")
else:
    print(row(*sys.argv[1:]), end="")
EOF
row() { "$PY" "$ROOT/fake/row.py" "$@"; }

rich='{"parameters":{"containers":['
rich+=$(row web running '"pid":4242,"address":"198.18.0.2","uptime_sec":59,"health":"healthy"'),
rich+=$(row "a-very-long-container-name-past-twenty" running '"pid":7,"uptime_sec":61,"restarts":12345678901')
rich+=,$(row db frozen '"pid":99,"uptime_sec":3601,"error":"quote \" back \\ slash \/ tab \t nl \n ctl \u0001 \u00e9 caf\u00e9 raw é"')
rich+=,$(row q running '"uptime_sec":86401,"pid":1')
rich+=,$(row w waiting '"waiting_for":"db \/ x","health":null,"address":null')
rich+=,$(row old orphaned '"orphaned":true,"declared":false')
rich+=,$(row going stopping '"orphaned":true,"pid":5')
rich+=,'{"name":"sparse","state":"stopped"}'
rich+=,$(row extra failed '"error":"exit 1"' ',"unknown":{"a":[1,{"b":null}],"c":"d"},"more":[]')
rich+='],"other":{"x":[true,false]},"n":0}}'
reply "$rich"
compare "a rich reply (escapes, null and missing members, orphans, waiting)"
reply '  {"parameters":{"containers":[]}}'
compare "no container, the reply not at the start"
reply '{"parameters":{"containers":[]}} '
compare "no container"
for odd in '"uptime_sec":1.5' '"pid":"12"' '"orphaned":"yes"' '"name":3' '"error":"\ud83d\ude00"'; do
  reply '{"parameters":{"containers":['"$(row odd running "$odd")"']}}'
  compare "a member json-c reads its own way ($odd)"
done
reply '{"parameters":{"containers":['"$(row odd running '' ',"state":"frozen"')"']}}'
compare "a member twice"
reply '{"parameters":{"containers":[1,"x",null]}}'
compare "containers that are no objects"
reply '{"parameters":{"containers":{"a":1}}}'
compare "containers that are no array"
reply '{"parameters":{"other":[]}}'
compare "no containers member"
reply '{"parameters":{"containers":['"$(row a running)"']},"continues":true}'
compare "a reply that continues"
reply '{"error":"io.berth.InvalidMessage","parameters":{"reason":"no"}}'
compare "an error"
reply '{"parameters":{"containers":[]},"containers":[]}'
compare "more after the parameters"

# A large reply: the rows leave in a few writes.
row big 1000 "$P" >"$ROOT/fake/reply"
compare "1,000 containers"
if command -v strace >/dev/null; then
  for f in "" --json; do
    # shellcheck disable=SC2086
    BERTH_SOCKET=$FAKE strace -f -e trace=write -o "$ROOT/fake/strace" "$CTL" ls $f >"$ROOT/fake/a.out" 2>/dev/null
    n=$(grep -c '^[0-9]* *write(1,' "$ROOT/fake/strace")
    size=$(stat -c %s "$ROOT/fake/a.out")
    check "ls ${f:-(plain)} of 1,000: $size bytes in $n writes (at most one per 64 KiB + 1)" test "$n" -le $((size / 65536 + 1))
  done
else
  note "no strace: the write count is not checked"
fi

# ---- 2. a real berthd -------------------------------------------------------------------------

env_new real
container "$P-run" 'command = { "/bin/sleep", "1000" }' 'autostart = true' 'network { mode = "none" }'
container "$P-idle" 'command = { "/bin/sleep", "1000" }' 'autostart = false' 'network { mode = "none" }'
container "$P-bad" 'command = { "/no/such/command" }' 'autostart = true' 'restart = "no"' 'network { mode = "none" }'
daemon_start
wait_until 30 state_is "$P-run" running
wait_until 30 eval '[ "$(jget "$P-bad" state)" = failed ]'
check "real berthd: $P-bad failed with an error" test -n "$(jget "$P-bad" error)"

# both ways, up to 3 tries (a running container's uptime may tick between them)
real_same() {
  local f=$1 _try
  for _try in 1 2 3; do
    # shellcheck disable=SC2086
    ctl ls $f >"$D/a.out" 2>&1
    # shellcheck disable=SC2086
    BERTH_LS_JSONC=1 ctl ls $f >"$D/b.out" 2>&1
    cmp -s "$D/a.out" "$D/b.out" && return 0
  done
  diff "$D/a.out" "$D/b.out" | head -6 | sed 's/^/# /'
  return 1
}
for f in "${FORMS[@]}"; do
  check "real berthd: ls ${f:-(plain)} the same bytes both ways" real_same "$f"
done
check "real berthd: ls shows the three" test "$(ctl ls --names | grep -c "^$P-")" = 3
# Each ls --json entry is the head of its inspect (uptime aside).
heads() {
  "$PY" - "$@" <<'EOF'
import json, subprocess, sys
ctl, sock = sys.argv[1], sys.argv[2]
env = {"BERTH_SOCKET": sock, "PATH": "/usr/bin:/bin"}
ls = json.loads(subprocess.run([ctl, "ls", "--json"], env=env, capture_output=True, check=True).stdout)
for c in ls["containers"]:
    i = json.loads(subprocess.run([ctl, "inspect", c["name"]], env=env, capture_output=True, check=True).stdout)
    head = dict(list(i.items())[:len(c)])
    for d in (c, head):
        d.pop("uptime_sec", None)
    if list(c.items()) != list(head.items()):
        sys.exit("%s: ls %r, inspect %r" % (c["name"], c, head))
EOF
}
check "real berthd: each ls --json entry is the head of its inspect" heads "$CTL" "$D/run/control.sock"
daemon_stop
for p in "${HPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
HPIDS=()
daemon_finish "ls23: "
exit $fail
