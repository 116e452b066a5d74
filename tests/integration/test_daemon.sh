#!/bin/bash
# Integration test of berthd and berthctl's daemon verbs (issue 7): every
# check starts its own berthd on private conf/state/run directories below one
# mktemp -d, with busybox containers named btd<pid>-*, and stops it again.
# Waits are bounded polls of `berthctl inspect`. The EXIT trap stops every
# berthd started here (SIGTERM, then SIGKILL), kills what is left of their
# monitors and containers (found by the temp dir in their argv, never by
# program name: a container's init carries berthd's command line), removes
# leftover cgroups of ours and the temp dir.
# shellcheck disable=SC2034 # variables read in the eval'd strings of check
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=btd$$ # container names: unique on the host, cgroups are named after them
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/btdaemon.XXXXXX)

SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

# global events (also those without a container name) in the backlog
all_events() { BERTH_SOCKET=$D/run/control.sock timeout 2 "$CTL" events --json 2>/dev/null; }
names() { ctl ls --names 2>/dev/null | sort | tr '\n' ' '; }
memcg_of() { # memory.limit_in_bytes path of container NAME
  local path
  path=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  echo "/sys/fs/cgroup/memory${path%/}/berth/$1/memory.limit_in_bytes"
}

trap daemon_cleanup EXIT
daemon_require "daemon: "

# ---- 1. startup, autostart, sd_notify ---------------------------------------------------

t_startup() {
  env_new startup
  container "$P-a" "$SLEEPER" 'autostart = true'
  container "$P-b" "$SLEEPER" 'autostart = true'
  container "$P-m" "$SLEEPER" # not autostarted
  export NSOCK=$D/notify.sock NOUT=$D/notify.out
  "$PY" -c '
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(os.environ["NSOCK"])
s.settimeout(120)
with open(os.environ["NOUT"], "a") as f:
    while True:
        try:
            m = s.recv(65536)
        except socket.timeout:
            break
        f.write(m.decode(errors="replace") + "\n")
        f.flush()
' &
  HPIDS+=($!)
  local lp=$!
  wait_until 10 test -S "$NSOCK"
  : >"$NOUT"
  daemon_start env NOTIFY_SOCKET="$NSOCK"
  check "startup: autostart containers reach running" \
    wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  check "startup: a container without autostart stays stopped" state_is "$P-m" stopped
  check "startup: READY=1 arrives on NOTIFY_SOCKET" wait_until 10 grep -qx 'READY=1' "$NOUT"
  check "startup: STATUS= says 2 running" wait_until 10 grep -q '^STATUS=2 running' "$NOUT"
  grep -q '^STATUS=' "$NOUT" || note "notify: $(tr '\n' '|' <"$NOUT")"
  daemon_stop
  check "startup: STOPPING=1 on SIGTERM" grep -qx 'STOPPING=1' "$NOUT"
  kill "$lp" 2>/dev/null
  unset NSOCK NOUT

  # The same without NOTIFY_SOCKET.
  env_new startup-plain
  container "$P-a" "$SLEEPER" 'autostart = true'
  daemon_start
  check "startup: works without NOTIFY_SOCKET" wait_until 30 state_is "$P-a" running
  daemon_stop; local rc=$?
  check "startup: berthd exits 0 on SIGTERM and leaves nothing running" eval '[ $rc = 0 ] && wait_until 10 nothing_left'
}

# ---- 1b. berthd is named berthd (not memfd:berth) ---------------------------------------------

