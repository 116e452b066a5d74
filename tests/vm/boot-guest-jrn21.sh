# boot-guest-jrn21.sh — issue 21 in the systemd boot lane: the journald log
# driver and systemd-machined. Sourced by boot-guest.sh (its check, ok,
# nok, until_ok, cpid, need_berthd); installed beside it by boot-test.sh.
# shellcheck shell=bash disable=SC2016 # sh -c strings
if need_berthd "journald and machined"; then
cat > /etc/containers.d/jlog.conf <<'C'
container jlog {
  template  = "busybox"
  command   = { "/bin/sh", "-c", "echo jrn-out-1; echo jrn-err-1 >&2; echo jrn-out-2; i=0; while :; do i=$((i+1)); echo jrn-tick-$i; sleep 1; done" }
  autostart = true
  network { mode = "none" }
  log { driver = "journald" }
}
C
check "jrn21: reload starts jlog (log driver journald)" systemctl reload berthd
check "jrn21: jlog runs" until_ok 30 sh -c '[ "$(berthctl inspect jlog 2>/dev/null | tr -d " \n" | grep -o "\"state\":\"[a-z]*\"" | head -n1)" = "\"state\":\"running\"" ]'
jq_cat() { timeout 20 journalctl --no-pager -o cat "$@"; }
check "jrn21: journalctl CONTAINER_NAME=jlog shows its lines" \
  until_ok 20 sh -c 'journalctl --no-pager -o cat CONTAINER_NAME=jlog | grep -qx jrn-out-1'
check "jrn21: stdout at PRIORITY 6, stderr at 3 (got 6: $(jq_cat CONTAINER_NAME=jlog PRIORITY=6 | head -n2 | tr '\n' ' '), 3: $(jq_cat CONTAINER_NAME=jlog PRIORITY=3 | tr '\n' ' '))" \
  sh -c '[ "$(journalctl --no-pager -o cat CONTAINER_NAME=jlog PRIORITY=3)" = jrn-err-1 ] &&
         [ "$(journalctl --no-pager -o cat CONTAINER_NAME=jlog PRIORITY=6 | head -n2 | tr "\n" " ")" = "jrn-out-1 jrn-out-2 " ]'
jid=$(berthctl inspect jlog | tr -d ' \n' | grep -o '"id":"[0-9a-f]*"' | head -n1 | cut -d'"' -f4)
timeout 20 journalctl --no-pager -o verbose CONTAINER_NAME=jlog MESSAGE=jrn-out-1 > /tmp/jlog.v 2>&1
check "jrn21: CONTAINER_ID is the first 12 digits of its id ($jid), CONTAINER_ID_FULL all of it, SYSLOG_IDENTIFIER its name" \
  sh -c "[ \"\${#1}\" = 32 ] && grep -qx \"    CONTAINER_ID=\$(echo \"\$1\" | cut -c1-12)\" /tmp/jlog.v &&
         grep -qx \"    CONTAINER_ID_FULL=\$1\" /tmp/jlog.v && grep -qx '    SYSLOG_IDENTIFIER=jlog' /tmp/jlog.v" _ "$jid"
check "jrn21: journalctl -t jlog finds it too" sh -c 'journalctl --no-pager -o cat -t jlog | grep -qx jrn-out-1'
until_ok 10 sh -c '[ "$(journalctl --no-pager -o cat CONTAINER_NAME=jlog | grep -c jrn-tick)" -ge 3 ]'
out=$(timeout 20 berthctl logs jlog 2>&1)
# (by the journal's time: when journald received each line; the monitor reads
# stdout before stderr, so jrn-err-1 may come after jrn-tick-1)
first4=$(printf '%s\n' "$out" | head -n4 | sort | tr '\n' ' ')
check "jrn21: berthctl logs jlog reads the journal, first lines first ($first4)" \
  sh -c 'case "$1" in "jrn-err-1 jrn-out-1 jrn-out-2 "*) true;; *) false;; esac' _ "$first4"
