#!/usr/bin/env bash
# The regression guard that cannot flake: instructions counted by callgrind
# (valgrind), not seconds, for two fixed workloads of the release build:
#   decode/EXCHANGE  every real fixture frame of EXCHANGE decoded by a fresh
#                    session (crates/bench/src/bin/decode_frames.rs), per frame;
#   decode/bitmex+want-fair  the same, the sessions told only fair prices are
#                    kept (the BitMEX pre-scan skips what it can), per frame;
#   e2e/firehose     the in-process BitMEX simulator's firehose through the
#                    connector, the collector and a null consumer
#                    (mercury-bench), per message (4 messages a quote).
# Each workload runs twice with two sizes; the difference divided by the
# difference in size is the cost per unit, start-up cancelled out.
#
#   bench/instructions.sh            compare with bench/instructions.baseline;
#                                    exit 1 if one grew by more than 10 %
#   bench/instructions.sh --update   write the baseline (commit it with the
#                                    change that moved it, saying why)
# Needs valgrind. Only 127.0.0.1; every process ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
BASELINE=bench/instructions.baseline
LIMIT=${LIMIT:-1.10}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cargo build --release --quiet -p mercury-bench --bin mercury-bench --bin decode_frames
BIN=target/release

# instructions CMD… → the number callgrind collected for the whole run
# (every thread: the in-process simulator's too).
instructions() {
  valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$OUT/cg.out" "$@" \
    > "$OUT/stdout" 2> "$OUT/stderr" || { cat "$OUT/stderr" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$OUT/stderr"
}

# per_unit NAME UNITS_SMALL UNITS_LARGE CMD_SMALL -- CMD_LARGE
per_unit() {
  local name=$1 small=$2 large=$3; shift 3
  local cmd_small=() cmd_large=()
  while [ "$1" != "--" ]; do cmd_small+=("$1"); shift; done; shift
  cmd_large=("$@")
  local a b
  a=$(instructions "${cmd_small[@]}")
  b=$(instructions "${cmd_large[@]}")
  echo "$name $(( (b - a) / (large - small) ))"
}

{
  for exchange in $("$BIN/decode_frames" --list); do
    frames=$("$BIN/decode_frames" "$exchange" 1 | sed 's/.*"frames":\([0-9]*\).*/\1/')
    per_unit "decode/$exchange" "$frames" $((frames * 5)) \
      "$BIN/decode_frames" "$exchange" 1 -- "$BIN/decode_frames" "$exchange" 5
  done
  frames=$("$BIN/decode_frames" bitmex 1 --want fair | sed 's/.*"frames":\([0-9]*\).*/\1/')
  per_unit "decode/bitmex+want-fair" "$frames" $((frames * 5)) \
    "$BIN/decode_frames" bitmex 1 --want fair -- "$BIN/decode_frames" bitmex 5 --want fair
  # 20 000 and 60 000 quotes (4 messages each). --fair-sched=yes (threads
  # take turns in a fixed order) makes the end-to-end count repeat within
  # ~0.2 %; without it, batching followed the thread schedule (±4 %).
  per_unit e2e/firehose 80000 240000 \
    "$BIN/mercury-bench" --quotes 20000 -- "$BIN/mercury-bench" --quotes 60000
} > "$OUT/now"

if [ "${1:-}" = "--update" ]; then
  { echo "# instructions per unit (bench/instructions.sh --update, $(date -u +%F), $(rustc --version))"
    cat "$OUT/now"; } > "$BASELINE"
  cat "$BASELINE"
  exit 0
fi

status=0
printf '%-24s %14s %14s %8s\n' workload baseline now ratio
while read -r name now; do
  base=$(awk -v n="$name" '$1 == n { print $2 }' "$BASELINE" 2>/dev/null || true)
  if [ -z "$base" ]; then
    printf '%-24s %14s %14s %8s\n' "$name" - "$now" "new"
    echo "no baseline for $name: run bench/instructions.sh --update and commit it" >&2
    status=1
    continue
  fi
  ratio=$(awk -v a="$now" -v b="$base" 'BEGIN { printf "%.3f", a / b }')
  printf '%-24s %14s %14s %8s\n' "$name" "$base" "$now" "$ratio"
  if awk -v r="$ratio" -v l="$LIMIT" 'BEGIN { exit !(r > l) }'; then
    echo "$name: $now instructions per unit, $ratio x the baseline $base (limit $LIMIT)" >&2
    status=1
  fi
done < "$OUT/now"
exit $status
