#!/bin/sh
# Runs inside the cgroup v2 VM: real containers with `berthctl run`, checked
# from the VM's host side (the container's cgroup files) and from inside.
# Prints "ok ..." / "not ok ...".
cd /work
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export BERTH_TEMPLATES=/work/templates
S=/tmp/state
C=/work/conf
B=/work/berthctl
ok() { echo "ok v2-runtime: $*"; }
nok() { echo "not ok v2-runtime: $*"; }
own=$(sed -n 's/^0:://p' /proc/self/cgroup)

out=$($B run -c $C --state-dir $S lim -- /bin/sh -c 'echo $$; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; cat /proc/self/cgroup' 2>&1)
echo "$out" | grep -q "^2$" && ok "the workload is PID 2 under berth's init" || nok "pid: $out"
echo "$out" | grep -q "CapEff:.*00000000a80425fb" && ok "default capabilities" || nok "caps: $out"
echo "$out" | grep -q "NoNewPrivs:.*1" && echo "$out" | grep -q "Seccomp:.*2" && ok "no_new_privs and seccomp" || nok "nnp/seccomp: $out"
echo "$out" | grep -q "^0::/$" && ok "the container sees its cgroup as / (cgroup namespace)" || nok "cgroup: $out"

# Limits on the host side while a container sleeps.
$B run -c $C --state-dir $S lim -- /bin/sleep 5 > /tmp/lim.out 2>&1 &
rp=$!
cg=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  cg=$(find /sys/fs/cgroup -type d -path '*/berth/lim' 2>/dev/null | head -n1)
  [ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break
  sleep 0.2
done
if [ -n "$cg" ]; then
  [ "$(cat "$cg/memory.max")" = 67108864 ] && ok "memory = 64M is memory.max" || nok "memory.max $(cat "$cg/memory.max")"
  [ "$(cat "$cg/pids.max")" = 32 ] && ok "pids = 32 is pids.max" || nok "pids.max $(cat "$cg/pids.max")"
  [ "$(cat "$cg/cpu.max")" = "50000 100000" ] && ok "cpus = 0.5 is cpu.max" || nok "cpu.max $(cat "$cg/cpu.max")"
  np=0
  for i in 1 2 3 4 5 6 7 8 9 10; do np=$(cat "$cg/cgroup.procs" 2>/dev/null | wc -l); [ "$np" -ge 2 ] && break; sleep 0.2; done
  [ "$np" -ge 2 ] && ok "init and workload are in the container's cgroup" || nok "procs: $np"
else
  nok "no berth/lim cgroup found under $(cat /proc/self/cgroup)"
fi
wait $rp
[ -z "$(find /sys/fs/cgroup -type d -path '*/berth/lim' 2>/dev/null)" ] && ok "the cgroup is removed after the run" || nok "cgroup left"

# A fork bomb is held by pids = 32: watched from outside, in its cgroup,
# until the kernel has refused a fork (or the run ended). The children
# sleep for longer than forking, slow under emulation, can take to reach
# the limit; the workload's exit takes them down with its PID namespace.
# busybox sh exits (status 2) at the first fork it is refused, and the
# container goes with it, in a few ms: under TCG that can fall between two
# samples (CI saw "peak 31 events none"). So the bomb runs in a subshell and
# the workload then execs (no fork needed at the limit) a sleep that keeps
# the cgroup, and its pids.events, there for the sampler.
$B run -c $C --state-dir $S lim -- /bin/sh -c '(i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done) 2>/dev/null; exec sleep 6' > /tmp/bomb.out 2>&1 &
rp=$!
max=0; cg=""
for i in $(seq 1 600); do
  cg=$(find /sys/fs/cgroup -type d -path '*/berth/lim' 2>/dev/null | head -n1)
  if [ -n "$cg" ]; then
    c=$(cat "$cg/pids.current" 2>/dev/null || echo 0)
    [ "$c" -gt "$max" ] && max=$c
    e=$(sed -n 's/^max //p' "$cg/pids.events" 2>/dev/null)
    [ -n "$e" ] && [ "$e" -gt "${ev:-0}" ] && ev=$e
    last="current $c events ${e:-?}"
  fi
  [ "${ev:-0}" -gt 0 ] && break
  kill -0 $rp 2>/dev/null || break
  sleep 0.1
done
wait $rp
brc=$?
[ "$max" -gt 0 ] && [ "$max" -le 32 ] && [ "${ev:-0}" -gt 0 ] && ok "a fork bomb stays within pids = 32 (peak $max, $ev forks refused)" || nok "fork bomb: peak $max events ${ev:-none} (samples $i, last: $last, run rc $brc: $(head -c 300 /tmp/bomb.out | tr '\n' ' '))"
echo ok > /tmp/host-alive && [ "$(cat /tmp/host-alive)" = ok ] && ok "the host still forks after the bomb" || nok "host"

# The OOM killer on memory = 64M.
$B run -c $C --state-dir $S lim -- /bin/sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' > /tmp/oom.out 2>&1
rc=$?
[ "$rc" = 137 ] && ok "a memory hog is OOM-killed (exit 137)" || nok "oom rc=$rc $(cat /tmp/oom.out)"

for code in 0 3; do
  $B run -c $C --state-dir $S lim -- /bin/sh -c "exit $code" >/dev/null 2>&1
  [ $? = $code ] && ok "exit status $code propagates" || nok "exit $code"
done
[ -z "$(ls $S/containers 2>/dev/null)" ] && ok "no container directory left" || nok "left: $(ls $S/containers)"
[ -z "$(grep " $S/" /proc/self/mountinfo)" ] && ok "no mount left" || nok "mounts left"
