"""One symbol's order flow: the book and trade events in, the detectors' state out.

`FlowTracker` feeds each book update and trade to the imbalance and maker detectors and
keeps two features of its own: the mid's move over the last `window` updates with its
z-score, and the sustained-flow run (signed count of successive trades over which the
windowed aggressor imbalance kept its sign). Every update is O(1); `features()` is the
state the HFT rules read, under the names in FEATURES.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.data.microstructure import OrderBook, TradePrint
from engine.microstructure.imbalance import ImbalanceDetector, ImbalanceReading, combine
from engine.microstructure.makers import MakerDetector, MakerReading
from engine.microstructure.rolling import RollingStats, RollingSum
from engine.signals.strategies.base import FLOW_PREFIX
from engine.types import OrderSide

NAN = float("nan")
# Per-bar feature columns of a replayed recording are these names with FLOW_PREFIX.
FEATURES = ("composite_z", "confidence", "book", "book_z", "aggressor", "aggressor_z",
            "ofi", "ofi_z", "flow_run", "move_z", "since_withdrawal", "maker_score")
FLOW_COLUMNS = tuple(FLOW_PREFIX + name for name in FEATURES)


@dataclass(frozen=True, slots=True)
class FlowParams:
    """The defaults are the packaged desk.toml's [microstructure]."""

    window: int = 50  # book updates / trades a windowed measure covers
    z_window: int = 500  # values a z-score (and a maker baseline) is taken against
    min_periods: int = 30  # values before a z-score exists
    spread_ratio: float = 2.0  # a spread this many times its baseline is a withdrawal
    depth_ratio: float = 0.3  # a touch this thin against its baseline is a withdrawal


class FlowTracker:
    __slots__ = ("symbol", "params", "imbalance", "makers", "_move", "_move_z", "_mid",
                 "move_z", "flow_run", "book", "last_trade", "updates", "trades")

    def __init__(self, symbol: str, params: FlowParams | None = None) -> None:
        p = params or FlowParams()
        self.symbol = symbol
        self.params = p
        self.imbalance = ImbalanceDetector(p.window, p.z_window, p.min_periods)
        self.makers = MakerDetector(p.window, p.z_window, p.spread_ratio, p.depth_ratio)
        self._move = RollingSum(p.window)
        self._move_z = RollingStats(p.z_window, p.min_periods)
        self._mid = NAN
        self.move_z = NAN
        self.flow_run = 0
        self.book: OrderBook | None = None
        self.last_trade: TradePrint | None = None
        self.updates = 0
        self.trades = 0

    def on_book(self, book: OrderBook) -> None:
        if not book.bids or not book.asks:
            return
        bid, bid_size = book.bids[0]
        ask, ask_size = book.asks[0]
        self.imbalance.on_quote(bid, bid_size, ask, ask_size)
        self.makers.on_quote(book.ts.timestamp(), bid, bid_size, ask, ask_size)
        mid = 0.5 * (bid + ask)
        if self._mid == self._mid and mid > 0.0 and self._mid > 0.0:
            # log-return of the mid, so the move is comparable across price levels
            self.move_z = self._move_z.push(self._move.push(math.log(mid / self._mid)))
        self._mid = mid
        self.book = book
        self.updates += 1

    def on_trade(self, trade: TradePrint) -> None:
        sign = 1 if trade.aggressor == OrderSide.BUY else -1
        self.imbalance.on_trade(trade.size, sign)
        self.makers.on_trade(trade.price, trade.size, sign, trade.maker)
        aggressor = self.imbalance.aggressor
        now = 0 if aggressor != aggressor or aggressor == 0 else (1 if aggressor > 0 else -1)
        run = self.flow_run
        self.flow_run = run + now if now and run * now > 0 else now
        self.last_trade = trade
        self.trades += 1

    def on_event(self, event: OrderBook | TradePrint) -> None:
        if isinstance(event, OrderBook):
            self.on_book(event)
        else:
            self.on_trade(event)

    def pressure(self) -> tuple[int, float]:
        """(direction, confidence) of the imbalance detector, cheaply (no reading built)."""
        i = self.imbalance
        _, direction, confidence = combine((i.book_z, i.aggressor_z, i.ofi_z))
        return direction, confidence

    def readings(self) -> tuple[ImbalanceReading, MakerReading]:
        return self.imbalance.reading(), self.makers.reading()

    def features(self) -> dict[str, float]:
        imbalance, makers = self.readings()
        return {
            "composite_z": imbalance.composite_z, "confidence": imbalance.confidence,
            "book": imbalance.book, "book_z": imbalance.book_z,
            "aggressor": imbalance.aggressor, "aggressor_z": imbalance.aggressor_z,
            "ofi": imbalance.ofi, "ofi_z": imbalance.ofi_z, "flow_run": float(self.flow_run),
            "move_z": self.move_z, "since_withdrawal": float(makers.since_withdrawal),
            "maker_score": makers.score,
        }
