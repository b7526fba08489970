"""A plain aiohttp client doing what the teaching task asks: connect to a
BitMEX realtime endpoint, subscribe to instrument:XBTUSD, and collect
fairPrice values in arrival order.

  fetch URL N     print the first N fairPrice values, one per line
  firehose URL N  read until N fairPrice values arrived; print one JSON
                  line of figures (messages/s, quotes/s, CPU, peak RSS)
  jsonl URL N     write the first N fairPrice quotes to stdout as JSON Lines
                  in mercury's shape (exact price text, receive time), as
                  `collector fetch --format json` does

Written for mercury's benchmarks (bench/run.sh); not a library.
"""
import asyncio
import datetime
import decimal
import json
import sys
import time

import aiohttp

from report import report

SUBSCRIBE = json.dumps({"op": "subscribe", "args": ["instrument:XBTUSD"]})


async def read(url, wanted, on_quote, parse=json.loads):
    messages = 0
    quotes = 0
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, max_msg_size=16 << 20) as ws:
            await ws.send_str(SUBSCRIBE)
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                messages += 1
                frame = parse(message.data)
                if frame.get("table") != "instrument":
                    continue
                for row in frame.get("data", ()):
                    if row.get("symbol") == "XBTUSD" and "fairPrice" in row:
                        quotes += 1
                        on_quote(row["fairPrice"], quotes)
                        if quotes >= wanted:
                            return messages, quotes
    return messages, quotes


def write_jsonl(url, wanted):
    """One JSON object per quote, prices exact (Decimal, printed as text)."""
    out = sys.stdout
    parse = lambda text: json.loads(text, parse_float=decimal.Decimal)

    def line(price, seq):
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        out.write(json.dumps({
            "seq": seq, "exchange": "bitmex", "symbol": "XBTUSD", "kind": "fair",
            "price": str(price), "received_at": now.replace("+00:00", "Z"),
        }))
        out.write("\n")

    asyncio.run(read(url, wanted, line, parse))
    out.flush()


def main():
    mode, url, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "jsonl":
        write_jsonl(url, wanted)
        return
    if mode == "fetch":
        asyncio.run(read(url, wanted, lambda price, _: print(price, flush=True)))
        return
    first = {}

    def note(_price, n):
        if n == 1:
            first["wall"] = time.perf_counter()
            first["cpu"] = time.process_time()

    messages, quotes = asyncio.run(read(url, wanted, note))
    wall = time.perf_counter() - first["wall"]
    cpu = time.process_time() - first["cpu"]
    report("python-aiohttp", quotes, messages, wall, cpu)


if __name__ == "__main__":
    main()
