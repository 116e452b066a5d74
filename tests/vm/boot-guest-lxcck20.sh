#!/bin/bash
# boot-guest-lxcck20.sh — run by boot-guest.sh inside the boot-test VM when
# the lane was started with BOOT_LXC=1 (the image then holds Debian's lxc):
# checkpoint and restore times of berth and of `lxc-checkpoint` side by side
# (issue 20's bench), for the same workload in both: a busybox shell that
# counts every 0.5 s and a dd whose 256 MB buffer is dirty memory, no
# network. Alternating rounds (berth, lxc, berth, lxc, ...), each a
# checkpoint that stops the container and a restore; the counter must go on
# without a reset after each restore. A benchmark, not a test: prints
# "# lxcck20: ..." lines with the times and their medians; "not ok" only
# when a tool could not do it at all (with its log's last lines).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ROUNDS=${LXCCK_ROUNDS:-3}
say() { echo "# lxcck20: $*"; }
nok() { echo "not ok boot: lxcck20: $*"; fail=1; }
until_ok() { local n=$(($1 * 4)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.25; n=$((n - 1)); done; return 1; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
cstate() { timeout 10 berthctl inspect "$1" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -n1 | cut -d'"' -f4; }
BIG='dd if=/dev/zero bs=256M count=1 2>/dev/null | sleep 1000000 & i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.5; done'
# a dd of the cgroup matching $1 (berth / lxc.payload) holds its 256 MB buffer (RSS)
dirty() {
  local p
  for p in $(pgrep -x dd); do
    grep -q "$1" /proc/$p/cgroup 2>/dev/null || continue
    [ "$(awk '/^VmRSS/ { print $2 }' /proc/$p/status)" -ge 250000 ] && return 0
  done
  return 1
}

# --- berth: a container like live20's lvbig --------------------------------
C=/var/lib/berth/containers/lxbig/upper/count
cat > /etc/containers.d/lxbig.conf <<EOF
container lxbig {
    template  = "busybox"
    command   = { "/bin/sh", "-c", "$BIG" }
    autostart = true
    network { mode = "none" }
}
EOF
systemctl reload berthd

# --- lxc: the same workload over a busybox root of its own ------------------
L=/var/lib/lxcck20
rm -rf "$L"
mkdir -p "$L/c/rootfs"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$L/c/rootfs/bin/busybox"
for a in sh dd sleep cat echo; do ln -s busybox "$L/c/rootfs/bin/$a"; done
printf '%s\n' "$BIG" > "$L/c/rootfs/count.sh"
cat > "$L/c/config" <<EOF
lxc.uts.name = lxbig
lxc.rootfs.path = dir:$L/c/rootfs
lxc.init.cmd = /bin/sh /count.sh
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:mixed
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 0
lxc.console.path = none
lxc.apparmor.profile = unconfined
EOF
say "$(lxc-checkpoint --version 2>/dev/null | sed 's/^/lxc /') $(criu --version | head -n1)"

bck=() brs=() lck=() lrs=()
for ((r = 1; r <= ROUNDS; r++)); do
  # berth
  if until_ok 120 sh -c '[ "$(berthctl inspect lxbig 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1 | cut -d\" -f4)" = running ]' &&
     until_ok 120 dirty berth; then
    sleep 2
    c0=$(cat $C 2>/dev/null)
    t0=$(date +%s%N)
    if out=$(timeout 600 berthctl checkpoint lxbig "lx$r" 2>&1); then
      bck+=("$(ms $t0)")
      t0=$(date +%s%N)
      if out=$(timeout 600 berthctl start --from-checkpoint "lx$r" lxbig 2>&1) && until_ok 30 sh -c "[ \"\$(cat $C)\" -gt ${c0:-0} ]"; then
        brs+=("$(ms $t0)")
        [ "$(cat $C)" -ge "${c0:-0}" ] || nok "berth: round $r: the counter was reset"
      else nok "berth: round $r: restore: $(echo "$out" | tr '\n' ' ' | head -c 400)"; berthctl start lxbig >/dev/null 2>&1; fi
    else nok "berth: round $r: checkpoint: $(echo "$out" | tr '\n' ' ' | head -c 400)"; fi
    berthctl snapshot rm lxbig "lx$r" >/dev/null 2>&1
  else nok "berth: round $r: lxbig did not run with its 256 MB (state $(cstate lxbig))"; fi
  # lxc
  lxc-stop -P "$L" -n c -k >/dev/null 2>&1
  if lxc-start -P "$L" -n c -d -l INFO -o "$L/start.log" && until_ok 120 dirty lxc.payload; then
    sleep 2
    lc=$L/c/rootfs/count
    c0=$(cat "$lc" 2>/dev/null)
    rm -rf "$L/img"
    t0=$(date +%s%N)
    if timeout 600 lxc-checkpoint -P "$L" -n c -D "$L/img" -s -l INFO -o "$L/ck.log" >/dev/null 2>&1; then
      lck+=("$(ms $t0)")
      t0=$(date +%s%N)
      if timeout 600 lxc-checkpoint -P "$L" -n c -D "$L/img" -r -l INFO -o "$L/rs.log" >/dev/null 2>&1 &&
         until_ok 30 sh -c "[ \"\$(cat $lc)\" -gt ${c0:-0} ]"; then
        lrs+=("$(ms $t0)")
      else
        nok "lxc-checkpoint -r: round $r failed"
        tail -n 5 "$L/rs.log" "$L/img/restore.log" 2>/dev/null | sed 's/^/# lxcck20: /'
      fi
    else
      nok "lxc-checkpoint -s: round $r failed"
      tail -n 5 "$L/ck.log" "$L/img/dump.log" 2>/dev/null | sed 's/^/# lxcck20: /'
    fi
  else
    nok "lxc-start: round $r: the container did not run with its 256 MB"
    tail -n 5 "$L/start.log" 2>/dev/null | sed 's/^/# lxcck20: /'
  fi
  lxc-stop -P "$L" -n c -k >/dev/null 2>&1
done
say "berth checkpoint (stops it) ms: ${bck[*]:-none}; median $(echo "${bck[*]}" | median)"
say "berth start --from-checkpoint ms: ${brs[*]:-none}; median $(echo "${brs[*]}" | median)"
say "lxc-checkpoint -s ms: ${lck[*]:-none}; median $(echo "${lck[*]}" | median)"
say "lxc-checkpoint -r ms: ${lrs[*]:-none}; median $(echo "${lrs[*]}" | median)"
rm -f /etc/containers.d/lxbig.conf
systemctl reload berthd
lxc-destroy -P "$L" -n c >/dev/null 2>&1
rm -rf "$L"
exit $fail
