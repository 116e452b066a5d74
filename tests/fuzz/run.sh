#!/bin/bash
# Runs every libFuzzer harness built in BUILD (build-fuzz/fuzz_NAME) for
# SECONDS each, on its seed corpus tests/fuzz/corpus_NAME (corpus for
# config) plus what earlier runs found (BUILD/corpus-NAME), and prints one
# TAP-like line per harness for tests/run-all.sh's counter:
#   ok fuzz: NAME (N runs, no crash)  /  not ok fuzz: NAME (...)
# A crash leaves its input in BUILD/crash-* (libFuzzer's artifact).
#   tests/fuzz/run.sh [BUILD] [SECONDS]
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-30}
fail=0
shopt -s nullglob
bins=("$BUILD"/fuzz_*)
[ ${#bins[@]} -gt 0 ] || { echo "not ok fuzz: no harness built in $BUILD (make fuzz-build)"; exit 1; }
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || continue
  name=${bin##*/fuzz_}
  seeds=tests/fuzz/corpus_$name
  [ "$name" = config ] && seeds=tests/fuzz/corpus
  mkdir -p "$BUILD/corpus-$name"
  log=$BUILD/fuzz-$name.log
  # -max_len above CONTROL_MESSAGE_MAX (64 KiB): the too-large paths too.
  timeout -k 10 $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" -max_len=70000 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$BUILD/" -print_final_stats=1 \
    "$BUILD/corpus-$name" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  if [ "$rc" = 0 ] && [ -n "$runs" ]; then
    echo "ok fuzz: $name (${runs} runs in ${SECONDS_EACH} s, no crash)"
  else
    echo "not ok fuzz: $name (exit $rc after ${runs:-?} runs; log $log)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 5 | sed 's/^/#   /'
    fail=1
  fi
done
exit $fail
