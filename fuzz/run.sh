#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other
# on one core, from its committed seeds (corpus/<target>/seed-*) plus what
# earlier runs grew there. Exits non-zero if any target found a crash, a
# timeout (> 5 s for one input) or an out-of-memory (> 512 MB RSS); the
# input is left under artifacts/<target>/ and named in the output.
#
#   fuzz/run.sh 30                      # what CI runs
#   FUZZ_TARGETS="bitmex_session" fuzz/run.sh 3600
#   FUZZ_ARGS="-runs=10000000" fuzz/run.sh 0   # a fixed number of executions
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain
# (`rustup toolchain install nightly`); without one, stable is used with
# RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${1:-60}
TARGETS=${FUZZ_TARGETS:-"bitmex_session bitmex_prescan binance_session bybit_session deribit_session okx_session hyperliquid_session krakenfutures_session frame_guard cli_targets"}

# FUZZ_TOOLCHAIN=stable forces the stable path (how CI without nightly runs).
if [ "${FUZZ_TOOLCHAIN:-}" != stable ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  CARGO=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  CARGO=(cargo)
fi
# No sanitizer: the fuzzed crates forbid `unsafe`, so ASan would only slow
# the runs; coverage instrumentation stays. Debug assertions (and with them
# overflow checks) are on: an overflow on hostile input is a finding.
BUILD=(fuzz build -s none -a)
RUN=(fuzz run -s none -a)

echo "== cargo fuzz build (${CARGO[*]})"
"${CARGO[@]}" "${BUILD[@]}"

failed=()
for target in $TARGETS; do
  if [ "$SECONDS_EACH" = 0 ]; then limit="no time limit"; else limit="${SECONDS_EACH}s"; fi
  echo "== $target: $limit ${FUZZ_ARGS:-}"
  mkdir -p "corpus/$target" "artifacts/$target" logs
  log="logs/$target.log"
  set +e
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of libFuzzer flags
  "${CARGO[@]}" "${RUN[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=512 -timeout=5 -max_len=8192 \
    -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|==[0-9]+== ERROR|SUMMARY|.*Test unit written|thread .* panicked)' "$log" || true
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "== FUZZING FOUND PROBLEMS in: ${failed[*]} (inputs under fuzz/artifacts/, logs in fuzz/logs/)"
  exit 1
fi
echo "== every target ran ${SECONDS_EACH}s without a finding"
