#!/bin/bash
# The control socket and berthctl's side of it under hostile peers (red-team
# wave 2, findings 2, 6 and 7): idle connections and subscribers that never
# read do not lock berthctl out, a slow-loris peer is dropped at the idle
# deadline, berthctl gives up on a server that never answers, a second
# SIGTERM ends `berthctl exec`, and `berthctl logs` escapes a container's
# terminal control sequences on a terminal. Each check runs its own berthd
# on private directories below one mktemp -d, with containers named sc<pid>-*;
# the EXIT trap stops everything started here (lib.sh's daemon_cleanup).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=sc$$
OK_PREFIX='control: '
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_TIMEOUT
ROOT=$(mktemp -d /tmp/btcontrol.XXXXXX)
SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'

trap daemon_cleanup EXIT
daemon_require ""

# ---- finding 6: connection exhaustion -----------------------------------------------------------

# hold SOCK OUT: opens, in forked processes, 200 idle connections from one
# process, 200 from 20 processes (10 each) and 50 event subscribers (5
# processes) that never read; writes "ready" to OUT and holds them until
# killed. Every child dies with the parent (PR_SET_PDEATHSIG).
hold() {
  "$PY" - "$1" "$2" <<'EOF' &
import ctypes, os, signal, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None)
def child(n, subscribe):
    pid = os.fork()
    if pid:
        return pid
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(path)
            if subscribe:
                s.sendall(b'{"method":"io.berth.Manager.Events","more":true}\0')
        except OSError:
            pass
        held.append(s)
    signal.pause()
    os._exit(0)
kids = [child(200, False)]
kids += [child(10, False) for _ in range(20)]
kids += [child(10, True) for _ in range(5)]
time.sleep(3)  # every child has connected (or timed out)
open(out, "w").write("ready\n")
signal.signal(signal.SIGTERM, lambda *a: [os.kill(k, signal.SIGKILL) for k in kids] and os._exit(0))
signal.pause()
EOF
  HPIDS+=($!)
  HOLDER=$!
}

t_exhaustion() {
  env_new exhaust
  daemon_start
  hold "$D/run/control.sock" "$D/ready"
  wait_until 20 test -s "$D/ready"
  local t0 t1 out rc
  t0=$(date +%s%N)
  out=$(BERTH_SOCKET=$D/run/control.sock timeout 10 "$CTL" ls 2>&1); rc=$?
  t1=$(date +%s%N)
  check "with 400 idle connections and 50 subscribers that never read, berthctl ls succeeds within 5 s" \
    eval '[ $rc = 0 ] && [ $(((t1 - t0) / 1000000)) -lt 5000 ]'
  [ $rc = 0 ] || note "rc=$rc after $(((t1 - t0) / 1000000)) ms: $(oneline "$out")"
  check "berthd has at most 128 client connections open" \
    eval '[ "$(ls /proc/$DPID/fd | wc -l)" -lt 170 ]'
  stop_pids "$HOLDER"
  check "berthd serves after the holders are gone" eval 'ctl ls >/dev/null'
  daemon_stop
}

# A peer sending one byte every 2 s, never a whole request: prints the
# seconds until berthd closed the connection, or "open" after 40 s.
slowloris() {
  "$PY" - "$1" <<'EOF'
import select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
t0 = time.monotonic()
msg = b'{"method":"io.berth.Container.List"' + b' ' * 100
for i in range(20):
    try:
        s.send(msg[i:i + 1])
    except OSError:
        print(int(time.monotonic() - t0)); sys.exit(0)
    r, _, _ = select.select([s], [], [], 2)
    if r and s.recv(4096) == b'':
        print(int(time.monotonic() - t0)); sys.exit(0)
print("open")
EOF
}

t_slowloris() {
  env_new slowloris
  daemon_start
  # A quiet subscriber is no idle peer: it stays past the deadline.
  BERTH_SOCKET=$D/run/control.sock "$CTL" events >"$D/events.out" 2>&1 &
  local ev=$!
  HPIDS+=("$ev")
  local secs
  secs=$(slowloris "$D/run/control.sock")
  check "a slow-loris peer (1 byte every 2 s) is dropped at the 10 s idle deadline" \
    eval '[ "$secs" != open ] && [ "$secs" -ge 8 ] && [ "$secs" -le 14 ]'
  note "slow-loris closed after: $secs s"
  check "a quiet event subscriber is still connected after the idle deadline" alive "$ev"
  stop_pids "$ev"
  daemon_stop
}

# ---- finding 2: the client's timeout and interruption ---------------------------------------------

