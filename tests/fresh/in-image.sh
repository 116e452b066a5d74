#!/bin/bash
# in-image.sh — run by check-fresh.sh as root inside the fresh image (chroot,
# own mount, PID and network namespaces): the README's `make run`, bounded,
# until the examples in conf.d/ run; then SIGINT, as Ctrl-C would send, and
# berthd must stop them and exit. Prints ok/not ok lines, then make's output.
set -u
cd /root/berth || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fail=1; }
# A fresh machine's loopback is up.
[ -x /sbin/ip ] && /sbin/ip link set lo up 2>/dev/null

# make in a process group of its own (job control: without it a background
# job starts with SIGINT ignored), so that kill -INT -PGID reaches make, the
# shell of its recipe and make-run.sh, like Ctrl-C in a terminal.
set -m
make run </dev/null >/root/make-run.log 2>&1 &
mk=$!
set +m
SOCK=/root/berth/build/run/run/control.sock
state_of() { # state_of NAME: its STATE column in berthctl ls
  BERTH_SOCKET=$SOCK timeout 5 build/berthctl ls 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'
}
up=''
for ((i = 0; i < 6000; i++)); do # at most 600 s: install, build, template
  kill -0 "$mk" 2>/dev/null || break
  [ -x build/berthctl ] && [ "$(state_of web)" = running ] && [ "$(state_of probe)" = running ] && { up=1; break; }
  sleep 0.1
done
if [ -n "$up" ]; then
  ok "make run: web and probe are running"
  ok "make run installed only the run set: $(dpkg-query -W -f='${Status}\n' libcmocka-dev qemu-system-x86 clang 2>/dev/null | grep -c ' installed$') of cmocka, qemu, clang"
  # probe prints "ok" every 5 s once it fetched web's page over lan0.
  for ((i = 0; i < 150; i++)); do
    BERTH_SOCKET=$SOCK timeout 5 build/berthctl logs probe 2>/dev/null | grep -qx ok && break
    sleep 0.1
  done
  if BERTH_SOCKET=$SOCK timeout 5 build/berthctl logs probe 2>/dev/null | grep -qx ok; then
    ok "probe fetched web's page"
  else
    nok "probe did not fetch web's page in 15 s"
  fi
else
  nok "make run: web and probe did not reach running"
fi
pgid=$(awk '{ print $5 }' "/proc/$mk/stat" 2>/dev/null) # (no procps in a minbase image)
[ -z "$pgid" ] || kill -INT -- "-$pgid" 2>/dev/null
for ((i = 0; i < 600; i++)); do kill -0 "$mk" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$mk" 2>/dev/null; then
  nok "make run still runs 60 s after SIGINT"
  kill -KILL -- "-$pgid" 2>/dev/null
elif [ -n "$up" ]; then
  grep -q '^== berthd exited (0)' /root/make-run.log && ok "SIGINT stops berthd, which exits 0" ||
    nok "berthd did not exit 0 on SIGINT"
  left=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -cE '^(berthd|berth-monitor|berth-init)$')
  [ "$left" = 0 ] && ok "no berthd, monitor or container is left" || nok "$left berth processes are left"
fi
wait "$mk" 2>/dev/null
echo "== make run's output"
cat /root/make-run.log
exit $fail
