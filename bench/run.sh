#!/usr/bin/env bash
# mercury next to other clients, in one run, against the same simulator:
#   - firehose: a BitMEX simulator sending instrument updates back to back;
#     each client reads until QUOTES fairPrice values arrived; mercury also
#     over wss:// (the simulator's TLS, a CA made for the run), since
#     production traffic is TLS;
#   - the teaching task: the next 10 fairPrice values at the simulator's
#     default pace (one every 100 ms), process start to exit;
#   - start-up: process start to the first quote.
# Prints one table with mercury's ratio to each client. Needs cargo and
# python3 (the peers' venv is made here, from bench/peers/requirements.txt).
# Only 127.0.0.1; every process is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
QUOTES=${QUOTES:-200000}
PY_QUOTES=${PY_QUOTES:-50000}
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT

echo "== building (release)" >&2
cargo build --release --quiet -p mercury-cli -p mercury-bench
COLLECTOR=target/release/collector
BENCH=target/release/mercury-bench
AWC=target/release/awc_reader

if [ ! -x bench/.venv/bin/python ]; then
  echo "== making bench/.venv" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet -r bench/peers/requirements.txt
fi
PY=bench/.venv/bin/python

# A simulator of its own for each run, so every client starts from the same state.
sim() {  # sim NAME ARGS… → prints the URL
  "$COLLECTOR" sim bitmex --duration 300 "${@:2}" > "$OUT/$1.url" &
  for _ in $(seq 100); do [ -s "$OUT/$1.url" ] && break; sleep 0.05; done
  head -1 "$OUT/$1.url"
}
sim_tls() {  # sim_tls NAME ARGS… → prints "--url URL --ca-cert CA"
  "$COLLECTOR" sim bitmex --tls --duration 300 "${@:2}" > "$OUT/$1.url" &
  for _ in $(seq 100); do [ "$(wc -l < "$OUT/$1.url")" -ge 2 ] && break; sleep 0.05; done
  echo "--url $(head -1 "$OUT/$1.url") --ca-cert $(sed -n 's/^ca: //p' "$OUT/$1.url")"
}

if [ "${SKIP_CODEC:-0}" != 1 ]; then
  echo "== codec (criterion, real and realistic frames)" >&2
  cargo bench --quiet -p mercury-exchange-bitmex --bench decode -- --warm-up-time 1 --measurement-time 2 2>/dev/null \
    | awk '/^bitmex_decode/ {name=$1} /time: +\[[0-9]/ && name {print name, "median", $4, $5; name=""}' > "$OUT/codec.txt"
fi

echo "== firehose" >&2
"$BENCH" --quotes "$QUOTES" --json > "$OUT/mercury-inprocess.json"
"$BENCH" --quotes "$QUOTES" --json --url "$(sim fh1 --firehose)" > "$OUT/mercury.json"
# shellcheck disable=SC2046 # the options are two words each
"$BENCH" --quotes "$QUOTES" --json $(sim_tls fh1tls --firehose) > "$OUT/mercury-tls.json"
"$BENCH" --quotes "$QUOTES" --json --tls > "$OUT/mercury-inprocess-tls.json"
# The floor: awc alone reading the same firehose (frames counted, nothing
# decoded), in the same run; and mercury with a fair price in every frame
# (share 1.0), one in 4 (0.25, the default above) and one in 20 (0.05).
AWC_FRAMES=$((QUOTES * 4))
"$AWC" --frames "$AWC_FRAMES" --json > "$OUT/awc-inprocess.json"
"$AWC" --frames "$AWC_FRAMES" --json --url "$(sim fh0 --firehose)" > "$OUT/awc.json"
for n in 1 20; do
  "$BENCH" --quotes $((QUOTES * 4 / n)) --frames-per-quote "$n" --json --url "$(sim "fhs$n" --firehose --frames-per-quote "$n")" > "$OUT/mercury-share$n.json"
done
"$PY" bench/peers/aiohttp_client.py firehose "$(sim fh2 --firehose)" "$PY_QUOTES" > "$OUT/aiohttp.json"
"$PY" bench/peers/bitmex_ws_client.py firehose "$(sim fh3 --firehose)" "$((PY_QUOTES / 10))" > "$OUT/bitmex-ws.json"

echo "== fetch to a file: N quotes as JSON Lines / CSV, whole process" >&2
FILE_QUOTES=${FILE_QUOTES:-1000000}
PY_FILE_QUOTES=${PY_FILE_QUOTES:-200000}
timed() {  # timed NAME N COMMAND… → "NAME N wall_s peak_rss_kib"; stdout to a file
  local name=$1 n=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.out"
  [ "$(wc -l < "$OUT/$name.out")" -ge "$n" ] || { echo "$name wrote too few lines" >&2; exit 1; }
  echo "$name $n $(cat "$OUT/$name.time")"
  rm -f "$OUT/$name.out"
}
{
  timed mercury-json "$FILE_QUOTES" "$COLLECTOR" fetch bitmex XBTUSD --url "$(sim f1 --firehose --frames-per-quote 1)" -n "$FILE_QUOTES" --format json
  timed mercury-csv "$FILE_QUOTES" "$COLLECTOR" fetch bitmex XBTUSD --url "$(sim f2 --firehose --frames-per-quote 1)" -n "$FILE_QUOTES" --format csv
  timed python-aiohttp-json "$PY_FILE_QUOTES" "$PY" bench/peers/aiohttp_client.py jsonl "$(sim f3 --firehose --frames-per-quote 1)" "$PY_FILE_QUOTES"
} > "$OUT/file.txt"

