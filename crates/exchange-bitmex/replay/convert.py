#!/usr/bin/env python3
"""Converts cryptofeed's BITMEX.ws.1.0 sample (one real BitMEX session of
2021-07-22) into mercury's raw capture format (see
crates/collector/src/record/raw.rs), keeping every frame's recorded time.

    git show f60e83950af25be1d51d1aa85a5fd85e12598eff:sample_data/BITMEX.ws.1.0 \
        | python3 convert.py > 2021-07-22.raw.jsonl

cryptofeed's lines are `URL <-> SECONDS` (connected), `URL <- SECONDS: TEXT`
(sent; a bare `URL <- SECONDS` sent nothing and is skipped) and
`SECONDS: TEXT` (received). Frames of the orderBookL2
table are left out (mercury reads no order book; they are 95% of the
bytes). Times become nanoseconds, moved 1 ns past the previous record on a
tie, as mercury's own captures are. The frame texts are unchanged.
"""
import json
import sys
from decimal import Decimal

KINDS = ("bid", "ask", "trade")


def records(lines):
    last = 0
    symbols = []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        if line.startswith("wss://"):
            url, arrow, rest = line.split(" ", 2)
        else:
            url, arrow, rest = None, "->", line
        seconds, _, text = rest.partition(": ")
        at = int(Decimal(seconds.rstrip(":")) * 1_000_000_000)
        at = max(at, last + 1)
        if arrow == "<->":
            yield at, {"event": "connecting", "url": url}
        elif arrow == "<-":
            if not text:
                continue
            request = json.loads(text)
            if not symbols and request.get("op") == "subscribe":
                symbols = [a.split(":", 1)[1] for a in request["args"]]
                yield at, {"event": "subscriptions",
                           "subscriptions": [f"{s}:{k}" for s in symbols for k in KINDS]}
                at += 1
            yield at, {"event": "sent", "text": text}
        elif arrow == "->":
            if json.loads(text).get("table") == "orderBookL2" or '"subscribe":"orderBookL2:' in text:
                continue
            yield at, {"event": "recv", "text": text}
        else:
            raise SystemExit(f"unknown line: {line[:80]}")
        last = at


def main():
    for at, fields in records(sys.stdin):
        record = {"at_ns": at, "conn": 1, "exchange": "bitmex", **fields}
        sys.stdout.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