# berthd runs from its own binary (nothing of it is ever visible inside a
# container: exec and probes enter through berth-init), so ps, pgrep, top
# and systemctl status show its name, not a memfd's.
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
t_process_name() {
  env_new name
  container "$P-a" "$SLEEPER" 'autostart = true'
  daemon_start
  check "name: pgrep -x berthd finds the daemon" eval 'pgrep -x berthd | grep -qx "$DPID"'
  local comm
  comm=$(ps -o comm= -p "$DPID")
  check "name: ps -o comm= prints berthd" [ "$comm" = berthd ]
  [ "$comm" = berthd ] || note "comm: '$comm'"
  check "name: pgrep -f finds it by its arguments" eval 'pgrep -f "^$BERTHD " | grep -qx "$DPID"'
  check "name: /proc/PID/exe is the berthd binary, not a memfd" \
    eval '[ "$(readlink "/proc/$DPID/exe")" = "$(readlink -f "$BERTHD")" ]'
  # berthctl exec shows as berthctl while its command runs.
  if wait_until 30 state_is "$P-a" running; then
    BERTH_SOCKET=$D/run/control.sock timeout 30 "$CTL" exec -c "$D/conf" --state-dir "$D/state" "$P-a" -- sleep 20 >"$D/exec.out" 2>&1 &
    local xp=$! cp=''
    HPIDS+=("$xp")
    # $xp is timeout(1); berthctl is its child.
    wait_until 10 eval 'cp=$(pgrep -P "$xp" | head -n1); [ -n "$cp" ] && [ "$(comm_of "$cp")" = berthctl ]'
    check "name: berthctl exec shows as berthctl" [ "$(comm_of "$cp")" = berthctl ]
    [ "$(comm_of "$cp")" = berthctl ] || note "exec: $(oneline "$(cat "$D/exec.out")")"
    kill "$xp" 2>/dev/null
    [ -z "$cp" ] || kill "$cp" 2>/dev/null
    wait "$xp" 2>/dev/null
  else
    nok "name: $P-a did not reach running"
  fi
  daemon_stop
}

# ---- 2-6. reload --------------------------------------------------------------------------

t_reload_nothing() {
  env_new reload0
  container "$P-a" "$SLEEPER" 'autostart = true' 'limits { memory = 32M }'
  container "$P-b" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running'
  local a b r same=1
  a=$(pid_of "$P-a") b=$(pid_of "$P-b")
  for r in 1 2 3; do
    ctl reload >/dev/null 2>&1 || same=0
    [ "$(pid_of "$P-a")" = "$a" ] && [ "$(pid_of "$P-b")" = "$b" ] || same=0
  done
  check "reload: 3 reloads with nothing changed keep every PID" eval '[ $same = 1 ] && [ "$a" -gt 0 ] && alive "$a" && alive "$b"'
  check "reload: plan says nothing to do" eval 'ctl plan | grep -q "nothing to do"'
  daemon_stop
}

t_reload_command() {
  env_new reload-cmd
  container "$P-x" "$SLEEPER" 'autostart = true'
  container "$P-y" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-x" running && state_is "$P-y" running'
  local x y plan
  x=$(pid_of "$P-x") y=$(pid_of "$P-y")
  container "$P-x" 'command = { "/bin/sh", "-c", "while :; do sleep 2; done" }' 'autostart = true'
  plan=$(ctl plan 2>&1)
  check "reload: plan shows restart of the changed container because of its command" \
    eval 'printf "%s\n" "$plan" | grep -E "^restart +$P-x " | grep -q command'
  printf '%s\n' "$plan" | grep -q "$P-y" && { nok "reload: plan leaves the unchanged container alone"; note "$plan"; } ||
    ok "reload: plan leaves the unchanged container alone"
  ctl reload >/dev/null 2>&1
  check "reload: the changed container runs again with a new PID" \
    wait_until 20 eval 'state_is "$P-x" running && [ "$(pid_of "$P-x")" != "$x" ] && ! alive "$x"'
  check "reload: the other container keeps its PID" eval '[ "$(pid_of "$P-y")" = "$y" ]'
  check "reload: the new command runs" eval 'jget "$P-x" command | grep -q "sleep 2"'
  daemon_stop
}

t_reload_memory() {
  env_new reload-mem
  container "$P-m" "$SLEEPER" 'autostart = true' 'limits { memory = 32M }'
  daemon_start
  wait_until 30 state_is "$P-m" running
  local pid f
  pid=$(pid_of "$P-m") f=$(memcg_of "$P-m")
  check "reload: the memory limit starts at 32M" eval '[ "$(cat "$f" 2>/dev/null)" = 33554432 ]'
  container "$P-m" "$SLEEPER" 'autostart = true' 'limits { memory = 48M }'
  ctl reload >/dev/null 2>&1
  check "reload: a changed memory limit is applied live (same PID, 48M in $(basename "$(dirname "$f")")/memory.limit_in_bytes)" \
    eval '[ "$(pid_of "$P-m")" = "$pid" ] && alive "$pid" && [ "$(cat "$f" 2>/dev/null)" = 50331648 ]'
  daemon_stop
}