out=$(timeout 20 berthctl logs -n 2 jlog 2>&1)
check "jrn21: berthctl logs -n 2: the last two lines ($(echo "$out" | tr '\n' ' '))" \
  sh -c "[ \"\$(printf '%s\n' '$out' | grep -c '^jrn-tick-')\" = 2 ] && [ \"\$(printf '%s\n' '$out' | wc -l)\" = 2 ]"
out=$(timeout 20 berthctl logs --stderr jlog 2>&1)
check "jrn21: berthctl logs --stderr: only jrn-err-1 (got: $(echo "$out" | tr '\n' ' '))" [ "$out" = jrn-err-1 ]
out=$(timeout 20 berthctl logs -t --stdout -n 1 jlog 2>&1)
check "jrn21: berthctl logs -t: time and stream ($out)" \
  sh -c "printf '%s\n' '$out' | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z stdout jrn-tick-[0-9]+$'"
out=$(timeout 4 berthctl logs -f -n 0 jlog 2>&1)
check "jrn21: berthctl logs -f follows new lines ($(echo "$out" | tr '\n' ' '))" sh -c "printf '%s\n' '$out' | grep -q '^jrn-tick-'"
check "jrn21: no console.log for a journald container" sh -c '[ ! -e /var/lib/berth/containers/jlog/console.log ]'

# --- systemd-machined ---
mlist() { timeout 10 machinectl list --no-legend --no-pager 2>/dev/null; }
registered() { mlist | grep -qE "^$1 +container +berth"; }
check "jrn21: machinectl list shows jlog and web as berth containers ($(mlist | tr '\n' ';'))" \
  until_ok 20 sh -c "$(declare -f mlist registered); registered jlog && registered web"
jpid=$(cpid jlog)
st=$(timeout 10 machinectl status jlog --no-pager 2>&1)
check "jrn21: machinectl status jlog shows its leader pid $jpid and its scope" \
  sh -c "printf '%s\n' \"\$1\" | grep -qE 'Leader: $jpid( |$)' && printf '%s\n' \"\$1\" | grep -q 'Unit: berth-jlog.scope'" _ "$st"
echo "$st" | head -n 12 | sed 's/^/# machinectl: /'
st=$(timeout 10 machinectl status web --no-pager 2>&1)
check "jrn21: machinectl status web names its host veth" sh -c "printf '%s\n' \"\$1\" | grep -q 'Iface: .*vb-web'" _ "$st"
check "jrn21: machined made no scope of its own (no machine-*.scope)" \
  sh -c '[ -z "$(systemctl list-units --all --no-legend "machine-*.scope")" ]'
check "jrn21: the container's cgroup is still berth's (berth-jlog.scope/berth/jlog)" \
  sh -c "grep -q '^0::/machine.slice/berth-jlog.scope/berth/jlog' /proc/$jpid/cgroup"
# a berthd killed and restarted: still registered; one machined forgot is registered again
busctl call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
  UnregisterMachine s jlog >/dev/null 2>&1
check "jrn21: (jlog unregistered behind berthd's back)" sh -c "$(declare -f mlist registered); ! registered jlog"
n=$(systemctl show -P NRestarts berthd)
systemctl kill --kill-who=main -s KILL berthd
check "jrn21: berthd restarted after SIGKILL" \
  until_ok 60 sh -c "[ \"\$(systemctl show -P NRestarts berthd)\" -gt $n ] && [ \"\$(systemctl is-active berthd)\" = active ]"
check "jrn21: after the restart web is still registered and jlog again, same leader" \
  until_ok 20 sh -c "$(declare -f mlist registered); registered web && registered jlog && machinectl status jlog --no-pager | grep -qE 'Leader: $jpid( |$)'"
check "jrn21: berthctl stop jlog" timeout 30 berthctl stop jlog
check "jrn21: jlog is gone from machinectl list after the stop" \
  until_ok 15 sh -c "$(declare -f mlist registered); ! registered jlog"
check "jrn21: web still registered" sh -c "$(declare -f mlist registered); registered web"
rm -f /etc/containers.d/jlog.conf
check "jrn21: reload removes jlog" systemctl reload berthd
fi
