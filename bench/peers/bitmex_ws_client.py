"""The official BitMEX Python adapter (`bitmex-ws` on PyPI), pointed at a
local simulator: it subscribes in the URL to instrument, quote and trade,
keeps the tables, and runs websocket-client on a thread.

  fetch URL N     print the first N fairPrice values (XBTUSD), one per line
  firehose URL N  read until N frames carrying fairPrice arrived; print one
                  JSON line of figures

The adapter has no callback for new data; this subclass counts the frames
its message handler sees (and spots fairPrice by a substring test, so as
not to parse twice). Written for mercury's benchmarks (bench/run.sh).
"""
import logging
import re
import sys
import threading
import time

from bitmex_websocket import BitMEXWebsocket
from report import report

FAIR = re.compile(r'"fairPrice":([-0-9.eE+]+)')


class Counting(BitMEXWebsocket):
    def __init__(self, url, wanted, on_quote):
        self.messages = 0
        self.quotes = 0
        self.wanted = wanted
        self.on_quote = on_quote
        self.done = threading.Event()
        # The adapter appends "?subscribe=…" to the endpoint's path.
        super().__init__(endpoint=url, symbol="XBTUSD", subscriptions=["instrument", "quote", "trade"])

    def _BitMEXWebsocket__on_message(self, ws, message):
        super()._BitMEXWebsocket__on_message(ws, message)
        self.messages += 1
        if '"table":"instrument"' in message:
            for price in FAIR.findall(message):
                self.quotes += 1
                self.on_quote(price, self.quotes)
                if self.quotes >= self.wanted:
                    self.done.set()


def main():
    logging.basicConfig(level=logging.WARNING)
    mode, url, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first = {}

    def note(price, n):
        if mode == "fetch" and n <= wanted:
            print(price, flush=True)
        if n == 1:
            first["wall"] = time.perf_counter()
            first["cpu"] = time.process_time()
            first["messages"] = client.messages if "client" in globals() else 0

    global client
    client = Counting(url, wanted, note)
    client.done.wait(timeout=300)
    wall = time.perf_counter() - first["wall"]
    cpu = time.process_time() - first["cpu"]
    messages = client.messages - first.get("messages", 0)
    quotes = client.quotes
    client.exit()
    if mode == "firehose":
        report("python-bitmex-ws", quotes, messages, wall, cpu)


if __name__ == "__main__":
    main()
