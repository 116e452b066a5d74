#!/bin/bash
# The README's two commands on a machine without the build packages: `make
# run` and `make check` must ask pkg-config for flags after `deps` installed
# the packages, not when make first reads the Makefile (issue: "the
# declaration is the contract"). Simulated in a copy of the tree, fast and
# without root: a pkg-config on PATH knows the packages only once the copy's
# tests/deps.sh (a test double) has "installed" them, and CC is a double that records
# its flags and makes empty outputs. The real thing on a fresh Debian image is
# tests/fresh/check-fresh.sh (make check-fresh).
# shellcheck disable=SC2016,SC2317 # strings eval'd by check, functions called through it
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX='make: '
T=$(mktemp -d /tmp/btmake.XXXXXX)
trap 'rm -rf "$T"' EXIT
SRC=$T/src
mkdir -p "$SRC" "$T/bin"
tar -C "$REPO" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$SRC" -xf -
LOG=$T/log MARK=$T/installed
export LOG MARK

# Installs "the packages" (the marker) and records which set was asked for.
cat >"$SRC/tests/deps.sh" <<'S'
#!/bin/sh
echo "deps ${1:-}" >>"$LOG"; touch "$MARK"
S
cat >"$SRC/tests/make-run.sh" <<'S'
#!/bin/sh
for p in berthd berthctl berth-monitor berth-init; do [ -e "$1/$p" ] || exit 1; done
echo "make-run $1" >>"$LOG"
S
cat >"$SRC/tests/run-all.sh" <<'S'
#!/bin/sh
echo "run-all $1" >>"$LOG"
S
chmod +x "$SRC"/tests/*.sh
# pkg-config: knows nothing until the marker exists, then gives sentinel flags.
cat >"$T/bin/pkg-config" <<'S'
#!/bin/sh
[ -e "$MARK" ] || exit 1
for a; do case $a in
  --cflags) echo "-DPKG_FLAGS_AFTER_DEPS" ;;
  --libs) echo "-lpkg_libs_after_deps" ;;
esac; done
exit 0
S
# cc: records the command line, makes the output file (empty).
cat >"$T/bin/cc" <<'S'
#!/bin/sh
echo "cc $*" >>"$LOG"
o=''; prev=''
for a; do [ "$prev" = -o ] && o=$a; prev=$a; done
[ -z "$o" ] || : >"$o"
S
chmod +x "$T/bin/pkg-config" "$T/bin/cc"
mk() { PATH=$T/bin:$PATH make -C "$SRC" --no-print-directory CC=cc "$@" >>"$T/make.out" 2>&1; }
# every compile of lib/*.c and every link of sbin/*.c in build dir $1 carries both flags
flags_after_deps() {
  local n bad
  n=$(grep -c "^cc .* -c lib/[a-z_0-9]*\.c -o $1/" "$LOG")
  bad=$(grep "^cc .* -c lib/[a-z_0-9]*\.c -o $1/" "$LOG" | grep -vc -- '-DPKG_FLAGS_AFTER_DEPS')
  [ "$n" -gt 0 ] && [ "$bad" = 0 ] || { note "$1: $n compiles, $bad without the pkg-config flags"; return 1; }
  grep "^cc .* sbin/berthd\.c -o $1/berthd " "$LOG" | grep -q -- '-lpkg_libs_after_deps'
}

# ---- make run -----------------------------------------------------------------------------
: >"$LOG"
mk run; rc=$?
check "run succeeds where pkg-config knew nothing when make started" [ "$rc" = 0 ]
check "run installs the run set (tests/deps.sh run)" grep -qx 'deps run' "$LOG"
check "run compiles with the flags pkg-config gives after deps" flags_after_deps build
check "run starts make-run.sh once the programs are built" grep -qx 'make-run build' "$LOG"
check "run builds no unit test (no cmocka needed)" eval '! grep -q " -o build/tests/" "$LOG"'
[ "$fail" = 0 ] || note "$(oneline "$(tail -n 5 "$T/make.out")")"

# ---- make check ---------------------------------------------------------------------------
rm -rf "$SRC/build" "$SRC/build-asan" "$MARK"
: >"$LOG"
mk check; rc=$?
check "check succeeds where pkg-config knew nothing when make started" [ "$rc" = 0 ]
check "check installs the check set (tests/deps.sh check)" grep -qx 'deps check' "$LOG"
check "check's sanitizer build has the pkg-config flags" flags_after_deps build-asan
check "check's normal build has the pkg-config flags" flags_after_deps build
check "check runs the suites on the sanitizer build" grep -qx 'run-all build-asan' "$LOG"

# ---- a plain build without the packages ---------------------------------------------------
rm -rf "$SRC/build" "$MARK"
: >"$LOG"
: >"$T/make.out"
mk progs; rc=$?
check "a build without the packages fails before compiling libberth" \
  eval '[ "$rc" != 0 ] && ! grep -q "^cc .* -c lib/" "$LOG"'
check "and says how to install them" grep -q 'make deps-run' "$T/make.out"
exit $fail
