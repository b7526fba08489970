#!/usr/bin/env bash
# Rebuilds the committed seed corpora (corpus/<target>/seed-*) from the
# exchanges' real fixture frames (crates/exchange-*/tests/fixtures, see
# their SOURCES.md) and the hand-written seeds under seeds/. Each seed is
# whole lines of one fixture, at most MAX bytes (a longer first line is
# cut: a truncated frame is a fine seed too).
set -euo pipefail
cd "$(dirname "$0")"
MAX=8192

# window FILE FIRST_LINE OUT: lines FIRST_LINE.. of FILE, whole, up to MAX bytes.
window() {
  awk -v max="$MAX" -v first="$2" '
    NR < first { next }
    { line = $0 "\n"; if (total + length(line) > max) { if (total == 0) printf "%s", substr(line, 1, max); exit } printf "%s", line; total += length(line) }' "$1" > "$3"
}

for exchange in bitmex binance bybit deribit okx hyperliquid krakenfutures; do
  out="corpus/${exchange}_session"
  mkdir -p "$out"
  rm -f "$out"/seed-*
  for fixture in ../crates/exchange-$exchange/tests/fixtures/*.jsonl; do
    name=$(basename "$fixture" .jsonl)
    window "$fixture" 1 "$out/seed-$name"
  done
  cp seeds/$exchange/* "$out/" 2>/dev/null || true
done
# The long BitMEX session: a few windows along it (welcome, partials, updates).
for at in 200 600 1000 1400 1800 2100; do
  window ../crates/exchange-bitmex/tests/fixtures/cryptofeed_2021-07-22_session.jsonl "$at" \
    "corpus/bitmex_session/seed-cryptofeed_2021-07-22_session-$at"
done
# The pre-scan's target reads the same BitMEX frames (its first byte picks the wanted kinds).
mkdir -p corpus/bitmex_prescan
rm -f corpus/bitmex_prescan/seed-*
cp corpus/bitmex_session/seed-* corpus/bitmex_prescan/
for target in frame_guard cli_targets; do
  mkdir -p "corpus/$target"
  rm -f "corpus/$target"/seed-*
  cp seeds/$target/* "corpus/$target/"
done
ls corpus/*/ | wc -l
du -sh corpus
