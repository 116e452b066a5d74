#!/bin/bash
# Runs every suite against the binaries in BUILD (default build-asan) and
# ends with one line over all of them: "N passed, N failed".
#   tests/run-all.sh [BUILD] [unit|integration|fuzz|fresh|vm|all]
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
