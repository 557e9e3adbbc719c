"""Order-flow imbalance: three measures, each with a rolling z-score, and a detector that
turns them into a predicted direction and a confidence.

- Top-of-book volume imbalance, per book update: (Qb - Qa) / (Qb + Qa) of the best bid and
  ask sizes, in [-1, 1]; positive means more resting size to buy than to sell.
- Aggressor imbalance, per trade: (B - S) / (B + S) of the buyer- and seller-initiated
  volume of the last `window` trades, in [-1, 1].
- Cont-Kukanov-Stoikov order-flow imbalance (OFI, "The Price Impact of Order Book Events",
  2014), per book update n with best prices P and sizes q:
      e_n = q^b_n 1{P^b_n >= P^b_n-1} - q^b_n-1 1{P^b_n <= P^b_n-1}
          - q^a_n 1{P^a_n <= P^a_n-1} + q^a_n-1 1{P^a_n >= P^a_n-1}
  and OFI = the sum of e over the last `window` updates, in units of size.

Each measure's z-score is taken against its own last `z_window` values (see
engine.microstructure.rolling for the convention). The detector's composite z is the mean
of the z-scores that exist; its direction is the composite's sign; its confidence is
tanh(|composite| / 2) times the share of measures that agree with that sign, so z = 2 with
all three agreeing reads 0.76 and z = 3 reads 0.91.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.microstructure.rolling import RollingStats, RollingSum

NAN = float("nan")
CONFIDENCE_Z_SCALE = 2.0


@dataclass(frozen=True, slots=True)
class ImbalanceReading:
    book: float  # top-of-book volume imbalance, [-1, 1]
    book_z: float
    aggressor: float  # aggressor volume imbalance of the last `window` trades, [-1, 1]
    aggressor_z: float
    buy_volume: float  # buyer-initiated volume of the last `window` trades
    sell_volume: float
    ofi: float  # Cont-Kukanov-Stoikov OFI summed over the last `window` updates (size units)
    ofi_z: float
    composite_z: float  # mean of the z-scores that exist; NaN when none does
    direction: int  # +1 buy pressure, -1 sell pressure, 0 none
    confidence: float  # [0, 1]


def ofi_increment(bid: float, bid_size: float, ask: float, ask_size: float,
                  prev_bid: float, prev_bid_size: float, prev_ask: float,
                  prev_ask_size: float) -> float:
    """e_n of Cont, Kukanov and Stoikov between two successive best quotes."""
    e = 0.0
    if bid >= prev_bid:
        e += bid_size
    if bid <= prev_bid:
        e -= prev_bid_size
    if ask <= prev_ask:
        e -= ask_size
    if ask >= prev_ask:
        e += prev_ask_size
    return e


def combine(z_scores: tuple[float, ...]) -> tuple[float, int, float]:
    """(composite z, direction, confidence) of the z-scores that are finite."""
    total, count, positive, negative = 0.0, 0, 0, 0
    for z in z_scores:  # a plain loop: this runs on every book update and trade
        if z == z:
            total += z
            count += 1
            if z > 0.0:
                positive += 1
            elif z < 0.0:
                negative += 1
    if not count:
        return NAN, 0, 0.0
    composite = total / count
    if composite == 0.0:
        return composite, 0, 0.0
    direction, agree = (1, positive) if composite > 0 else (-1, negative)
    return composite, direction, agree / count * math.tanh(abs(composite) / CONFIDENCE_Z_SCALE)


class ImbalanceDetector:
    """Follows one symbol's best quotes and trades; `reading()` is the current state."""

    __slots__ = ("_book_z", "_ofi", "_ofi_z", "_buys", "_sells", "_agg_z", "_prev",
                 "book", "book_z", "ofi", "ofi_z", "aggressor", "aggressor_z")

    def __init__(self, window: int, z_window: int, min_periods: int) -> None:
        self._book_z = RollingStats(z_window, min_periods)
        self._ofi = RollingSum(window)
        self._ofi_z = RollingStats(z_window, min_periods)
        self._buys = RollingSum(window)
        self._sells = RollingSum(window)
        self._agg_z = RollingStats(z_window, min_periods)
        self._prev: tuple[float, float, float, float] | None = None
        self.book = self.book_z = self.ofi = self.ofi_z = NAN
        self.aggressor = self.aggressor_z = NAN

    def on_quote(self, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        """A new best bid / ask (prices and sizes)."""
        depth = bid_size + ask_size
        if depth > 0.0:
            self.book = (bid_size - ask_size) / depth
            self.book_z = self._book_z.push(self.book)
        prev = self._prev
        if prev is not None:
            e = ofi_increment(bid, bid_size, ask, ask_size, *prev)
            self.ofi = self._ofi.push(e)
            self.ofi_z = self._ofi_z.push(self.ofi)
        self._prev = (bid, bid_size, ask, ask_size)

    def on_trade(self, size: float, aggressor: int) -> None:
        """A print of `size`; `aggressor` +1 when the buyer crossed the spread, -1 the seller."""
        buys = self._buys.push(size if aggressor > 0 else 0.0)
        sells = self._sells.push(size if aggressor < 0 else 0.0)
        total = buys + sells
        if total > 0.0:
            self.aggressor = (buys - sells) / total
            self.aggressor_z = self._agg_z.push(self.aggressor)

    def reading(self) -> ImbalanceReading:
        composite, direction, confidence = combine((self.book_z, self.aggressor_z,
                                                    self.ofi_z))
        return ImbalanceReading(
            self.book, self.book_z, self.aggressor, self.aggressor_z, self._buys.total,
            self._sells.total, self.ofi, self.ofi_z, composite, direction, confidence)
