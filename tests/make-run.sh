#!/bin/bash
# make-run.sh BUILD — `make run`: runs berthd in the foreground on the example
# definitions in conf.d/, with a private state and run directory under
# BUILD/run/ (the busybox template built on the first start stays there, so
# later runs start in about a second). Ctrl-C (or SIGTERM) stops every
# container in reverse order and exits.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
TOP=$PWD
B=$TOP/$BUILD
[ "$(id -u)" = 0 ] || { echo "make run: berthd needs root (sudo make run)" >&2; exit 1; }
for p in berthd berthctl berth-monitor berth-init; do
  [ -x "$B/$p" ] || { echo "make run: $B/$p missing (make progs)" >&2; exit 1; }
done
"$B/berthctl" check -c conf.d || { echo "make run: conf.d/ is invalid" >&2; exit 1; }

DIR=$B/run
mkdir -p "$DIR/state" "$DIR/run"
SOCK=$DIR/run/control.sock
if [ -S "$SOCK" ] && BERTH_SOCKET=$SOCK timeout 5 "$B/berthctl" ls >/dev/null 2>&1; then
  echo "make run: a berthd already runs on $SOCK (stop it with Ctrl-C in its shell)" >&2
  exit 1
fi
first=""
[ -d "$DIR/state/templates/busybox" ] || first=" (first start: builds the busybox template, a few seconds)"

cat <<MSG
== berthd on $TOP/conf.d$first
   state in $DIR/state, control socket $SOCK

   From another shell (as root):
     export BERTH_SOCKET=$SOCK
     $B/berthctl ls                 # web and probe, running
     $B/berthctl logs -f probe      # "ok" every 5 s: probe fetches web's page
     wget -qO- http://198.18.0.10/  # web's page, from this host over lan0
     $B/berthctl reload             # after editing conf.d/*.conf
   web's port 80 is published on this host's port 8080 for other hosts
   (DNAT: not through 127.0.0.1).

   Ctrl-C here stops every container (reverse order) and berthd.
MSG

# berthd runs in a process group of its own (set -m: job control), so that
# Ctrl-C reaches this script only, not the container monitors in berthd's
# group; the script passes SIGINT on to berthd, which stops everything in
# order. (Without job control a script's background job would also start
# with SIGINT ignored.)
set -m
"$B/berthd" -c "$TOP/conf.d" --state-dir "$DIR/state" --run-dir "$DIR/run" --foreground < /dev/null &
pid=$!
stop() { kill -INT "$pid" 2>/dev/null; }
trap stop INT TERM HUP
rc=0
# wait returns early when a trapped signal arrives: wait again (bounded by
# berthd's own stop timeouts; a second Ctrl-C sends SIGINT again).
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"; rc=$?
done
trap - INT TERM HUP
echo "== berthd exited ($rc)"
exit $rc
