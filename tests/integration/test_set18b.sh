#!/bin/bash
# Integration test of issue 18's device, secret and hook settings (set
# 18b): real busybox containers under a private berthd below one mktemp -d,
# named s18b<pid>-*. Devices: /dev/fuse (by path) and /dev/net/tun (by
# number) exist in the container and open, the device cgroup lists them, a
# device not given stays refused, the host's root disk is refused at check.
# Secrets: mode 0400, owned by the container's user, absent from the upper
# layer and from inspect. Hooks: pre-start sees its environment, its failure
# stops the start with its output, post-start and post-stop run, a timeout
# kills. Every bad value is a FILE:LINE error of `berthctl check`.
# shellcheck disable=SC2034 # variables read by lib.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX='set18b: '
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=s18b$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/set18b.XXXXXX)
SLEEPER='command = { "/bin/sh", "-c", "while :; do sleep 1; done" }'
trap daemon_cleanup EXIT
daemon_require "set18b: "

cexec() { local n=$1; shift; ctl exec "$n" -- "$@" 2>&1; }
devcg_of() { # devices.list of container NAME (v1)
  local path
  path=$(awk -F: '$2 == "devices" { print $3 }' /proc/self/cgroup)
  echo "/sys/fs/cgroup/devices${path%/}/berth/$1/devices.list"
}

env_new main
mkdir -p "$D/secrets" "$D/hooks"
printf 'hunter2-%s\n' "$P" >"$D/secrets/db"
chmod 600 "$D/secrets/db"
SECRET=$(cat "$D/secrets/db")

# ---- devices -----------------------------------------------------------------------------

t_devices() {
  if [ ! -c /dev/fuse ] || [ ! -c /dev/net/tun ]; then
    nok "devices: the host has /dev/fuse and /dev/net/tun"; return
  fi
  container "$P-dev" "$SLEEPER" 'autostart = true' \
    'device "/dev/fuse" { access = "rw" }' \
    'device "c 10:200" { path = "/dev/net/tun" }'
  daemon_start
  check "devices: a container with devices starts" wait_until 30 state_is "$P-dev" running
  local out
  out=$(cexec "$P-dev" ls -l /dev/fuse /dev/net/tun)
  check "devices: /dev/fuse and /dev/net/tun are character devices 10,229 and 10,200 inside" \
    eval 'printf "%s" "$out" | grep -q "^c.* 10, *229 .*/dev/fuse" && printf "%s" "$out" | grep -q "^c.* 10, *200 .*/dev/net/tun"'
  [ "$fail" = 0 ] || note "ls: $(oneline "$out")"
  out=$(cexec "$P-dev" sh -c 'exec 3<>/dev/fuse && echo opened')
  check "devices: /dev/fuse opens read-write in the container" eval '[ "$out" = opened ]'
  [ "$out" = opened ] || note "fuse: $(oneline "$out")"
  out=$(cexec "$P-dev" sh -c 'exec 3<>/dev/net/tun && echo opened')
  check "devices: /dev/net/tun (given as c 10:200) opens" eval '[ "$out" = opened ]'
  [ "$out" = opened ] || note "tun: $(oneline "$out")"
  local list
  list=$(cat "$(devcg_of "$P-dev")" 2>&1)
  check "devices: devices.list of its cgroup holds c 10:229 rw and c 10:200 rwm" \
    eval 'printf "%s\n" "$list" | grep -qx "c 10:229 rw" && printf "%s\n" "$list" | grep -qx "c 10:200 rwm"'
  [ "$fail" = 0 ] || note "devices.list: $(oneline "$list")"
  # A device not given: mknod succeeds nowhere (nodev /dev, cgroup refuses).
  out=$(cexec "$P-dev" sh -c 'mknod /tmp/mem c 1 1 && exec 3</tmp/mem && echo opened')
  check "devices: a device not given (c 1:1, /dev/mem) cannot be opened" eval '[ "$out" != opened ]'
  out=$(cexec "$P-dev" sh -c 'mknod /tmp/loop b 7 0 2>&1; exec 3</tmp/loop && echo opened')
  check "devices: a block device not given cannot be opened" eval '[ "$out" != opened ]'
  ctl stop "$P-dev" >/dev/null 2>&1
  daemon_stop
}