t_reload_remove() {
  env_new reload-rm
  container "$P-k" "$SLEEPER" 'autostart = true'
  container "$P-r" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 eval 'state_is "$P-k" running && state_is "$P-r" running'
  local r k
  r=$(pid_of "$P-r") k=$(pid_of "$P-k")
  check "reload: the container's directory exists before" test -d "$D/state/containers/$P-r"
  rm "$D/conf/$P-r.conf"
  ctl reload >/dev/null 2>&1
  check "reload: a removed file stops its container and drops it from ls" \
    wait_until 20 eval '[ "$(names)" = "$P-k " ] && ! alive "$r"'
  check "reload: the removed container's directory under state/containers is kept (orphaned)" test -d "$D/state/containers/$P-r"
  check "reload: the remaining container keeps its PID" eval '[ "$(pid_of "$P-k")" = "$k" ]'
  daemon_stop
}

t_reload_invalid() {
  env_new reload-bad
  container "$P-a" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-a" running
  local a out rc
  a=$(pid_of "$P-a")
  container "$P-a" 'command = { "/bin/sh", "-c", "while :; do sleep 3; done" }' 'autostart = true'
  printf 'container %s-bad {\n    template = "busybox"\n    no-such-key = 1\n}\n' "$P" >"$D/conf/bad.conf"
  out=$(ctl reload 2>&1); rc=$?
  check "reload: an invalid file makes berthctl reload fail" test "$rc" != 0
  check "reload: the error names FILE:LINE" eval 'printf "%s\n" "$out" | grep -q "bad.conf:3"'
  [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -q "bad.conf:3" || note "reload said: $out"
  check "reload: after a refused reload nothing running changed" \
    eval 'sleep 1; [ "$(pid_of "$P-a")" = "$a" ] && alive "$a" && [ "$(names)" = "$P-a " ]'
  check "reload: event reload-refused" eval 'all_events | grep -q "\"reload-refused\""'
  daemon_stop
}

# ---- 7. order ------------------------------------------------------------------------------

t_order() {
  env_new order
  chmod 0777 "$D/shared"
  # Each appends: writable to all (with idmap each container has ids of its own).
  install -m 0666 /dev/null "$D/shared/order"
  local n
  for n in a b c; do
    local after=
    [ $n = b ] && after="after = { \"$P-a\" }"
    [ $n = c ] && after="after = { \"$P-b\" }"
    # start-order reversed: after must win over it
    local so=30
    [ $n = b ] && so=20
    [ $n = c ] && so=10
    container "$P-$n" \
      "command = { \"/bin/sh\", \"-c\", 'trap \"echo $n >> /shared/order; exit 0\" TERM; while :; do sleep 0.2; done' }" \
      'autostart = true' "start-order = $so" "$after" \
      "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }"
  done
  daemon_start
  check "order: a, b, c reach running" \
    wait_until 30 eval 'state_is "$P-a" running && state_is "$P-b" running && state_is "$P-c" running'
  local ta tb tc
  ta=$(events "$P-a" | awk '$2 == "started" { print $1; exit }')
  tb=$(events "$P-b" | awk '$2 == "started" { print $1; exit }')
  tc=$(events "$P-c" | awk '$2 == "started" { print $1; exit }')
  check "order: started in dependency order a < b < c" eval '[ -n "$ta" ] && [ -n "$tb" ] && [ -n "$tc" ] && [ "$ta" -lt "$tb" ] && [ "$tb" -lt "$tc" ]'
  daemon_stop
  check "order: shutdown stops them in reverse: c, b, a" eval '[ "$(tr "\n" " " <"$D/shared/order" 2>/dev/null)" = "c b a " ]'
  [ "$(tr '\n' ' ' <"$D/shared/order" 2>/dev/null)" = "c b a " ] || note "order file: $(tr '\n' ' ' <"$D/shared/order" 2>/dev/null)"
}

# ---- 8-9. restart policy --------------------------------------------------------------------

t_backoff() {
  env_new backoff
  container "$P-f" 'command = { "/bin/sh", "-c", "exit 1" }' 'autostart = true' 'restart = "on-failure"' \
    'restart-delay = 200ms' 'restart-limit = 3'
  daemon_start
  check "backoff: a container exiting 1 ends failed at restart-limit 3" wait_until 30 state_is "$P-f" failed
  local starts gaps
  starts=$(events "$P-f" | awk '$2 == "started" { print $1 }' | tr '\n' ' ')
  gaps=$(echo "$starts" | awk '{ for (i = 2; i <= NF; i++) printf "%d ", ($i - $(i - 1)) / 1000 }')
  note "gaps between starts (ms): $gaps"
  check "backoff: started 4 times (3 restarts)" eval '[ "$(count_events "$P-f" started)" = 4 ] && [ "$(jget "$P-f" restarts)" = 3 ]'
  check "backoff: delays between starts grow and are at least 200, 400, 800 ms" \
    eval 'echo "$gaps" | awk "{ exit !(NF == 3 && \$1 >= 200 && \$2 >= 400 && \$3 >= 800 && \$1 < \$2 && \$2 < \$3) }"'
  check "backoff: restarting events say 200ms, 400ms, 800ms" \
    eval '[ "$(events "$P-f" | awk "\$2 == \"restarting\" { print \$4 }" | tr "\n" " ")" = "200ms 400ms 800ms " ]'
  check "backoff: the failed event names the restart limit" has_event "$P-f" failed "restart-limit 3"
  daemon_stop
}

t_operator_stop() {
  env_new opstop
  container "$P-s" "$SLEEPER" 'autostart = true' 'restart = "always"' 'restart-delay = 100ms'
  daemon_start
  wait_until 30 state_is "$P-s" running
  local pid
  pid=$(pid_of "$P-s")
  ctl stop "$P-s"
  check "stop: berthctl stop stops a restart=always container" wait_until 20 eval 'state_is "$P-s" stopped && ! alive "$pid"'
  sleep 1.5
  check "stop: it is not restarted" eval 'state_is "$P-s" stopped && [ "$(count_events "$P-s" started)" = 1 ]'
  ctl start "$P-s"
  check "stop: berthctl start brings it back with a new PID" \
    wait_until 20 eval 'state_is "$P-s" running && [ "$(pid_of "$P-s")" != "$pid" ]'
  daemon_stop
}

# ---- 10. kill -9 berthd and re-adoption ---------------------------------------------------------

t_adopt() {
  env_new adopt
  container "$P-p" "$SLEEPER" 'autostart = true' 'restart = "always"'
  container "$P-q" "$SLEEPER" 'autostart = true' 'restart = "always"' 'restart-delay = 100ms'
  daemon_start
  wait_until 30 eval 'state_is "$P-p" running && state_is "$P-q" running'
  local p q
  p=$(pid_of "$P-p") q=$(pid_of "$P-q")
  daemon_kill9
  check "adopt: kill -9 berthd leaves its containers running" eval 'sleep 0.5; [ "$p" -gt 0 ] && alive "$p" && alive "$q"'
  daemon_start
  check "adopt: a new berthd re-adopts them with the same PIDs" \
    wait_until 20 eval '[ "$(pid_of "$P-p")" = "$p" ] && [ "$(pid_of "$P-q")" = "$q" ]'
  check "adopt: ls shows the same PIDs" eval 'ctl ls | grep -E "^$P-p +running +- +$p " >/dev/null'
  check "adopt: event adopted" has_event "$P-p" adopted "pid $p"
  # Down again; one container's init dies meanwhile.
  daemon_kill9
  kill -KILL "$q"
  wait_until 10 test -e "$D/state/containers/$P-q/exit"
  daemon_start
  check "adopt: a container that died while berthd was down is reported exited with status 137" \
    wait_until 10 has_event "$P-q" exited "status 137"
  check "adopt: and restarted (restart = always)" \
    wait_until 20 eval 'state_is "$P-q" running && [ "$(pid_of "$P-q")" != "$q" ] && [ "$(pid_of "$P-q")" -gt 0 ]'
  check "adopt: the other container still has its PID" eval '[ "$(pid_of "$P-p")" = "$p" ] && alive "$p"'
  daemon_stop
  check "adopt: adopted containers stop with berthd" wait_until 10 nothing_left
}

# ---- 11-12. control socket ------------------------------------------------------------------------

t_socket_garbage() {
  env_new socket
  container "$P-g" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-g" running
  local out
  out=$(SOCK=$D/run/control.sock "$PY" - <<'EOF'
import json, os, socket
path = os.environ["SOCK"]
def exchange(data, close_early=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
    try:
        s.sendall(data)
    except OSError as e:
        return "send:" + type(e).__name__
    if close_early:
        s.close()
        return "closed"
    got = b""
    try:
        while b"\0" not in got:
            k = s.recv(65536)
            if not k:
                break
            got += k
    except OSError as e:
        return "recv:" + type(e).__name__
    finally:
        s.close()
    if not got:
        return "eof"
    try:
        return json.loads(got.split(b"\0")[0]).get("error", "no error")
    except ValueError:
        return "unparsable"
print("random", exchange(os.urandom(8192)))
print("half", exchange(b'{"method": "io.berth.Container.List", "param', close_early=True))
print("big", exchange(b'{"method": "' + b"a" * 100000 + b'"}\0'))
print("badjson", exchange(b'{"method": \0'))
print("array", exchange(b'["io.berth.Container.List"]\0'))
print("params", exchange(b'{"method": "io.berth.Container.List", "parameters": [1]}\0'))
print("unknown", exchange(b'{"method": "io.berth.Nope"}\0'))
EOF
)
  note "garbage replies: $(echo "$out" | tr '\n' ' ')"
  check "socket: invalid JSON and a JSON array get io.berth.InvalidMessage" \
    eval 'echo "$out" | grep -qx "badjson io.berth.InvalidMessage" && echo "$out" | grep -qx "array io.berth.InvalidMessage"'
  check "socket: an oversized message is refused" eval 'echo "$out" | grep -E "^big (io.berth.InvalidMessage|send:|recv:|eof)" >/dev/null'
  check "socket: after garbage berthd is alive and serves ls" \
    eval 'alive "$DPID" && ctl ls | grep -q "^$P-g .*running"'
  # A non-root peer: the directories are opened up for the moment.
  local mroot mdir mrun
  mroot=$(stat -c %a "$ROOT") mdir=$(stat -c %a "$D") mrun=$(stat -c %a "$D/run")
  chmod 0711 "$ROOT" "$D"
  chmod 0755 "$D/run"
  local denied
  denied=$(setpriv --reuid nobody --regid nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect:" + type(e).__name__)
    sys.exit(0)
s.sendall(b"{\"method\": \"io.berth.Container.List\"}\0")
print(s.recv(4096).split(b"\0")[0].decode())' "$D/run/control.sock" 2>&1)
  check "socket: the 0600 socket refuses a non-root peer (EACCES)" eval 'echo "$denied" | grep -q "connect:PermissionError"'
  chmod 0666 "$D/run/control.sock"
  denied=$(setpriv --reuid nobody --regid nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
try:
    s.sendall(b"{\"method\": \"io.berth.Container.List\"}\0")
except OSError:
    pass  # berthd may have answered and closed before the call arrives
print(s.recv(4096).split(b"\0")[0].decode())' "$D/run/control.sock" 2>&1)
  chmod 0600 "$D/run/control.sock"
  chmod "$mrun" "$D/run"
  chmod "$mdir" "$D"
  chmod "$mroot" "$ROOT"
  check "socket: a non-root peer gets io.berth.PermissionDenied" eval 'echo "$denied" | grep -q "io.berth.PermissionDenied"'
  echo "$denied" | grep -q PermissionDenied || note "non-root peer got: $denied"
  check "socket: berthd still serves after the non-root peer" eval 'alive "$DPID" && ctl ls >/dev/null'
  daemon_stop
}

t_socket_mode() {
  env_new sockmode
  daemon_start
  check "socket: control.sock is a pathname socket with mode 0600" \
    eval '[ "$(stat -c "%F %a %U" "$D/run/control.sock")" = "socket 600 root" ] && grep -qF " $D/run/control.sock" /proc/net/unix'
  check "socket: the run directory is 0700" eval '[ "$(stat -c %a "$D/run")" = 700 ]'
  check "socket: no abstract berth socket exists" eval '[ "$(grep -c "@.*berth" /proc/net/unix)" = 0 ]'
  daemon_stop
  check "socket: berthd removes its socket on exit" eval '! test -e "$D/run/control.sock"'
}

# ---- 13. logs ----------------------------------------------------------------------------------------

t_logs() {
  env_new logs
  chmod 0777 "$D/shared"
  local line=0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq
  local nlines=104858 # lines of 100 bytes: 10 MB
  container "$P-l" \
    "command = { \"/bin/sh\", \"-c\", 'echo hello-from-$P; while [ ! -e /shared/go ]; do sleep 0.2; done; yes $line | head -n $nlines; echo end-of-output; touch /shared/done; while :; do sleep 1; done' }" \
    'autostart = true' 'log { max-size = 1M max-files = 20 }' \
    "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }"
  daemon_start
  wait_until 30 state_is "$P-l" running
  check "logs: berthctl logs shows the container's output" \
    wait_until 10 eval 'ctl logs "$P-l" 2>/dev/null | grep -qx "hello-from-$P"'
  local pid dir
  pid=$(pid_of "$P-l") dir=$D/state/containers/$P-l
  daemon_kill9
  touch "$D/shared/go"
  check "logs: with berthd gone the container writes 10 MB and keeps running" \
    eval 'wait_until 60 test -e "$D/shared/done" && alive "$pid"'
  logs_complete() {
    local k files=()
    for ((k = 20; k >= 1; k--)); do [ -f "$dir/console.log.$k" ] && files+=("$dir/console.log.$k"); done
    files+=("$dir/console.log")
    # the lines of the records (lib/logfmt.h), as berthctl logs joins them
    local text
    text=$(ctl logs --state-dir "$D/state" "$P-l" 2>/dev/null)
    [ "${#files[@]}" -ge 1 ] && [ "$(grep -cx "$line" <<<"$text")" = "$nlines" ] &&
      [ "$(tail -n1 <<<"$text")" = end-of-output ]
  }
  check "logs: the log and its rotated files hold all 10 MB, in order" wait_until 20 logs_complete
  logs_complete || note "lines: $(cat "$dir"/console.log* | grep -cx "$line"), last: $(tail -c 100 "$dir/console.log" | tr '\n' '|')"
  local nf big
  nf=$(find "$dir" -maxdepth 1 -regex '.*/console\.log\(\.[0-9]+\)?' | wc -l)
  big=$(find "$dir" -maxdepth 1 -name 'console.log*' -size +1024k | wc -l)
  note "log files: $nf, bytes: $(cat "$dir"/console.log* | wc -c)"
  check "logs: rotated at 1M into at least 10 files, none larger than 1M" eval '[ "$nf" -ge 10 ] && [ "$nf" -le 20 ] && [ "$big" = 0 ]'
  daemon_start
  check "logs: the new berthd re-adopts the writer" wait_until 20 eval '[ "$(pid_of "$P-l")" = "$pid" ]'
  daemon_stop
}

# ---- 14. wait ------------------------------------------------------------------------------------------

t_wait() {
  env_new wait
  chmod 0777 "$D/shared"
  echo 5 >"$D/shared/code"
  container "$P-w" 'command = { "/bin/sh", "-c", "sleep 2; exit 3" }' 'autostart = true' 'restart = "no"'
  container "$P-v" 'command = { "/bin/sh", "-c", "sleep 3; exit $(cat /shared/code)" }' 'autostart = true' \
    'restart = "always"' 'restart-delay = 10ms' \
    "mount shared { type = \"bind\" source = \"$D/shared\" target = \"/shared\" }"
  daemon_start
  wait_until 30 state_is "$P-w" running
  ctl wait "$P-w"
  check "wait: berthctl wait returns the exit status 3 of a running container" test $? = 3
  ctl wait "$P-w"
  check "wait: ... and of one that has exited already" test $? = 3
  # After an exit with 5 and a restart, wait is for the next exit, not the old one.
  wait_until 30 eval '[ "$(jget "$P-v" restarts)" -ge 1 ] 2>/dev/null && state_is "$P-v" running'
  echo 7 >"$D/shared/code"
  ctl wait "$P-v"
  check "wait: returns the status of the next exit, not an older one (7, not 5)" test $? = 7
  daemon_stop
}

# test_daemon.sh [t_NAME...]: only those checks (for debugging)
if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_startup
  t_process_name
  t_reload_nothing
  t_reload_command
  t_reload_memory
  t_reload_remove
  t_reload_invalid
  t_order
  t_backoff
  t_operator_stop
  t_adopt
  t_socket_garbage
  t_socket_mode
  t_logs
  t_wait
fi

daemon_finish "daemon: "
exit $fail
