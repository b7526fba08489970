#!/usr/bin/env bash
# End-to-end latency through NATS JetStream: a paced BitMEX simulator →
# `collector record --nats` → nats-server -js (file storage) → `collector
# consume --format json` → a reader that notes when each line arrives.
# Latency = arrival at the reader − the quote's `received_at` (when the
# collector read the exchange frame; same machine, same clock). The record
# carries milliseconds, so each figure is up to 1 ms high (the truncated
# part of `received_at`); the script reports that resolution with the
# figures. Figures for BENCHMARKS.md, never for tests (#16).
#
#   bench/nats_latency.sh [SECONDS] [INTERVAL]   (defaults 10 s, 0.001 s a quote)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
INTERVAL="${2:-0.001}"
cargo build --release --quiet -p mercury-cli --bin collector
COLLECTOR=target/release/collector
NATS_SERVER="${MERCURY_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$OUT"' EXIT

mkdir -p "$OUT/ports"
"$NATS_SERVER" -js -sd "$OUT/store" -a 127.0.0.1 -p -1 --ports_file_dir "$OUT/ports" > "$OUT/nats.log" 2>&1 &
for _ in $(seq 100); do ls "$OUT/ports"/*.ports > /dev/null 2>&1 && break; sleep 0.1; done
url=$(grep -o 'nats://[^"]*' "$OUT"/ports/*.ports | head -1)
sleep 1  # JetStream ready
"$COLLECTOR" sim bitmex --fair-interval "$INTERVAL" --duration $((SECS + 60)) > "$OUT/url" &
for _ in $(seq 100); do [ -s "$OUT/url" ] && break; sleep 0.1; done
"$COLLECTOR" record bitmex:XBTUSD --url "$(head -1 "$OUT/url")" --nats "$url" --duration "$SECS" 2> "$OUT/record.log" &
record=$!
sleep 0.5  # the stream exists
"$COLLECTOR" consume --nats "$url" --format json --timeout $((SECS + 20)) 2> "$OUT/consume.log" \
  | python3 -c '
import sys, time, datetime
lat = []
start = time.time_ns()
warm = 0
for line in sys.stdin:
    now = time.time_ns()
    at = line.split("\"received_at\":\"", 1)[1][:23]
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    received = int(t.timestamp() * 1000) * 1_000_000
    # Quotes the collector read before this reader was up waited for it: left out.
    if received < start + 500_000_000:
        warm += 1
        continue
    lat.append(now - received)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6
print(f"quotes {len(lat)}  p50 {q(0.5):.2f} ms  p99 {q(0.99):.2f} ms  p99.9 {q(0.999):.2f} ms  max {lat[-1]/1e6:.2f} ms  (resolution: received_at in ms, figures up to 1 ms high; {warm} quotes read before the reader was up left out)")
' &
reader=$!
wait "$record" || true
sleep 2
pkill -TERM -f "$COLLECTOR consume --nats $url" || true
wait "$reader"
echo "$("$NATS_SERVER" --version), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), one quote every $INTERVAL s"