echo "== the teaching task: 10 fair prices, and the first one" >&2
wall_ms() {  # wall_ms COMMAND… → milliseconds from start to exit
  local start end
  start=$(date +%s%N); "$@" > /dev/null; end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
{
  echo "mercury $(wall_ms "$COLLECTOR" fetch bitmex XBTUSD -n 10 --url "$(sim t1)") $(wall_ms "$COLLECTOR" fetch bitmex XBTUSD -n 1 --url "$(sim t2)")"
  echo "python-aiohttp $(wall_ms "$PY" bench/peers/aiohttp_client.py fetch "$(sim t3)" 10) $(wall_ms "$PY" bench/peers/aiohttp_client.py fetch "$(sim t4)" 1)"
  echo "python-bitmex-ws $(wall_ms "$PY" bench/peers/bitmex_ws_client.py fetch "$(sim t5)" 10) $(wall_ms "$PY" bench/peers/bitmex_ws_client.py fetch "$(sim t6)" 1)"
} > "$OUT/fetch.txt"

python3 - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
codec = out / "codec.txt"
if codec.exists():
    print("codec (BitMEX, per frame)")
    for line in codec.read_text().splitlines():
        name, _, value, unit = line.split()
        print(f"  {name.removeprefix('bitmex_decode/'):34} {value} {unit}")
    print()
runs = {name: json.loads((out / f"{name}.json").read_text()) for name in ["mercury", "mercury-tls", "mercury-inprocess", "mercury-inprocess-tls", "aiohttp", "bitmex-ws"]}
m = runs["mercury"]
print(f"{'firehose (external simulator)':34} {'messages/s':>11} {'quotes/s':>10} {'CPU ns/msg':>11} {'peak RSS':>10} {'p99 µs':>7}   mercury's ratio")
for name, label in [("mercury", "mercury (external simulator)"), ("mercury-tls", "mercury wss:// (external)"), ("mercury-inprocess", "mercury (simulator in-process)"), ("mercury-inprocess-tls", "mercury wss:// (in-process)"), ("aiohttp", "python aiohttp (plain client)"), ("bitmex-ws", "python bitmex-ws (official)")]:
    r = runs[name]
    if name.endswith("-tls"):
        plain = runs[name.removesuffix("-tls")]
        ratio = f"TLS: {r['messages_per_s'] / plain['messages_per_s']:.0%} of plain msgs/s, {r['cpu_ns_per_message'] / plain['cpu_ns_per_message']:.2f}× CPU/msg"
    else:
        ratio = "" if name.startswith("mercury") else f"{m['messages_per_s'] / r['messages_per_s']:.1f}× msgs/s, {r['peak_rss_kib'] / m['peak_rss_kib']:.1f}× less memory"
    p99 = r.get("latency_us", {}).get("p99", "-")
    print(f"{label:34} {r['messages_per_s']:>11,} {r['quotes_per_s']:>10,} {r['cpu_ns_per_message']:>11,} {r['peak_rss_kib'] / 1024:>8.1f} MB {p99:>7}   {ratio}")
print()
awc = {name: json.loads((out / f"{name}.json").read_text()) for name in ["awc", "awc-inprocess"]}
share = {n: json.loads((out / f"mercury-share{n}.json").read_text()) for n in [1, 20]}
share[4] = m
print(f"{'the engine against awc alone':34} {'messages/s':>11} {'quotes/s':>10} {'CPU ns/msg':>11} {'peak RSS':>10} {'p99 µs':>7}   share of awc's rate")
for label, r, floor in [("awc alone (external simulator)", awc["awc"], None), ("awc alone (in-process)", awc["awc-inprocess"], None), ("mercury (in-process)", runs["mercury-inprocess"], awc["awc-inprocess"])] + [(f"mercury, fair in 1 of {n} frames", share[n], awc["awc"]) for n in [1, 4, 20]]:
    p99 = r.get("latency_us", {}).get("p99", "-")
    quotes = r.get("quotes_per_s", 0)
    ratio = "" if floor is None else f"{r['messages_per_s'] / floor['messages_per_s']:.0%}"
    print(f"{label:34} {r['messages_per_s']:>11,} {quotes:>10,} {r['cpu_ns_per_message']:>11,} {r['peak_rss_kib'] / 1024:>8.1f} MB {p99:>7}   {ratio}")
print()
print(f"{'fetch to a file (whole process)':34} {'quotes':>11} {'quotes/s':>10} {'peak RSS':>10}   mercury's ratio")
rows = {name: (int(n), float(wall), int(rss)) for name, n, wall, rss in (l.split() for l in (out / "file.txt").read_text().splitlines())}
rate = lambda name: rows[name][0] / rows[name][1]
for name in rows:
    n, wall, rss = rows[name]
    ratio = "" if name.startswith("mercury") else f"{rate('mercury-json') / rate(name):.1f}× quotes/s (JSON), {rss / rows['mercury-json'][2]:.1f}× less memory"
    print(f"{name:34} {n:>11,} {rate(name):>10,.0f} {rss / 1024:>8.1f} MB   {ratio}")
print()
print(f"{'teaching task (10 fair prices)':34} {'wall ms':>11} {'over 900 ms':>12} {'first quote ms':>15}   mercury's ratio")
rows = [line.split() for line in (out / "fetch.txt").read_text().splitlines()]
mercury = next(r for r in rows if r[0] == "mercury")
for name, ten, one in rows:
    ratio = "" if name == "mercury" else f"{int(one) / int(mercury[2]):.1f}× faster to the first quote"
    print(f"{name:34} {int(ten):>11} {int(ten) - 900:>12} {int(one):>15}   {ratio}")
PY
