#!/bin/bash
# Integration test of issue 21 (metrics, top): a private berthd with
# --metrics-listen on 127.0.0.1 and a free port, real containers; the
# document scraped with curl and checked by a strict parser of the
# Prometheus text format (and promtool when installed); its numbers against
# the cgroup and the containers (pids, memory limit, restarts after a
# kill, state after a stop, OOM kills, reloads); a port in use and a bad
# address refused at start; scrapers that connect and send nothing do not
# delay berthctl; `berthctl top`'s pids inside and outside.
# Private berthd below one mktemp -d, containers met21-<pid>-*; the EXIT
# trap (daemon_cleanup) stops everything and removes it. Re-runnable.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317 # eval'd check strings; daemon_start takes no args; cleanup_extra runs from the trap
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="met21: "
REAL_BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=met21-$$
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_TIMEOUT
ROOT=$(mktemp -d /tmp/met21.XXXXXX)
trap daemon_cleanup EXIT
BERTHD=$REAL_BERTHD
daemon_require "met21: "
PY=$(command -v python3)
if [ -z "$PY" ] || ! command -v curl >/dev/null; then
  nok "python3 and curl are needed"
  exit 1
fi

# A port nobody listens on (the kernel's choice, released again).
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/metrics
# berthd with --metrics-listen: daemon_start runs $BERTHD with lib.sh's arguments.
cat >"$ROOT/berthd-metrics" <<EOF
#!/bin/sh
exec "$REAL_BERTHD" "\$@" --metrics-listen 127.0.0.1:$PORT
EOF
chmod +x "$ROOT/berthd-metrics"
BERTHD=$ROOT/berthd-metrics

scrape() { curl -s -m 10 "$URL"; }
# metric NAME LABELS: the value of the sample NAME{LABELS} (LABELS as written, may be empty)
metric() {
  local doc
  doc=$(scrape) || return 1
  local want=$1
  [ -z "$2" ] || want="$1{$2}"
  W=$want awk '$1 == ENVIRON["W"] { print $2; f = 1 } END { exit !f }' <<<"$doc"
}
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }

# The strict parser: HELP and TYPE once per family and before its samples,
# every other line `name{labels} value`, names and label names valid,
# label values properly escaped, a family's samples contiguous, histogram
# buckets cumulative and ending with +Inf equal to _count, with _sum.
cat >"$ROOT/check.py" <<'EOF'
import math, re, sys
NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*$')
errors = []
def err(n, msg):
    errors.append("line %d: %s" % (n, msg))
