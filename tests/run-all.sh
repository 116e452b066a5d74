#!/bin/bash
# Runs every suite against the binaries in BUILD (default build-asan) and
# ends with one line over all of them: "N passed, N failed".
#   tests/run-all.sh [BUILD] [unit|integration|idmap|fuzz|fresh|vm|all]
# Unit suites are cmocka programs (their own summaries are printed too);
# integration suites are tests/integration/test_*.sh, run as root, each
# printing "ok NAME" / "not ok NAME" lines (TAP-like).
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build-asan}
WHAT=${2:-all}
export BERTH_BUILD=$PWD/$BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0
failed_names=()

if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
  for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -n1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | tail -n1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed or sanitizer abort
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" = 0 ] || failed_names+=("$(basename "$t")")
  done
fi

if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "integration: skipped (needs root)"; failed=$((failed + 1)); failed_names+=(integration-needs-root)
  else
    for t in tests/integration/test_*.sh; do
      [ -f "$t" ] || continue
      echo "== $(basename "$t")"
      out=$(timeout -k 10 900 bash "$t" 2>&1); rc=$?
      printf '%s\n' "$out"
      p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
      f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
      if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok $(basename "$t") exited with $rc"; fi
      passed=$((passed + p)); failed=$((failed + f))
      [ "$f" = 0 ] || failed_names+=("$(basename "$t")")
    done
  fi
fi

