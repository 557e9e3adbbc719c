"""Live trades and order books from an exchange's websocket streams (Binance style:
`<url>/<market id>@trade` and `<url>/<market id>@depth<N>`).

The book stream sends the top of the book whole each time, so a reconnect needs no repair.
Trades missed while disconnected are back-filled from REST (`fetch_trades` since the last
one seen) where the exchange offers it; trades are kept once per trade id either way, and
a gap that could not be filled is counted.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from engine.data.microstructure import OrderBook, TradePrint
from engine.types import OrderSide
from engine.venues.ccxt.ws_stream import StreamThread, reconnecting

KEEP_TRADES = 200


class MarketStream:
    def __init__(
        self, url: str, market_ids: Mapping[str, str], *, depth: int = 5,
        rest_exchange=None, backoff: tuple[float, float] = (0.5, 30.0),
        idle_timeout: float = 60.0,
    ) -> None:
        """`market_ids`: symbol -> the exchange's market id ("BTC/USDT" -> "BTCUSDT")."""
        self.url = url.rstrip("/")
        self.market_ids = dict(market_ids)
        self.depth = depth
        self.rest = rest_exchange
        self.backoff, self.idle_timeout = backoff, idle_timeout
        self.lock = threading.Lock()
        self.books: dict[str, OrderBook] = {}
        self.trades: dict[str, deque[tuple[str, TradePrint]]] = {
            s: deque(maxlen=KEEP_TRADES) for s in self.market_ids}
        self.connections = 0
        self.unfilled_gaps = 0  # reconnects after which missed trades could not be fetched
        self.last_error: BaseException | None = None
        self._seen: dict[str, set[str]] = {s: set() for s in self.market_ids}
        # Called on the stream's thread with each new book and each trade kept (the order-flow
        # analytics); a listener must be quick and thread-safe.
        self.listeners: list[Callable[[OrderBook | TradePrint], None]] = []
        self._streams = StreamThread("desk-market-stream")

    @property
    def symbols(self) -> Sequence[str]:
        return tuple(self.market_ids)

    def start(self) -> None:
        self._streams.start(lambda: [
            coroutine for symbol in self.market_ids
            for coroutine in (self._trades(symbol), self._book(symbol))])

    def close(self) -> None:
        self._streams.stop()

    # -- what the desk reads -------------------------------------------------------------

    def quote(self, symbol: str) -> tuple[float, float] | None:
        """Best bid and ask, if a book has arrived."""
        with self.lock:
            book = self.books.get(symbol)
        return (book.best_bid, book.best_ask) if book else None

    def last_trade(self, symbol: str) -> TradePrint | None:
        with self.lock:
            trades = self.trades.get(symbol)
            return trades[-1][1] if trades else None

    def trade_ids(self, symbol: str) -> list[str]:
        with self.lock:
            return [trade_id for trade_id, _ in self.trades[symbol]]

    # -- the streams -----------------------------------------------------------------------

    async def _trades(self, symbol: str) -> None:
        async def connected() -> None:
            self.connections += 1
            if self.trades[symbol]:  # a reconnect: fetch what went by meanwhile
                await self._streams.blocking(self._backfill, symbol)

        async def message(text) -> None:
            event = _event(text)
            if event.get("e") == "trade":
                self._add_trade(symbol, str(event["t"]), TradePrint(
                    symbol, _ms(event["T"]), float(event["p"]), float(event["q"]),
                    OrderSide.SELL if event.get("m") else OrderSide.BUY, str(event["t"])))

        await reconnecting(f"{self.url}/{self.market_ids[symbol].lower()}@trade", message,
                           stopping=self._streams.stopping, backoff=self.backoff,
                           idle_timeout=self.idle_timeout, on_connect=connected,
                           on_error=self._failed)

    async def _book(self, symbol: str) -> None:
        async def message(text) -> None:
            event = _event(text)
            if "bids" in event and "asks" in event:
                book = OrderBook(
                    symbol, datetime.now(UTC),
                    tuple((float(p), float(q)) for p, q in event["bids"]),
                    tuple((float(p), float(q)) for p, q in event["asks"]))
                if book.bids and book.asks:
                    with self.lock:
                        self.books[symbol] = book
                    for listener in self.listeners:
                        listener(book)

        await reconnecting(f"{self.url}/{self.market_ids[symbol].lower()}@depth{self.depth}",
                           message, stopping=self._streams.stopping, backoff=self.backoff,
                           idle_timeout=self.idle_timeout, on_error=self._failed)

    def _add_trade(self, symbol: str, trade_id: str, trade: TradePrint) -> bool:
        with self.lock:
            seen = self._seen[symbol]
            if trade_id in seen:
                return False
            kept = self.trades[symbol]
            if len(kept) == kept.maxlen:
                seen.discard(kept[0][0])
            kept.append((trade_id, trade))
            seen.add(trade_id)
        for listener in self.listeners:
            listener(trade)
        return True

    def _backfill(self, symbol: str) -> None:
        """Trades since the last one seen, from REST; a gap is counted if that fails."""
        last = self.last_trade(symbol)
        fetch = getattr(self.rest, "fetch_trades", None)
        if last is None or fetch is None:
            self.unfilled_gaps += 1
            return
        try:
            since = int(last.ts.timestamp() * 1000)
            rows = fetch(symbol, since=since)
        except Exception as error:  # noqa: BLE001 - the stream goes on; the gap is counted
            self._failed(error)
            self.unfilled_gaps += 1
            return
        for row in sorted(rows, key=lambda r: r["timestamp"]):
            self._add_trade(symbol, str(row["id"]), TradePrint(
                symbol, _ms(row["timestamp"]), float(row["price"]), float(row["amount"]),
                OrderSide.BUY if row.get("side") == "buy" else OrderSide.SELL))

    def _failed(self, error: BaseException) -> None:
        self.last_error = error


def _event(text) -> dict:
    try:
        event = json.loads(text)
    except ValueError:
        return {}
    if isinstance(event, dict) and "data" in event and "stream" in event:
        event = event["data"]
    return event if isinstance(event, dict) else {}


def _ms(value) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)