def parse_labels(n, s):
    labels, i = {}, 0
    while i < len(s):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', s[i:])
        if not m:
            err(n, "bad label at %r" % s[i:]); return None
        key = m.group(1); i += m.end(); val = ""
        while True:
            if i >= len(s):
                err(n, "unterminated label value"); return None
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    err(n, "bad escape in label value"); return None
                val += {'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]]; i += 2
            elif c == '"':
                i += 1; break
            elif c == '\n':
                err(n, "raw newline in label value"); return None
            else:
                val += c; i += 1
        if key in labels:
            err(n, "label %s twice" % key)
        labels[key] = val
        if i < len(s):
            if s[i] != ',':
                err(n, "expected , after a label"); return None
            i += 1
    return labels
def value(n, v):
    if v in ("NaN", "+Inf", "-Inf"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(v)
    except ValueError:
        err(n, "bad value %r" % v); return None
text = sys.stdin.read()
if not text.endswith("\n"):
    err(0, "no newline at the end")
types, helps, seen_done, current = {}, {}, set(), None
samples = {}
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("#"):
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
            fam = parts[2]
            if not NAME.match(fam):
                err(n, "bad family name %r" % fam)
            d = helps if parts[1] == "HELP" else types
            if fam in d:
                err(n, "second %s for %s" % (parts[1], fam))
            if fam in samples:
                err(n, "%s of %s after its samples" % (parts[1], fam))
            if parts[1] == "TYPE" and (len(parts) < 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped")):
                err(n, "bad type")
            d[fam] = parts[3] if len(parts) > 3 else ""
            if current and current != fam:
                seen_done.add(current)
            current = fam
        continue
    m = re.match(r'([^{ ]+)(\{(.*)\})? ([^ ]+)( -?[0-9]+)?$', line)
    if not m:
        err(n, "not `name{labels} value`: %r" % line); continue
    name, labels, v = m.group(1), m.group(3), m.group(4)
    if not NAME.match(name):
        err(n, "bad metric name %r" % name)
    lab = parse_labels(n, labels) if labels is not None else {}
    val = value(n, v)
    fam = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
            fam = name[:-len(suf)]
    if fam not in types or fam not in helps:
        err(n, "sample %s without HELP and TYPE before it" % name)
    if fam in seen_done:
        err(n, "family %s is not contiguous" % fam)
    if current and current != fam:
        seen_done.add(current)
    current = fam
    if types.get(fam) == "counter" and val is not None and val < 0:
        err(n, "negative counter")
    samples.setdefault(fam, []).append((name, lab, val))
for fam, t in types.items():
    if t != "histogram":
        continue
    groups = {}
    for name, lab, val in samples.get(fam, []):
        key = tuple(sorted((k, v) for k, v in lab.items() if k != "le"))
        groups.setdefault(key, {"b": [], "sum": None, "count": None})
        g = groups[key]
        if name == fam + "_bucket":
            if "le" not in lab:
                err(0, "%s bucket without le" % fam)
            else:
                g["b"].append((value(0, lab["le"]), val))
        elif name == fam + "_sum":
            g["sum"] = val
        elif name == fam + "_count":
            g["count"] = val
    if not groups:
        err(0, "histogram %s has no samples" % fam)
    for key, g in groups.items():
        b = g["b"]
        if not b or not math.isinf(b[-1][0]):
            err(0, "%s: the last bucket is not +Inf" % fam)
        for (l1, c1), (l2, c2) in zip(b, b[1:]):
            if not l1 < l2 or c2 < c1:
                err(0, "%s: buckets not ascending or not cumulative" % fam)
        if g["sum"] is None or g["count"] is None:
            err(0, "%s: _sum or _count missing" % fam)
        elif b and b[-1][1] != g["count"]:
            err(0, "%s: +Inf bucket %s != _count %s" % (fam, b[-1][1], g["count"]))
for e in errors[:20]:
    print(e)
sys.exit(1 if errors else 0)
EOF

env_new main
# a: stable processes (init, sh, two sleeps), limits, restarted after a kill
container "$P-a" 'autostart = true' 'restart = always' \
  'command = { "/bin/sh", "-c", "sleep 100000 & sleep 100000 & wait" }' \
  'limits {' '    memory = 64M' '    pids = 50' '}'
# b: stopped by the test (its state in the metrics)
container "$P-b" 'autostart = true' 'command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'
# h: a health check that passes
container "$P-h" 'autostart = true' 'command = { "/bin/sh", "-c", "while :; do sleep 1; done" }' \
  'health {' '    command = { "/bin/true" }' '    interval = 1s' '    timeout = 1s' '}'
# o: allocates past its memory limit on request (OOM kills)
container "$P-o" 'autostart = true' 'limits {' '    memory = 16M' '    memory-swap = 16M' '}' \
  'command = { "/bin/sh", "-c", "while :; do if [ -e /hog ]; then rm -f /hog; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail >/dev/null); fi; sleep 0.2; done" }'
daemon_start
for n in a b h o; do
  wait_until 60 state_is "$P-$n" running || nok "$P-$n runs (state $(jget "$P-$n" state))"
done
sleep 1

# ---- the document -----------------------------------------------------------------------

hdr=$(curl -s -m 10 -D - -o "$ROOT/doc" "$URL"); rc=$?
check "GET /metrics: 200 with the text format 0.0.4 (rc=$rc: $(oneline "$(head -c 200 <<<"$hdr")"))" \
  eval '[ "$rc" = 0 ] && grep -q "^HTTP/1.1 200" <<<"$hdr" && grep -qi "^Content-Type: text/plain; version=0.0.4; charset=utf-8" <<<"$hdr"'
out=$("$PY" "$ROOT/check.py" <"$ROOT/doc" 2>&1); rc=$?
check "the document passes the strict format check ($(wc -l <"$ROOT/doc") lines; rc=$rc: $(oneline "$out"))" test "$rc" = 0
if command -v promtool >/dev/null; then
  out=$(promtool check metrics <"$ROOT/doc" 2>&1); rc=$?
  check "promtool check metrics (rc=$rc: $(oneline "$out"))" test "$rc" = 0
else
  note "promtool not installed (Debian package prometheus): the strict parser above stands in for it"
fi
for fam in berth_container_state berth_container_restarts_total berth_container_health_status \
  berth_container_memory_bytes berth_container_memory_limit_bytes berth_container_cpu_seconds_total \
  berth_container_pids berth_container_block_read_bytes_total berth_container_block_written_bytes_total \
  berth_container_network_receive_bytes_total berth_container_network_transmit_bytes_total \
  berth_container_oom_kills_total berth_reloads_total berth_events_total berth_containers \
  berth_start_duration_seconds; do
  grep -q "^# TYPE $fam " "$ROOT/doc" || nok "family $fam is in the document"
done
ok "every documented family is in the document"
out=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
check "another path: 404 ($out)" test "$out" = 404
out=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -d x=1 "$URL")
check "POST: 405 ($out)" test "$out" = 405
out=$(curl -s -m 10 -I -o /dev/null -w '%{http_code}' "$URL")
check "HEAD: 200 ($out)" test "$out" = 200

# ---- against reality ------------------------------------------------------------------------

A_PID=$(pid_of "$P-a")
pids_cg=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ { print $3 }' "/proc/$A_PID/cgroup")
if [ -n "$pids_cg" ] && [ -r "/sys/fs/cgroup/pids$pids_cg/pids.current" ]; then
  want=$(cat "/sys/fs/cgroup/pids$pids_cg/pids.current")
else
  want=$(cat "/sys/fs/cgroup$(awk -F: '$1 == 0 { print $3 }' "/proc/$A_PID/cgroup")/pids.current" 2>/dev/null)
fi
got=$(metric berth_container_pids "name=\"$P-a\"")
check "pids of $P-a: the cgroup's pids.current ($got, cgroup $want)" eval '[ -n "$want" ] && [ "$got" = "$want" ] && [ "$got" = 4 ]'
check "memory limit of $P-a: 64M" metric_is berth_container_memory_limit_bytes "name=\"$P-a\"" 67108864
check "pids limit of $P-a: 50" metric_is berth_container_pids_limit "name=\"$P-a\"" 50
got=$(metric berth_container_memory_bytes "name=\"$P-a\"")
check "memory of $P-a: above zero, below its limit ($got)" eval '[ -n "$got" ] && [ "$got" -gt 0 ] && [ "$got" -lt 67108864 ]'
got=$(metric berth_container_cpu_seconds_total "name=\"$P-a\"")
check "CPU seconds of $P-a: a number ($got)" eval 'awk -v v="$got" "BEGIN { exit !(v != \"\" && v + 0 >= 0) }"'
got=$(metric berth_container_network_receive_bytes_total "name=\"$P-a\"")
check "network of $P-a (network none: only lo, not counted): 0 ($got)" test "$got" = 0
check "state of $P-a: running 1, stopped 0" eval 'metric_is berth_container_state "name=\"$P-a\",state=\"running\"" 1 && metric_is berth_container_state "name=\"$P-a\",state=\"stopped\"" 0'
check "health of $P-h: healthy" wait_until 15 metric_is berth_container_health_status "name=\"$P-h\",status=\"healthy\"" 1
check "no health series for $P-a (no health check)" eval '! scrape | grep -q "^berth_container_health_status{name=\"$P-a\""'
got=$(metric berth_containers 'state="running"')
check "berth_containers running: 4 ($got)" test "$got" = 4
got=$(metric berth_start_duration_seconds_count "")
check "start latency histogram: 4 starts observed ($got)" test "$got" = 4
check "restarts of $P-a: 0" metric_is berth_container_restarts_total "name=\"$P-a\"" 0

# Restarts: the init killed from the host; restart = always brings it back.
kill -KILL "$A_PID"
check "restarts of $P-a: 1 after its init was killed" wait_until 30 metric_is berth_container_restarts_total "name=\"$P-a\"" 1
wait_until 30 state_is "$P-a" running
got=$(metric berth_start_duration_seconds_count "")
check "start latency histogram: the restart observed too ($got)" test "$got" = 5

# State on stop.
ctl stop "$P-b" >/dev/null 2>&1
check "state of $P-b: stopped after stop" wait_until 15 eval 'metric_is berth_container_state "name=\"$P-b\",state=\"stopped\"" 1 && metric_is berth_container_state "name=\"$P-b\",state=\"running\"" 0'
check "no cgroup numbers for the stopped $P-b" eval '! scrape | grep -q "^berth_container_pids{name=\"$P-b\""'

# OOM kills: the container's tail is killed by the OOM killer, the container lives on
# (the hog's oom_score_adj is 1000, so the killer never picks the loop's shell instead).
O_PID=$(pid_of "$P-o")
touch "/proc/$O_PID/root/hog"
check "OOM kills of $P-o: counted" wait_until 30 eval 'got=$(metric berth_container_oom_kills_total "name=\"$P-o\"") && [ "$got" -ge 1 ]'
check "$P-o still runs after the OOM kill" state_is "$P-o" running

# Reloads and events.
before=$(metric berth_events_total "")
ctl reload >/dev/null 2>&1
check "reloads applied: 1 after berthctl reload" wait_until 10 metric_is berth_reloads_total 'result="applied"' 1
got=$(metric berth_events_total "")
check "events counted: more after the reload ($before -> $got)" eval '[ "$got" -gt "$before" ]'
echo 'container {' >"$D/conf/zz-broken.conf"
ctl reload >/dev/null 2>&1
check "reloads refused: 1 after a reload of a broken definition" wait_until 10 metric_is berth_reloads_total 'result="refused"' 1
rm -f "$D/conf/zz-broken.conf"

# ---- scrapers never hold berthd up ---------------------------------------------------------

# 24 connections that send nothing (more than the 16 served at once) and one
# that sends half a request, held open for 30 s.
"$PY" - "$PORT" >/dev/null 2>&1 <<'EOF' &
import socket, sys, time
ss = []
for i in range(24):
    try:
        ss.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5))
    except OSError:
        pass
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    ss.append(s)
except OSError:
    pass
