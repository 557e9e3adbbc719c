"""Binance-style market streams for the fake exchange, over websockets (sync server).

Paths: `/ws/<stream>[/<stream>...]` sends raw events; `/stream?streams=a/b` wraps each as
{"stream": name, "data": event}. A client may also send {"method": "SUBSCRIBE",
"params": [...], "id": n} on any /ws path (what ccxt.pro does). Streams: `<sym>@trade`,
`<sym>@kline_<interval>`, `<sym>@depth5|10|20`. Every `Faults.ws_interval_s` each stream
gets one event; `FakeExchange.drop_ws()` or `Faults.ws_drop_after` cut connections
abruptly (no close frame), as a flaky network would.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from tests.fakes.candles import INTERVALS_MS, to_decimal


class WsStreams:
    def __init__(self, fake, port: int) -> None:
        from websockets.sync.server import serve

        self.fake = fake
        self._conns: set = set()
        self._lock = threading.Lock()
        self._server = serve(self._handle, "127.0.0.1", port, compression=None)
        self._server.SHUTDOWN_POLLING_INTERVAL = 0.05  # stop() waits for one poll

    @property
    def port(self) -> int:
        return self._server.socket.getsockname()[1]

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def shutdown(self) -> None:
        self.drop_all()
        self._server.shutdown()

    def drop_all(self) -> int:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _cut(conn)
        return len(conns)

    def _handle(self, conn) -> None:
        from websockets.exceptions import ConnectionClosed

        split = urlsplit(conn.request.path)
        combined = split.path.startswith("/stream")
        if combined:
            names = parse_qs(split.query).get("streams", [""])[0].split("/")
        else:
            names = split.path.removeprefix("/ws").strip("/").split("/")
        streams = {n.lower(): _Stream(n.lower()) for n in names if "@" in n}
        with self._lock:
            self._conns.add(conn)
        sent = 0
        due = time.monotonic()
        try:
            while True:
                wait = max(0.0, due - time.monotonic())
                try:
                    message = conn.recv(timeout=wait)
                except TimeoutError:
                    message = None
                if message is not None:
                    conn.send(json.dumps(_control(message, streams)))
                    continue
                due = time.monotonic() + self.fake.faults.ws_interval_s
                for name, stream in list(streams.items()):
                    for event in stream.events(self.fake):
                        payload = {"stream": name, "data": event} if combined else event
                        conn.send(json.dumps(payload))
                        sent += 1
                        limit = self.fake.faults.ws_drop_after
                        if limit and sent >= limit:
                            _cut(conn)
                            return
        except (ConnectionClosed, OSError):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)


def _cut(conn) -> None:
    """Close the TCP connection under the websocket: the client sees 1006, no close frame."""
    try:
        conn.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _control(message: str | bytes, streams: dict) -> dict:
    try:
        request = json.loads(message)
        method, params, ident = request["method"], request.get("params", []), request.get("id")
    except (ValueError, KeyError, TypeError):
        return {"code": 2, "msg": "Invalid request"}
    if method == "SUBSCRIBE":
        for name in params:
            streams.setdefault(name.lower(), _Stream(name.lower()))
        return {"result": None, "id": ident}
    if method == "UNSUBSCRIBE":
        for name in params:
            streams.pop(name.lower(), None)
        return {"result": None, "id": ident}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(streams), "id": ident}
    return {"code": 2, "msg": f"Invalid method {method!r}", "id": ident}


class _Stream:
    """One subscription; remembers what it last saw so a new bar first closes the old one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.symbol_id, _, self.kind = name.partition("@")
        self.cursor: int | None = None
        self.count = 0

    def events(self, fake) -> list[dict]:
        spec = fake.venue.by_id.get(self.symbol_id.upper())
        if spec is None:
            return []
        with fake.venue.lock:
            now, cursor = fake.candles.now_ms(), fake.candles.cursor
            self.count += 1
            if self.kind == "trade":
                return [self._trade(fake, spec, now, cursor)]
            if self.kind.startswith("kline_") and self.kind[6:] in INTERVALS_MS:
                return self._klines(fake, spec, now, cursor)
            if self.kind in ("depth5", "depth10", "depth20"):
                return [self._depth(fake, spec, int(self.kind[5:]), cursor)]
        return []

    def _trade(self, fake, spec, now: int, cursor: int) -> dict:
        _, (_, high, low, _, _) = fake.candles.last(spec.unified)
        rng = random.Random(f"{spec.id}:{cursor}:{self.count}")  # same run, same prints
        price = to_decimal(rng.uniform(low, high), spec.tick)
        qty = (spec.min_qty * rng.randint(1, 5000)).normalize()
        trade_id = cursor * 1000 + self.count
        return {
            "e": "trade", "E": now, "s": spec.id, "t": trade_id, "p": str(price),
            "q": str(qty), "T": now, "m": rng.random() < 0.5, "M": True,
        }

    def _klines(self, fake, spec, now: int, cursor: int) -> list[dict]:
        interval = self.kind[6:]
        events = []
        if self.cursor is not None and cursor > self.cursor:
            # The bar that was current last time is now complete: send it closed first.
            before = self.cursor * 60_000 + fake.candles.start_ms - 1
            rows = fake.candles.klines(
                spec.unified, interval, start_ms=None, end_ms=before, limit=1
            )
            events += [_kline(spec, interval, now, row, closed=True) for row in rows]
        self.cursor = cursor
        rows = fake.candles.klines(spec.unified, interval, start_ms=None, end_ms=None, limit=1)
        events += [_kline(spec, interval, now, row, closed=False) for row in rows]
        return events

    def _depth(self, fake, spec, levels: int, cursor: int) -> dict:
        mid = fake.venue.price(spec)
        rng = random.Random(f"{spec.id}:{cursor}:{self.count}:book")
        half = max(spec.tick, (mid * Decimal("0.00005")).quantize(spec.tick))

        def size() -> str:
            return str((spec.min_qty * rng.randint(100, 100_000)).normalize())

        bids = [[str(mid - half - spec.tick * i), size()] for i in range(levels)]
        asks = [[str(mid + half + spec.tick * i), size()] for i in range(levels)]
        return {"lastUpdateId": cursor * 1000 + self.count, "bids": bids, "asks": asks}


def _kline(spec, interval: str, now: int, row, *, closed: bool) -> dict:
    open_ms, close_ms, (o, h, low, c, v) = row
    places = f".{-spec.tick.as_tuple().exponent}f"
    return {
        "e": "kline",
        "E": now,
        "s": spec.id,
        "k": {
            "t": open_ms, "T": close_ms, "s": spec.id, "i": interval, "f": 0, "L": 0,
            "o": format(o, places), "c": format(c, places), "h": format(h, places),
            "l": format(low, places), "v": format(v, ".8f"), "n": int(v) + 1, "x": closed,
            "q": format(v * c, ".8f"), "V": format(v / 2, ".8f"),
            "Q": format(v * c / 2, ".8f"), "B": "0",
        },
    }