# ---- secrets -----------------------------------------------------------------------------

t_secrets() {
  env_new secrets
  mkdir -p "$D/secrets"
  cp -p "$ROOT/main/secrets/db" "$D/secrets/db"
  container "$P-sec" "$SLEEPER" 'autostart = true' 'user = "1000:1000"' \
    "secret db { source = \"$D/secrets/db\"  target = \"/run/secrets/db\" }" \
    "secret other { source = \"$D/secrets/db\" }"
  daemon_start
  check "secrets: a container with secrets starts" wait_until 30 state_is "$P-sec" running
  local out
  out=$(cexec "$P-sec" cat /run/secrets/db)
  check "secrets: the container's user reads the secret" eval '[ "$out" = "$SECRET" ]'
  [ "$out" = "$SECRET" ] || note "cat: $(oneline "$out")"
  out=$(cexec "$P-sec" stat -c '%a %u %g' /run/secrets/db)
  check "secrets: mode 0400, owned by the container's user (1000:1000)" eval '[ "$out" = "400 1000 1000" ]'
  [ "$out" = "400 1000 1000" ] || note "stat: $(oneline "$out")"
  out=$(cexec "$P-sec" cat /run/secrets/other)
  check "secrets: the default target is /run/secrets/NAME" eval '[ "$out" = "$SECRET" ]'
  out=$(cexec "$P-sec" sh -c 'echo x > /run/secrets/db && echo written')
  check "secrets: the secret is read-only" eval '[ "$out" != written ]'
  out=$(cexec "$P-sec" sh -c 'grep " /run/secrets/db " /proc/self/mountinfo')
  check "secrets: it is a read-only tmpfs mount" eval 'printf "%s" "$out" | grep -q "ro,.* - tmpfs "'
  [ "$fail" = 0 ] || note "mountinfo: $(oneline "$out")"
  local upper=$D/state/containers/$P-sec/upper
  check "secrets: the upper layer exists" test -d "$upper"
  check "secrets: the content is nowhere in the upper layer" eval '! grep -rqF "$SECRET" "$upper"'
  check "secrets: nor anywhere in the state directory" eval '! grep -rqF "$SECRET" "$D/state" --exclude-dir=templates'
  check "secrets: the mount point in the upper layer is empty" eval '[ ! -s "$upper/run/secrets/db" ]'
  out=$(inspect "$P-sec")
  check "secrets: inspect shows source and target" \
    eval 'printf "%s" "$out" | grep -qF "$D/secrets/db" && printf "%s" "$out" | grep -qF "/run/secrets/db"'
  check "secrets: inspect never shows the content" eval '! printf "%s" "$out" | grep -qF "$SECRET"'
  check "secrets: nor the daemon's log" eval '! grep -qF "$SECRET" "$D/berthd.log"'
  # root (the default user) owns it when no user is set
  container "$P-sec2" "$SLEEPER" 'autostart = true' "secret db { source = \"$D/secrets/db\" }"
  ctl reload >/dev/null 2>&1
  check "secrets: a second container starts" wait_until 30 state_is "$P-sec2" running
  out=$(cexec "$P-sec2" stat -c '%a %u %g' /run/secrets/db)
  check "secrets: without user it is root's, 0400" eval '[ "$out" = "400 0 0" ]'
  # a source gone at start: the start fails, naming it
  rm -f "$D/secrets/db"
  ctl stop "$P-sec2" >/dev/null 2>&1
  wait_until 20 state_is "$P-sec2" stopped
  ctl start "$P-sec2" >/dev/null 2>&1
  check "secrets: a missing source fails the start, naming it" \
    wait_until 20 has_event "$P-sec2" start-failed "secret 'db': source '$D/secrets/db'"
  daemon_stop
}

# ---- hooks -------------------------------------------------------------------------------

