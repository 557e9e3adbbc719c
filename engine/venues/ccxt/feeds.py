"""Live feeds from an exchange: REST polling through ccxt, or Binance-style kline websockets.

Both deliver CLOSED candles only (the forming one changes until its interval ends), each
once per symbol and in time order; after an outage or a reconnect they back-fill the
missed candles from REST so that no bar is lost or repeated.

Contract with the live engine: it calls `next_bars()` every `bar_seconds / speed`. An
empty dict means "nothing new yet", never "ended" (`ended` stays False: a live market
does not end). When several candles closed since the last call (an outage, a slow
engine), they are queued and handed out one timestamp per call, oldest first. Each call
waits at most `max_wait` seconds for a candle that is about to close, so a bar is not
left for a whole interval because the engine's rhythm is a little ahead of the market's.
`close()` stops the websocket thread.

DESK_CCXT_URLS (testing / proxy hook) applies here too: see engine.venues.ccxt.fetch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime

from engine.errors import DeskError
from engine.live.feeds import Feed
from engine.types import Bar
from engine.venues.ccxt.fetch import (
    ExchangeFetchError,
    Retry,
    build_exchange,
    candles_frame,
    check_market,
    iter_closed_pages,
    server_now_ms,
    timeframe_ms,
)
from engine.venues.ccxt.ws_stream import StreamThread, reconnecting

MAX_WAIT = 2.0


class _RestCandles(Feed):
    """Closed candles from REST, per-symbol queues, and the one-timestamp-per-call handout."""

    ended = False

    def __init__(self, exchange, symbols, timeframe: str, history_bars: int,
                 retry: Retry | None, startup: Retry | None = None) -> None:
        self.symbols = tuple(symbols)
        if not self.symbols:
            raise DeskError("a live feed needs at least one symbol")
        self.timeframe = timeframe
        self.history_bars = history_bars
        # A live loop does not block for minutes on a dead network: the next poll retries.
        self.retry = retry or Retry(attempts=2, first_delay=0.5)
        self.exchange = build_exchange(exchange, symbol=self.symbols[0])
        for symbol in self.symbols:  # at startup, an exchange briefly down is waited for
            check_market(self.exchange, symbol, timeframe, startup or self.retry)
        self.tf_ms = timeframe_ms(self.exchange, timeframe)
        self.bar_seconds = self.tf_ms / 1000
        self.last_ms: dict[str, int | None] = dict.fromkeys(self.symbols)  # last candle queued
        self.queues: dict[str, deque[Bar]] = {s: deque() for s in self.symbols}
        self.lock = threading.RLock()
        self.rest_lock = threading.Lock()  # one ccxt object is not safe on two threads
        self.last_error: BaseException | None = None

    def history(self, bars: int | None = None) -> dict:
        bars = bars or self.history_bars
        now = self._now()
        stop = now - self.tf_ms + 1  # open times below this are closed candles
        out = {}
        for symbol in self.symbols:
            rows = self._closed(symbol, stop - bars * self.tf_ms, stop)
            if not rows:
                raise ExchangeFetchError(f"{self.exchange.id} {symbol}: no closed candles")
            frame, _ = candles_frame(rows, f"{self.exchange.id} {symbol}")
            out[symbol] = frame
            with self.lock:
                self.last_ms[symbol] = rows[-1][0]
                self.queues[symbol].clear()
        return out

    def backfill(self, symbol: str, now: int | None = None) -> int:
        """Queue every closed candle after the last one queued; returns how many."""
        now = self._now() if now is None else now
        with self.lock:
            last = self.last_ms[symbol]
        since = last + 1 if last is not None else now - 2 * self.tf_ms + 1
        rows = self._closed(symbol, since, now - self.tf_ms + 1)
        return self.enqueue(symbol, rows)

    def enqueue(self, symbol: str, rows: list[list]) -> int:
        """Queue candle rows newer than the last one queued (older ones are duplicates)."""
        added = 0
        with self.lock:
            for row in rows:
                last = self.last_ms[symbol]
                if last is not None and row[0] <= last:
                    continue
                if any(v is None for v in row[1:5]):
                    continue  # a candle without prices is no bar; REST never heals it either
                self.queues[symbol].append(_bar(symbol, row))
                self.last_ms[symbol] = row[0]
                added += 1
        return added

    def take(self) -> dict[str, Bar]:
        """The queued bars with the oldest timestamp, one per symbol (time never goes back)."""
        with self.lock:
            heads = [q[0].ts for q in self.queues.values() if q]
            if not heads:
                return {}
            oldest = min(heads)
            return {s: q.popleft() for s, q in self.queues.items() if q and q[0].ts == oldest}

    def next_due_in(self, now: int) -> float:
        """Seconds until the next candle of the slowest symbol closes (by the exchange clock)."""
        with self.lock:
            known = [ms for ms in self.last_ms.values() if ms is not None]
        if not known:
            return 0.0
        return (min(known) + 2 * self.tf_ms - now) / 1000

    def _closed(self, symbol: str, since: int, stop: int) -> list[list]:
        rows: list[list] = []
        with self.rest_lock:
            for page in iter_closed_pages(self.exchange, symbol, self.timeframe,
                                          since_ms=since, stop_ms=stop, retry=self.retry):
                rows.extend(page)
        return rows

    def _now(self) -> int:
        with self.rest_lock:
            return server_now_ms(self.exchange, self.retry)

    def close(self) -> None:
        """Nothing to release for REST; the websocket feed stops its thread."""


class CcxtPollingFeed(_RestCandles):
    """Polls `fetch_ohlcv` for newly closed candles of every symbol."""

    def __init__(self, exchange, symbols, timeframe: str, history_bars: int, *,
                 retry: Retry | None = None, max_wait: float = MAX_WAIT,
                 startup: Retry | None = None) -> None:
        super().__init__(exchange, symbols, timeframe, history_bars, retry, startup)
        self.max_wait = max_wait

    def next_bars(self) -> dict[str, Bar]:
        with self.lock:
            empty = [s for s, q in self.queues.items() if not q]
        # Symbols still holding a backlog need no request; the others are polled so that
        # every symbol's bar of the same time goes out in the same call.
        now = self._poll(empty) if empty else None
        if now is not None and not any(self.queues.values()):
            due = self.next_due_in(now)
            if 0 < due <= self.max_wait:
                # The next candle closes within the wait budget: sleep past it, ask again.
                time.sleep(due + 0.05)
                self._poll(self.symbols)
        return self.take()

    def _poll(self, symbols) -> int | None:
        import ccxt

        try:
            now = self._now()
            for symbol in symbols:
                self.backfill(symbol, now)
        except (ExchangeFetchError, ccxt.OperationFailed) as error:
            # An outage is "nothing yet": the next poll back-fills from the last candle.
            self.last_error = error
            return None
        self.last_error = None
        return now


def _bar(symbol: str, row: list) -> Bar:
    ts = datetime.fromtimestamp(row[0] / 1000, tz=UTC)
    volume = float(row[5]) if len(row) > 5 and row[5] is not None else 0.0
    return Bar(symbol, ts, *(float(v) for v in row[1:5]), volume)


class WebsocketKlineFeed(_RestCandles):
    """Binance-style kline streams (`<url>/<market id>@kline_<timeframe>`), one connection
    per symbol on an asyncio loop of its own thread, started by `history()`.

    Only closed klines (`"x": true`) become bars. A dropped or silent connection is
    reopened with doubling delays; after every (re)connect, and whenever a kline arrives
    more than one interval after the last one, the gap is back-filled from REST.
    """

    def __init__(self, url: str, symbols, timeframe: str, rest_exchange, history_bars: int, *,
                 retry: Retry | None = None, max_wait: float = MAX_WAIT,
                 backoff: tuple[float, float] = (0.5, 30.0), idle_timeout: float = 60.0,
                 startup: Retry | None = None) -> None:
        super().__init__(rest_exchange, symbols, timeframe, history_bars, retry, startup)
        self.url = url.rstrip("/")
        self.max_wait = max_wait
        self.backoff = backoff
        self.idle_timeout = idle_timeout
        self.connections = 0  # successful connects, all symbols (a reconnect counts)
        self.arrived = threading.Condition(self.lock)
        self.streams = StreamThread("desk-ws-feed")
        self.stopping = self.streams.stopping

    def stream_url(self, symbol: str) -> str:
        market_id = self.exchange.market(symbol)["id"]
        return f"{self.url}/{market_id.lower()}@kline_{self.timeframe}"

    def history(self, bars: int | None = None) -> dict:
        frames = super().history(bars)
        self.start()
        return frames

    def start(self) -> None:
        self.streams.start(lambda: [self._stream(symbol) for symbol in self.symbols])

    def next_bars(self) -> dict[str, Bar]:
        with self.arrived:
            if not any(self.queues.values()) and self.max_wait > 0:
                self.arrived.wait(self.max_wait)
            return self.take()

    def enqueue(self, symbol: str, rows: list[list]) -> int:
        with self.arrived:
            added = super().enqueue(symbol, rows)
            if added:
                self.arrived.notify_all()
        return added

    def close(self) -> None:
        self.streams.stop()

    # -- the websocket thread --------------------------------------------------------------

    async def _stream(self, symbol: str) -> None:
        async def connected() -> None:
            self.connections += 1
            # Subscribed first, then back-filled: a kline closing in between is in the
            # socket's buffer and deduplicated on arrival.
            await self.streams.blocking(self.backfill, symbol)

        async def message(text) -> None:
            row = _closed_kline(text)
            if row is not None:
                await self._deliver(symbol, row)

        def failed(error: BaseException) -> None:
            self.last_error = error

        await reconnecting(self.stream_url(symbol), message, stopping=self.stopping,
                           backoff=self.backoff, idle_timeout=self.idle_timeout,
                           on_connect=connected, on_error=failed)

    async def _deliver(self, symbol: str, row: list) -> None:
        with self.lock:
            last = self.last_ms[symbol]
        if last is not None and row[0] > last + self.tf_ms and self.tf_ms < 28 * 86_400_000:
            # The stream skipped a kline without dropping the connection: heal from REST.
            await self.streams.blocking(self.backfill, symbol)
        self.enqueue(symbol, [row])


def _closed_kline(message) -> list | None:
    """[open ms, o, h, l, c, v] of a closed kline event (plain or combined stream)."""
    import json

    try:
        event = json.loads(message)
        if "data" in event and "stream" in event:
            event = event["data"]
        if event.get("e") != "kline" or not event["k"].get("x"):
            return None
        k = event["k"]
        return [int(k["t"]), float(k["o"]), float(k["h"]), float(k["l"]), float(k["c"]),
                float(k["v"])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not a kline we understand; a gap it leaves is back-filled later