# The idmap lane: the suites of what a container does at run time once more
# with BERTH_TEST_IDMAP=auto, so that every container whose definition sets
# no idmap runs in a user namespace of its own (lib.sh gives the private
# berthds --default-idmap auto and `berthctl run` $BERTH_DEFAULT_IDMAP).
# The lines are prefixed "idmap: ", counted as the other lanes'.
IDMAP_SUITES=(
  test_runtime.sh           # isolation, masks, upper layer, exit codes, signals
  test_security_runtime.sh  # capabilities, seccomp, no_new_privs, read-only /proc
  test_seccomp_profile.sh   # seccomp profile files
  test_exec.sh              # exec, freeze, stats, top (joins the user namespace)
  test_join.sh              # exec and probes against a hostile container
  test_health_probe.sh      # command, tcp and http probes
  # probes driven by berthd: restarts on unhealthy, timeouts, tcp on a bridge,
  # adoption, frozen (not the 50-container soak nor check's interval < timeout)
  "test_health.sh t_retries_restart t_timeout t_on_failure t_tcp_bridge t_adopt_health t_frozen"
  test_network_runtime.sh   # bridge and none networks
  test_net17_ports.sh       # published ports
  test_net17_dns.sh         # the network's names
  test_net17_heal.sh        # plumbing repaired while running
  test_net_ra.sh            # accept_ra inside the container
  test_obs21.sh             # logs, cp (mapped owners), stats
  test_fulldisk.sh          # logs on a full disk
  test_quota.sh             # disk-quota (project quota on a mapped upper layer)
  test_set18a.sh            # read-only-root, sysctl, rlimits, io-max (blkio), env-file
  test_set18b.sh            # devices, secrets, hooks
  # supervision: start-up, order, restart back-off, operator stop, adoption by a
  # new berthd, logs, wait (not the socket's and reload's, the same with idmap)
  "test_daemon.sh t_startup t_order t_backoff t_operator_stop t_adopt t_logs t_wait"
  test_reconcile.sh         # cgroup limits re-applied to an adopted container
)
# Not in the lane, and why:
#   test_cgroup.sh, test_net.sh: cmocka drivers of the cgroup and network
#     modules on the host; they start no container, so no idmap applies.
#   test_idmap18.sh: idmap's own suite, already in the integration lane.
#   test_oci19.sh: images of several layers, which idmap refuses (design.md).
#   test_rootfs_host.sh, test_check.sh, test_docs.sh, test_manual.sh,
#     test_make.sh, test_install.sh, test_template.sh: definitions, docs,
#     build and templates; what they check does not run in a container.
#   test_crash.sh, test_crash16_intent.sh, test_crash16_points.sh, test_honest.sh, test_order.sh,
#     test_control.sh, test_owners.sh, test_snap20.sh, test_perf22_scale.sh,
#     test_err_seccomp_digest.sh, test_relative_dirs.sh, test_net17_ext.sh,
#     test_net17_v6.sh, test_net17_v6pub.sh:
#     berthd's bookkeeping (crash points, ordering, the control socket,
#     bridge ownership, snapshots, scale, its options) and network plumbing
#     done from the host, the same for a container in a user namespace;
#     left out to keep the lane's time down (about 25 minutes on a loaded
#     2-core machine with build/; more under ASan).
if [ "$WHAT" = all ] || [ "$WHAT" = idmap ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "idmap: skipped (needs root)"; failed=$((failed + 1)); failed_names+=(idmap-needs-root)
  else
    # The lane tests what it says: a definition without idmap runs with it.
    lt=$(mktemp -d /tmp/berth-idmap-lane.XXXXXX)
    mkdir -p "$lt/c" && printf 'container idmaplane%s {\n  template = "busybox"\n}\n' $$ >"$lt/c/c.conf"
    m=$(BERTH_DEFAULT_IDMAP=auto BERTH_IDMAP_POOL=3000000000:13107200 BERTH_TEMPLATES=$PWD/templates \
        timeout -k 5 120 "$BUILD/berthctl" run --no-tty -c "$lt/c" --state-dir "$lt/s" "idmaplane$$" -- \
        cat /proc/self/uid_map </dev/null 2>&1)
    rm -rf "$lt"
    if [ "$(echo $m)" = "0 3000000000 65536" ]; then
      echo "ok idmap: lane: a definition without idmap runs in a user namespace of its own"; passed=$((passed + 1))
    else
      echo "not ok idmap: lane: a definition without idmap runs in a user namespace ($(echo $m))"
      failed=$((failed + 1)); failed_names+=("idmap:lane")
    fi
    for e in "${IDMAP_SUITES[@]}"; do
      read -ra w <<<"$e"   # the suite's file, then the checks to run (all when none)
      s=${w[0]} t=tests/integration/${w[0]}
      echo "== idmap: $e"
      out=$(BERTH_TEST_IDMAP=auto timeout -k 10 900 bash "$t" "${w[@]:1}" 2>&1); rc=$?
      out=$(printf '%s\n' "$out" | sed -E 's/^(not ok|ok) /\1 idmap: /')
      printf '%s\n' "$out"
      p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
      f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
      if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok idmap: $s exited with $rc"; fi
      passed=$((passed + p)); failed=$((failed + f))
      [ "$f" = 0 ] || failed_names+=("idmap:$s")
    done
  fi
fi

# The libFuzzer harnesses, built with clang into build-fuzz/ (its own
# objects: the gcc builds are untouched), FUZZ_SECONDS (30) each.
if [ "$WHAT" = all ] || [ "$WHAT" = fuzz ]; then
  echo "== fuzz"
  if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
    out="ok fuzz: every harness # skip ${FUZZ_CC:-clang} not found (tests/deps.sh installs clang)"
  elif ! blog=$(make -s fuzz-build 2>&1); then
    out="not ok fuzz: the harnesses build with ${FUZZ_CC:-clang}
$(printf '%s\n' "$blog" | grep -E 'error' | head -n 5 | sed 's/^/#   /')"
  else
    out=$(tests/fuzz/run.sh build-fuzz "${FUZZ_SECONDS:-30}" 2>&1)
  fi
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
  f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" = 0 ] || failed_names+=("fuzz")
fi

# The README's first command on a fresh machine: a Debian 12 minbase image
# without the build packages, `make run` in it until the examples run
# (tests/fresh/check-fresh.sh; 3-5 minutes, most of it debootstrap and the build).
if [ "$WHAT" = all ] || [ "$WHAT" = fresh ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== fresh: make run on a fresh Debian 12 image"
    out=$(timeout -k 10 1500 bash tests/fresh/check-fresh.sh 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
    f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok check-fresh.sh exited with $rc"; fi
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" = 0 ] || failed_names+=("check-fresh.sh")
  fi
fi

# The cgroup v2 lanes: the same cgroup tests inside a QEMU VM booted with a
# pure cgroup2 hierarchy (these machines are cgroup v1), about 2 minutes;
# then the systemd boot lane, about 4 more.
if [ "$WHAT" = all ] || [ "$WHAT" = vm ]; then
  if [ "$(id -u)" = 0 ] && [ -x tests/vm/check-vm.sh ] || [ -f tests/vm/check-vm.sh ]; then
    echo "== vm: cgroup v2 lane"
    out=$(timeout -k 10 2400 bash tests/vm/check-vm.sh "$BUILD" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
    f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok check-vm.sh exited with $rc"; fi
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" = 0 ] || failed_names+=("check-vm.sh")
  fi
fi

[ ${#failed_names[@]} -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