t_hooks() {
  env_new hooks
  local H=$D/hooks
  mkdir -p "$H"
  cat >"$H/env.sh" <<'EOF'
#!/bin/sh
echo "$BERTH_HOOK container=$BERTH_CONTAINER pid=${BERTH_PID-unset} dir=$BERTH_STATE_DIR" >>"$(dirname "$0")/log"
EOF
  cat >"$H/fail.sh" <<'EOF'
#!/bin/sh
echo "the database is not there"
exit 3
EOF
  cat >"$H/slow.sh" <<'EOF'
#!/bin/sh
echo $$ >"$(dirname "$0")/slow.pid"
sleep 30
EOF
  chmod +x "$H"/*.sh
  container "$P-h" "$SLEEPER" \
    "hook pre-start { command = { \"$H/env.sh\" } }" \
    "hook post-start { command = { \"$H/env.sh\" } timeout = 5s }" \
    "hook post-stop { command = { \"$H/env.sh\" } }"
  container "$P-hf" "$SLEEPER" "hook pre-start { command = { \"$H/fail.sh\" } }"
  container "$P-hs" "$SLEEPER" "hook pre-start { command = { \"$H/slow.sh\" } timeout = 1s }"
  container "$P-hp" "$SLEEPER" "hook post-start { command = { \"$H/fail.sh\" } }"
  daemon_start
  ctl start "$P-h" >/dev/null 2>&1
  check "hooks: a container with hooks starts" wait_until 30 state_is "$P-h" running
  local pid dir
  pid=$(pid_of "$P-h")
  dir=$D/state/containers/$P-h
  check "hooks: pre-start saw BERTH_HOOK, BERTH_CONTAINER, BERTH_STATE_DIR (no pid yet)" \
    grep -qx "pre-start container=$P-h pid=unset dir=$dir" "$H/log"
  check "hooks: post-start ran with the container's pid" grep -qx "post-start container=$P-h pid=$pid dir=$dir" "$H/log"
  ctl stop "$P-h" >/dev/null 2>&1
  check "hooks: post-stop ran with the pid that ended" \
    wait_until 20 grep -qx "post-stop container=$P-h pid=$pid dir=$dir" "$H/log"
  check "hooks: post-stop's success is an event" wait_until 10 has_event "$P-h" hook "post-stop ran"
  [ "$fail" = 0 ] || note "log: $(oneline "$(cat "$H/log" 2>&1)")"

  local out
  out=$(ctl start "$P-hf" 2>&1)
  check "hooks: a failing pre-start stops the start" wait_until 20 has_event "$P-hf" start-failed "hook pre-start"
  check "hooks: ... with its status and output in the start error" \
    has_event "$P-hf" start-failed "exited with status 3: the database is not there"
  check "hooks: ... and the container is not running" eval '! state_is "$P-hf" running'
  [ "$fail" = 0 ] || note "start: $(oneline "$out") events: $(oneline "$(events "$P-hf")")"

  ctl start "$P-hs" >/dev/null 2>&1
  check "hooks: a pre-start past its timeout fails the start" \
    wait_until 20 has_event "$P-hs" start-failed "killed after its timeout of 1s"
  local spid
  spid=$(cat "$H/slow.pid" 2>/dev/null)
  check "hooks: ... and it was killed" eval '[ -n "$spid" ] && wait_until 5 eval "! alive $spid"'

  ctl start "$P-hp" >/dev/null 2>&1
  check "hooks: a failing post-start stops the start" \
    wait_until 20 has_event "$P-hp" start-failed "hook post-start"
  check "hooks: ... and its container is gone" wait_until 10 eval '! state_is "$P-hp" running && [ -z "$(procs_with "$D/state/containers/$P-hp/")" ]'

  # post-stop failure: an event only
  container "$P-hps" "$SLEEPER" "hook post-stop { command = { \"$H/fail.sh\" } }"
  ctl reload >/dev/null 2>&1
  ctl start "$P-hps" >/dev/null 2>&1
  wait_until 20 state_is "$P-hps" running
  ctl stop "$P-hps" >/dev/null 2>&1
  check "hooks: a failing post-stop is a hook-failed event" \
    wait_until 20 has_event "$P-hps" hook-failed "exited with status 3: the database is not there"
  check "hooks: ... and the container is stopped as asked" state_is "$P-hps" stopped
  daemon_stop
}

# ---- berthctl check ---------------------------------------------------------------------

t_check() {
  env_new check
  local f=$D/conf/bad.conf root_disk out rc
  root_disk=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)" 2>/dev/null | head -1)
  [ -n "$root_disk" ] || root_disk=$(basename "$(findmnt -no SOURCE /)")
  exp() { if printf '%s\n' "$out" | grep -qF "$f:$1: $3"; then ok "check: $2"; else nok "check: $2"; fi; }
  cat >"$f" <<EOF
container $P-bad {
  template = "busybox"
  device "c 10:x" { }
  device "/dev/null" { }
  device "/dev/fuse" { access = "rwx" }
  device "c 10:229" { }
  device "/dev/tty0" { path = "/dev/pts/x" }
  device "/dev/tty1" { path = "dev/x" }
  secret db { }
  secret x { target = "rel" }
  hook bogus { command = { "/bin/true" } }
  hook post-stop { command = { "true" } timeout = 2h }
  hook post-start { timeout = 5s }
  hook pre-start { command = { "/bin/true" } }
  allow-host-disks = maybe
}
EOF
  printf 'container %s {\n template = "busybox"\n secret s { source = "/etc/hostname" }\n secret s { source = "/etc/hosts" }\n}\n' "$P-dup" >"$D/conf/dup.conf"
  out=$("$CTL" check -c "$D/conf" --state-dir "$D/state" 2>&1)
  exp 3 "a bad device title" "device: 'c 10:x' is neither a host node"
  exp 4 "a node berth makes itself" "device: '/dev/null' is one of the nodes berth makes itself"
  exp 5 "bad access letters" "device.access: 'rwx' is not a subset of rwm"
  exp 6 "a device by number needs path" "device 'c 10:229': a device given by number needs path"
  exp 7 "a path over berth's own /dev/pts" "device.path: '/dev/pts/x' is one of the nodes berth makes itself"
  exp 8 "a path outside /dev" "device.path: 'dev/x' must be a canonical path under /dev/"
  exp 9 "a secret without source" "secret 'db': source is required"
  exp 10 "a relative secret target" "secret.target: 'rel' must be an absolute path"
  exp 11 "an unknown hook" "hook: 'bogus' is not a hook (use pre-start, post-start or post-stop)"
  exp 12 "a hook timeout above 1h" "hook.timeout: '2h' is above the maximum of 1h"
  exp 12 "a relative hook command" "hook.command: 'true' must be an absolute path"
  exp 13 "a hook without command" "hook post-start: command ="
  if printf '%s\n' "$out" | grep -qF "$D/conf/dup.conf:4: secret 's' declared twice (first at line 3)"; then
    ok "check: a secret declared twice"; else nok "check: a secret declared twice"; fi
  exp 15 "allow-host-disks is a boolean" "allow-host-disks: 'maybe' is not a boolean"
  [ "$fail" = 0 ] || note "check: $(oneline "$out")"
  # What the host has (or not) is checked on valid definitions.
  rm -f "$D/conf/dup.conf"
  cat >"$f" <<EOF
container $P-bad {
  template = "busybox"
  device "/dev/$root_disk" { }
  device "/dev/$P-none" { }
  secret db { source = "$D/none" }
  secret dir { source = "$D" }
}
EOF
  out=$("$CTL" check -c "$D/conf" --state-dir "$D/state" 2>&1)
  exp 3 "the host's root disk is refused" "device '/dev/$root_disk': '/dev/$root_disk' (b "
  exp 4 "a missing host node" "device '/dev/$P-none': host node '/dev/$P-none'"
  exp 5 "a missing secret source" "secret.source: '$D/none' does not exist"
  exp 6 "a secret source that is no file" "secret.source: '$D' is not a regular file"
  [ "$fail" = 0 ] || note "check: $(oneline "$out")"
  cat >"$f" <<EOF
container $P-ok {
  template = "busybox"
  allow-host-disks = true
  device "/dev/$root_disk" { access = "r" }
  secret x { source = "/etc/hostname" }
  secret db { source = "$ROOT/main/secrets/db" }
  hook pre-start { command = { "/bin/true" } timeout = 1s }
}
EOF
  out=$("$CTL" check -c "$D/conf" --state-dir "$D/state" 2>&1); rc=$?
  check "check: allow-host-disks = true allows the root disk; a valid set passes" eval '[ $rc = 0 ]'
  [ "$rc" = 0 ] || note "check ok: $(oneline "$out")"
}

t_devices
t_secrets
t_hooks
t_check
daemon_finish ""
exit $fail
