#!/usr/bin/env bash
# `collector record --nats` on the BitMEX firehose simulator into a local
# nats-server -js (file storage, its store in a temporary directory):
# quotes published and acknowledged per second, for a few in-flight windows,
# and the collector's peak RSS (/usr/bin/time -v). Figures for
# BENCHMARKS.md, never for tests (#16).
#
#   bench/nats_publish.sh [SECONDS]        (a release build is made first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-10}"
cargo build --release --quiet -p mercury-cli --bin collector
COLLECTOR=target/release/collector
NATS_SERVER="${MERCURY_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$OUT"' EXIT

echo "$("$NATS_SERVER" --version), $(nproc) CPUs"
printf '%-8s %12s %12s %12s %12s\n' window published acked acked/s peak_RSS_MB
for window in 64 512 2048; do
  rm -rf "$OUT/store" "$OUT/ports"; mkdir -p "$OUT/ports"
  "$NATS_SERVER" -js -sd "$OUT/store" -a 127.0.0.1 -p -1 --ports_file_dir "$OUT/ports" > "$OUT/nats.log" 2>&1 &
  nats=$!
  for _ in $(seq 100); do ls "$OUT/ports"/*.ports > /dev/null 2>&1 && break; sleep 0.1; done
  url=$(grep -o 'nats://[^"]*' "$OUT"/ports/*.ports | head -1)
  sleep 1  # JetStream ready
  "$COLLECTOR" sim bitmex --firehose --frames-per-quote 1 --duration $((SECONDS_EACH + 60)) > "$OUT/url" &
  sim=$!
  for _ in $(seq 100); do [ -s "$OUT/url" ] && break; sleep 0.1; done
  RUST_LOG=mercury_cli=info /usr/bin/time -v -o "$OUT/time" "$COLLECTOR" record bitmex:XBTUSD \
    --url "$(head -1 "$OUT/url")" --nats "$url" --nats-window "$window" \
    --duration "$SECONDS_EACH" 2> "$OUT/log" || true
  kill "$sim" "$nats" 2>/dev/null || true
  wait "$sim" "$nats" 2>/dev/null || true
  published=$(sed -n 's/.*published=\([0-9]*\).*/\1/p' "$OUT/log" | tail -1)
  acked=$(sed -n 's/.*acknowledged=\([0-9]*\).*/\1/p' "$OUT/log" | tail -1)
  [ -n "$published" ] || { echo "window $window failed:"; tail -3 "$OUT/log"; }
  rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time")
  printf '%-8s %12s %12s %12s %12s\n' "$window" "${published:-?}" "${acked:-?}" \
    "$(( ${acked:-0} / SECONDS_EACH ))" "$((rss_kb / 1024))"
done
