#!/bin/bash
# check-vm.sh BUILD — the cgroup v2 lane: boots a throw-away QEMU VM with a
# pure cgroup2 hierarchy (tests/vm/run-in-vm.sh) and runs the cgroup tests
# there, twice: as a process in the root cgroup, and inside a delegated
# cgroup /berth.slice/t.service (as under systemd's Delegate=yes), where the
# no-internal-process rule applies and the test claims its cgroup like
# berthd. Then the systemd boot lane (tests/vm/boot-test.sh). Prints
# "ok ..." / "not ok ..." per check; exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
VM=tests/vm/run-in-vm.sh
fail=0

for b in test_cgroup test_cgroup_live; do
  [ -x "$BUILD/tests/$b" ] || { echo "not ok vm: $BUILD/tests/$b missing (make all)"; exit 1; }
done

T=$(mktemp -d /tmp/btcg-vm.XXXXXX)
trap 'rm -rf "$T"' EXIT
cp "$BUILD/tests/test_cgroup" "$BUILD/tests/test_cgroup_live" "$T/"
cat > "$T/inner.sh" <<'EOS'
#!/bin/sh
# Runs inside the VM. $1 = lane name, $2 = 1 to claim the own cgroup.
cd /work
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "# $1: kernel $(uname -r), own cgroup $(cat /proc/self/cgroup)"
for t in test_cgroup test_cgroup_live; do
  BERTH_CGROUP_CLAIM=$2 CMOCKA_MESSAGE_OUTPUT=TAP ./$t > /tmp/$t.out 2>&1
  echo "rc $t $?"
  sed "s/^/$t: /" /tmp/$t.out
done
if [ "$2" = 1 ]; then
  # The claim moved every process of the delegated cgroup into supervisor/.
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  base=/sys/fs/cgroup${own%/supervisor}
  if [ "${own##*/}" = supervisor ] && [ -z "$(cat "$base/cgroup.procs")" ] \
     && grep -qw memory "$base/cgroup.subtree_control"; then echo "claimed ok"
  else echo "claimed bad own=$own procs=$(cat "$base/cgroup.procs" | tr '\n' ' ')"; fi
fi
left=$(find /sys/fs/cgroup -name 'btcg-*' 2>/dev/null)
if [ -z "$left" ]; then echo "leftover none"; else echo "leftover $left"; fi
EOS
chmod +x "$T/inner.sh"

# Turns the guest's TAP-ish output into this lane's ok / not ok lines.
report() { # lane output-file vm-rc
  local lane=$1 out=$2 vmrc=$3 line name
  if [ "$vmrc" != 0 ]; then
    echo "not ok $lane: VM exited with $vmrc"; sed 's/^/# /' "$out"; fail=1; return
  fi
  while IFS= read -r line; do
    case $line in
      "rc "*)
        set -- $line
        if [ "$3" = 0 ]; then echo "ok $lane: $2 exit status"
        else echo "not ok $lane: $2 exited with $3"; fail=1; fi ;;
      *"ok "[0-9]*" # SKIP"*)
        echo "# $lane: skipped ${line##*# SKIP }" ;;
      *": ok "*)
        name=${line#*: ok }; echo "ok $lane: ${name#* - }" ;;
      *": not ok "*)
        name=${line#*: not ok }; echo "not ok $lane: ${name#* - }"; fail=1 ;;
      "claimed ok")
        echo "ok $lane: claim moved every process into supervisor/ and enabled controllers" ;;
      "claimed bad"*)
        echo "not ok $lane: ${line#claimed }"; fail=1 ;;
      "leftover none")
        echo "ok $lane: no btcg-* cgroup left" ;;
      "leftover "*)
        echo "not ok $lane: cgroups left: ${line#leftover }"; fail=1 ;;
      *"# "*|"# "*)
        echo "$line" | sed 's/^[a-z_]*: //' | grep '^#' ;;
    esac
  done < "$out"
}

run_lane() { # lane cgroup claim
  local lane=$1 cg=$2 claim=$3 rc
  local start=$SECONDS
  VM_CGROUP=$cg VM_TIMEOUT=${VM_TIMEOUT:-150} "$VM" "$T" "/bin/sh /work/inner.sh $lane $claim" > "$T/$lane.out" 2>&1
  rc=$?
  report "$lane" "$T/$lane.out" "$rc"
  echo "# $lane: $((SECONDS - start)) s"
}

run_lane v2-root "" 0
run_lane v2-delegated /berth.slice/t.service 1

# The runtime lane: real containers with berthctl run under cgroup v2, in a
# delegated cgroup as under systemd.
R=$(mktemp -d /tmp/btrt-vm.XXXXXX)
trap 'rm -rf "$T" "$R"' EXIT
if [ -x "$BUILD/berthctl" ]; then
  cp "$BUILD/berthctl" "$BUILD/berth-init" tests/vm/runtime-inner.sh "$R/"
  mkdir -p "$R/templates" "$R/conf"
  cp templates/busybox.sh "$R/templates/"
  cat > "$R/conf/lim.conf" <<'EOC'
container lim {
  template = "busybox"
  limits { memory = 64M  memory-swap = 64M  pids = 32  cpus = 0.5 }
}
EOC
  start=$SECONDS
  VM_CGROUP=/berth.slice/rt.service VM_TIMEOUT=${VM_TIMEOUT:-200} "$VM" "$R" "/bin/sh /work/runtime-inner.sh" > "$R/out" 2>&1
  rc=$?
  grep -E '^(ok|not ok) ' "$R/out"
  grep -q '^not ok ' "$R/out" && fail=1
  if [ $rc != 0 ] || ! grep -q '^ok ' "$R/out"; then
    echo "not ok v2-runtime: VM exited with $rc"; sed 's/^/# /' "$R/out" | tail -n 30; fail=1
  fi
  echo "# v2-runtime: $((SECONDS - start)) s"
else
  echo "not ok v2-runtime: $BUILD/berthctl missing"; fail=1
fi

# The systemd lane: Debian 12 with systemd as PID 1 and berthd.service
# (tests/vm/boot-test.sh; skips with a message when no image can be built).
# About 4 minutes under emulation (1.5 of them for the first debootstrap,
# cached afterwards); BERTH_BOOT_LANE=0 leaves it out.
if [ "${BERTH_BOOT_LANE:-1}" = 1 ]; then
  tests/vm/boot-test.sh "$BUILD" || fail=1
else
  echo "# boot lane: skipped (BERTH_BOOT_LANE=0)"
fi
exit $fail