t_client_timeout() {
  env_new mute
  # A server that accepts and never answers.
  "$PY" - "$D/mute.sock" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
EOF
  HPIDS+=($!)
  local mute=$!
  wait_until 10 test -S "$D/mute.sock"
  local t0 t1 out rc
  t0=$(date +%s%N)
  out=$(BERTH_SOCKET=$D/mute.sock BERTH_TIMEOUT=2 timeout 20 "$CTL" ls 2>&1); rc=$?
  t1=$(date +%s%N)
  check "BERTH_TIMEOUT=2: berthctl ls against a mute server fails after about 2 s with a clear message" \
    eval '[ $rc = 1 ] && [ $(((t1 - t0) / 1000000)) -ge 1900 ] && [ $(((t1 - t0) / 1000000)) -lt 6000 ] &&
          echo "$out" | grep -q "did not answer within 2s"'
  note "rc=$rc after $(((t1 - t0) / 1000000)) ms: $(oneline "$out")"
  t0=$(date +%s%N)
  out=$(BERTH_SOCKET=$D/mute.sock timeout 20 "$CTL" ls --timeout 1 2>&1); rc=$?
  t1=$(date +%s%N)
  check "--timeout 1 does the same after 1 s" \
    eval '[ $rc = 1 ] && [ $(((t1 - t0) / 1000000)) -lt 5000 ] && echo "$out" | grep -q "did not answer within 1s"'
  t0=$(date +%s%N)
  out=$(BERTH_SOCKET=$D/mute.sock timeout 60 "$CTL" ls 2>&1); rc=$?
  t1=$(date +%s%N)
  check "by default berthctl ls gives up on a mute server after 30 s" \
    eval '[ $rc = 1 ] && [ $(((t1 - t0) / 1000000)) -lt 35000 ] && echo "$out" | grep -q "did not answer within 30s"'
  stop_pids "$mute"
}

t_exec_interrupt() {
  env_new exec
  container "$P-x" "$SLEEPER" 'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-x" running
  # A command that ignores the forwarded SIGTERM: the second one ends berthctl.
  "$CTL" exec -c "$D/conf" --state-dir "$D/state" "$P-x" -- /bin/sh -c 'trap "" TERM INT; while :; do sleep 1; done' "$P-cmd" \
    </dev/null >/dev/null 2>"$D/exec.err" &
  local ex=$!
  HPIDS+=("$ex")
  sleep 2
  kill -TERM "$ex"
  sleep 1
  check "berthctl exec forwards the first SIGTERM (the command ignores it, berthctl stays)" alive "$ex"
  kill -TERM "$ex"
  check "a second SIGTERM ends berthctl exec within 3 s" wait_until 3 eval '! alive "$ex"'
  stop_pids "$ex"
  check "... and the command it ran is gone" \
    wait_until 5 eval '[ -z "$(pgrep -f -- "$P-cmd")" ]'
  [ -s "$D/exec.err" ] && note "exec: $(oneline "$(cat "$D/exec.err")")"
  daemon_stop
}

# ---- finding 7: terminal escape sequences in logs ------------------------------------------------

t_logs_escape() {
  env_new logs
  # OSC 0 (window title) and OSC 52 (clipboard write), then a marker.
  container "$P-e" \
    'command = { "/bin/sh", "-c", "printf \"title \\033]0;pwned\\007 clip \\033]52;c;cHduZWQ=\\007 cr\\rbs\\177 done\\n\"; while :; do sleep 1; done" }' \
    'autostart = true'
  daemon_start
  wait_until 30 state_is "$P-e" running
  wait_until 10 grep -q done "$D/state/containers/$P-e/console.log"
  BERTH_SOCKET=$D/run/control.sock script -qec "$CTL logs $P-e" /dev/null >"$D/tty.out" 2>&1 </dev/null
  check "logs on a terminal: no raw ESC, BEL or DEL byte reaches the terminal" \
    eval '! LC_ALL=C grep -q "[$(printf "\033\007\177")]" "$D/tty.out"'
  check "logs on a terminal: the sequences are shown escaped (\\x1b]0;pwned\\x07, \\x1b]52;c;...)" \
    eval 'grep -qF "title \\x1b]0;pwned\\x07 clip \\x1b]52;c;cHduZWQ=\\x07 cr\\x0dbs\\x7f done" "$D/tty.out"'
  note "tty: $(oneline "$(cat -v "$D/tty.out")")"
  BERTH_SOCKET=$D/run/control.sock script -qec "$CTL logs --raw $P-e" /dev/null >"$D/raw.out" 2>&1 </dev/null
  check "logs --raw on a terminal passes the bytes through" \
    grep -qF "$(printf 'title \033]0;pwned\007 clip \033]52;c;cHduZWQ=\007')" "$D/raw.out"
  ctl logs "$P-e" >"$D/pipe.out" 2>&1
  check "logs into a pipe is raw, as written" \
    grep -qF "$(printf 'title \033]0;pwned\007 clip \033]52;c;cHduZWQ=\007 cr\rbs\177 done')" "$D/pipe.out"
  daemon_stop
}

if [ $# -gt 0 ]; then
  for t in "$@"; do "$t"; done
else
  t_exhaustion
  t_slowloris
  t_client_timeout
  t_exec_interrupt
  t_logs_escape
fi

daemon_finish ""
exit $fail
