#!/usr/bin/env bash
# `collector record` on the BitMEX firehose simulator, one run per quote
# format: quotes/s, bytes per quote on disk, peak RSS (/usr/bin/time -v);
# the defaults (JSON Lines + Parquet + the raw capture); and a Python peer.
# Figures for BENCHMARKS.md, never for tests (#15).
#
#   bench/record_formats.sh [SECONDS]        (a release build is made first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-10}"
cargo build --release --quiet -p mercury-cli --bin collector
COLLECTOR=target/release/collector
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$OUT"' EXIT

printf '%-22s %10s %12s %14s %12s\n' run quotes quotes/s bytes/quote peak_RSS_MB
for run in "jsonl" "jsonl --compress" "csv" "parquet" "jsonl,csv,parquet --compress" "jsonl,parquet raw"; do
  read -r format extra <<<"$run"
  # "raw": with the raw capture (record's default), else --no-raw.
  noraw=--no-raw
  if [ "$extra" = raw ]; then noraw=; extra=; fi
  "$COLLECTOR" sim bitmex --firehose --frames-per-quote 1 --duration $((SECONDS_EACH + 30)) > "$OUT/url" &
  sim=$!
  for _ in $(seq 100); do [ -s "$OUT/url" ] && break; sleep 0.1; done
  dir="$OUT/${format//,/-}${extra:+-z}"
  /usr/bin/time -v -o "$OUT/time" "$COLLECTOR" record bitmex:XBTUSD --url "$(head -1 "$OUT/url")" \
    $noraw --format "$format" $extra --duration "$SECONDS_EACH" --out "$dir" 2>/dev/null || true
  kill "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time")
  # Every format holds the same quotes: the last seq of the JSON Lines (or
  # of the CSV) is the count; Parquet alone is counted with pyarrow if any.
  # (The quote partition only: the ledger is JSON Lines too.)
  quotes=$(find "$dir/bitmex" -name '*.jsonl*' -o -name '*.csv*' | head -1 | xargs -r sh -c '
    case "$0" in *.zst) zstd -dcq "$0";; *) cat "$0";; esac | tail -1 | cut -d, -f1 | sed "s/.*\"seq\":\([0-9]*\).*/\1/"')
  if [ -z "$quotes" ] && [ -x target/pyenv/bin/python ]; then
    quotes=$(target/pyenv/bin/python -c 'import sys, pyarrow.parquet as pq; print(sum(pq.ParquetFile(p).metadata.num_rows for p in sys.argv[1:]))' $(find "$dir/bitmex" -name '*.parquet'))
  fi
  for f in jsonl csv parquet; do
    case ",$format," in *",$f,"*) ;; *) continue;; esac
    bytes=$(find "$dir/bitmex" -name "*.$f" -o -name "*.$f.zst" | xargs cat | wc -c)
    printf '%-22s %10s %12s %14s %12s\n' "$run [$f]" "$quotes" "$((quotes / SECONDS_EACH))" \
      "$(awk -v b="$bytes" -v q="$quotes" 'BEGIN {printf "%.1f", b / q}')" "$((rss_kb / 1024))"
  done
done

# The Python peer on the same firehose, side by side: a plain aiohttp loop
# writing the same quotes as JSON Lines to a file (prices exact, as
# Decimal), for SECONDS_EACH (SIGTERM at the end, like record's
# --duration). Skipped, saying so, without bench/.venv (bench/run.sh makes it).
if [ -x bench/.venv/bin/python ]; then
  "$COLLECTOR" sim bitmex --firehose --frames-per-quote 1 --duration $((SECONDS_EACH + 30)) > "$OUT/url" &
  sim=$!
  for _ in $(seq 100); do [ -s "$OUT/url" ] && break; sleep 0.1; done
  /usr/bin/time -v -o "$OUT/time" timeout -s TERM "$SECONDS_EACH" bench/.venv/bin/python \
    bench/peers/aiohttp_client.py jsonl "$(head -1 "$OUT/url")" 1000000000 > "$OUT/peer.jsonl" 2>/dev/null || true
  kill "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  quotes=$(wc -l < "$OUT/peer.jsonl")
  bytes=$(wc -c < "$OUT/peer.jsonl")
  rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time")
  printf '%-22s %10s %12s %14s %12s\n' "python aiohttp [jsonl]" "$quotes" "$((quotes / SECONDS_EACH))" \
    "$(awk -v b="$bytes" -v q="$quotes" 'BEGIN {printf "%.1f", b / q}')" "$((rss_kb / 1024))"
else
  echo "python aiohttp: skipped (no bench/.venv; bench/run.sh makes it)"
fi