time.sleep(30)
EOF
HPIDS+=($!)
sleep 1
start=$(date +%s.%N)
out=$(ctl ls 2>&1); rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
check "berthctl ls while 25 scrapers hang: answered at once (rc=$rc, ${took}s)" \
  eval '[ "$rc" = 0 ] && grep -q "$P-a" <<<"$out" && awk -v t="$took" "BEGIN { exit !(t < 3) }"'
out=$(ctl stop "$P-h" 2>&1); rc=$?
check "berthctl stop while scrapers hang (rc=$rc)" eval '[ "$rc" = 0 ] && wait_until 15 state_is "$P-h" stopped'
# The idle ones are closed after 10 s: scrapes work again.
check "a scrape succeeds once the idle connections timed out" wait_until 25 eval 'scrape | grep -q "^berth_events_total "'
kill "${HPIDS[-1]}" 2>/dev/null

# ---- start-up errors --------------------------------------------------------------------------

D_MAIN=$D DPID_MAIN=$DPID
env_new second
out=$(timeout 20 "$REAL_BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --metrics-listen "127.0.0.1:$PORT" 2>&1); rc=$?
check "a second berthd on the same port: refused, exit 1, the port named (rc=$rc: $(oneline "$out"))" \
  eval '[ "$rc" = 1 ] && grep -q "127.0.0.1:$PORT is in use" <<<"$out" && [ ! -e "$D/run/control.sock" ]'
for bad in "localhost:9323" "127.0.0.1" "127.0.0.1:0" "127.0.0.1:65536" "::1:9323" "[::1]9323" "[zz]:1" "1.2.3.4:x"; do
  out=$(timeout 20 "$REAL_BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --metrics-listen "$bad" 2>&1); rc=$?
  check "--metrics-listen '$bad': a usage error that names it (rc=$rc: $(oneline "$out"))" \
    eval '[ "$rc" = 2 ] && grep -qF -- "--metrics-listen: '"'"'$bad'"'"'" <<<"$out"'
done
PORT6=$("$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])' 2>/dev/null)
if [ -n "$PORT6" ]; then
  "$REAL_BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" --metrics-listen "[::1]:$PORT6" >>"$D/berthd.log" 2>&1 &
  DPID=$!
  DPIDS+=("$DPID")
  check "an IPv6 address: [::1]:$PORT6 serves" wait_until 20 eval 'curl -s -m 5 "http://[::1]:$PORT6/metrics" | grep -q "^berth_build_info"'
  daemon_stop
else
  note "no IPv6 loopback: [::1] not tried"
fi
D=$D_MAIN DPID=$DPID_MAIN

# ---- top ------------------------------------------------------------------------------------

A_PID=$(pid_of "$P-a")
out=$(ctl top "$P-a" 2>&1); rc=$?
check "top: the documented columns (rc=$rc: $(oneline "$(head -1 <<<"$out")"))" \
  eval '[ "$rc" = 0 ] && head -1 <<<"$out" | grep -qE "^PID +CT-PID +UID +CT-UID +STATE +TIME +COMMAND$"'
check "top: the init is pid 1 inside and its host pid outside ($A_PID)" \
  eval 'awk -v p="$A_PID" "\$1 == p && \$2 == 1 { f = 1 } END { exit !f }" <<<"$out"'
line=$(awk '$NF == "100000" && $(NF-1) == "sleep" { print; exit }' <<<"$out")
hp=$(awk '{ print $1 }' <<<"$line"); cp_=$(awk '{ print $2 }' <<<"$line")
nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$hp/status" 2>/dev/null)
check "top: a sleep's pids match the host's /proc (host $hp, inside $cp_, NSpid $nspid)" \
  eval '[ -n "$hp" ] && [ "$cp_" = "$nspid" ] && [ "$cp_" != "$hp" ] && [ "$(cat /proc/$hp/comm)" = sleep ]'
check "top: uid 0 outside and inside, state S, a time" \
  eval 'awk "{ print \$3, \$4, \$5 }" <<<"$line" | grep -qx "0 0 S" && awk "{ print \$6 }" <<<"$line" | grep -qE "^[0-9]+:[0-9]{2}:[0-9]{2}$"'
out=$(ctl top "$P-b" 2>&1); rc=$?
check "top of a stopped container: exit 1, named (rc=$rc: $(oneline "$out"))" eval '[ "$rc" = 1 ] && grep -q "$P-b" <<<"$out"'

ctl stop "$P-a" "$P-o" >/dev/null 2>&1
daemon_stop
daemon_finish "met21: "
exit $fail
