"""Market-maker detection from the book and the tape of one symbol.

Per book update (best bid / ask and their sizes):
- two-sided presence: both sides quoted, the thinner touch at least BALANCE (a tenth) of
  the thicker one, the spread at most `spread_ratio` times its baseline and the thinner
  side at least `depth_ratio` times its baseline (baselines: the means of the previous
  `z_window` updates). `persistence` is the share of the last
  `window` updates with such a quote.
- quote refresh (cancel / replace): the best price of a side moved, or its size changed by
  more than the trades at that price since the previous update explain. `refresh_rate` is
  refreshes per second over the last `window` updates; `replace_share` the share of them
  after which the quote was still two-sided (a maker re-quoting rather than leaving).
- withdrawal ("the maker backing away"): an update at which the two-sided quote is lost;
  `withdrawals` counts them in the last `window` updates, `since_withdrawal` counts updates
  since the latest.

Per trade with a participant hint (the resting side's id, when the feed gives one):
- inventory mean-reversion: the passive participant's inventory moves by -aggressor x size;
  over its last `z_window` trades, the OLS regression (with a constant) of Δinventory on
  the inventory before the trade is a Dickey-Fuller regression: a maker keeps its
  inventory near flat, so the slope is negative and its t-statistic far below the 5%
  critical value of -2.86 (a random walk's inventory rarely gets there, whatever the
  window: plain slopes are biased negative in short windows). `reversion` =
  1 - exp((t + 2.86) / 4) below the critical value, else 0: 0.83 at t = -10.

`score` in [0, 1] = 0.6 persistence + 0.2 replace share + 0.2 reversion when some
participant has hints, else 0.75 persistence + 0.25 replace share: high for a persistent
two-sided quoter, low for one-sided bursts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.microstructure.rolling import RollingSum

NAN = float("nan")
NEVER = 1_000_000_000  # updates since a withdrawal that never happened
MAX_PARTICIPANTS = 64  # the most active ones are kept; a hint per trade id would grow forever
BALANCE = 0.1  # a touch under a tenth of the other side's is an empty side
DF_CRITICAL_5 = -2.86  # Dickey-Fuller, with a constant, 5%, large samples
DF_SCALE = 4.0


@dataclass(frozen=True, slots=True)
class MakerReading:
    score: float  # maker presence, [0, 1]
    persistence: float  # share of recent updates with a normal two-sided quote
    refresh_rate: float  # quote refreshes per second
    replace_share: float  # share of refreshes that left a two-sided quote
    withdrawals: int  # withdrawal events in the last `window` updates
    since_withdrawal: int  # updates since the latest withdrawal (NEVER if none)
    withdrawn: bool  # the two-sided quote is missing right now
    reversion: float  # strongest inventory mean-reversion among hinted participants
    maker: str  # that participant ("" without hints)


class _Inventory:
    """One participant's inventory and the running sums of a rolling OLS of Δinventory on
    inventory: one ring of (x, y, xx, xy, yy) rows, five totals, rebuilt exactly every
    `window` trades (a trade costs one update, not five)."""

    __slots__ = ("level", "window", "ring", "next", "count", "sums", "since", "trades")

    def __init__(self, window: int) -> None:
        self.level = 0.0
        self.window = window
        self.ring: list[tuple[float, float, float, float, float]] = [(0.0,) * 5] * window
        self.next = self.count = self.since = self.trades = 0
        self.sums = [0.0] * 5

    def add(self, change: float) -> None:
        x = self.level
        row = (x, change, x * x, x * change, change * change)
        sums, i = self.sums, self.next
        if self.count == self.window:
            old = self.ring[i]
            for k in range(5):
                sums[k] += row[k] - old[k]
        else:
            self.count += 1
            for k in range(5):
                sums[k] += row[k]
        self.ring[i] = row
        self.next = i + 1 if i + 1 < self.window else 0
        self.since += 1
        if self.since >= self.window:
            rows = self.ring[: self.count]
            self.sums = [math.fsum(r[k] for r in rows) for k in range(5)]
            self.since = 0
        self.level = x + change
        self.trades += 1

    def t_statistic(self) -> float:
        """The Dickey-Fuller t of the slope; NaN with too few trades or no variation."""
        n = self.count
        if n < 20:
            return NAN
        x, y, xx, xy, yy = self.sums
        sxx = xx - x * x / n
        syy = yy - y * y / n
        if sxx <= 1e-12 * max(xx, 1e-300):
            return NAN
        slope = (xy - x * y / n) / sxx
        residual = max(syy - slope * slope * sxx, 0.0) / (n - 2)
        if residual <= 0.0:
            return -math.inf if slope < 0 else NAN
        return slope / math.sqrt(residual / sxx)

    def reversion(self) -> float:
        t = self.t_statistic()
        if not t < DF_CRITICAL_5:
            return 0.0
        return 1.0 - math.exp((t - DF_CRITICAL_5) / DF_SCALE)


class MakerDetector:
    __slots__ = ("window", "z_window", "spread_ratio", "depth_ratio", "_spread", "_depth",
                 "_flags", "_flag_next", "_flag_count", "_counts", "_times", "_time_next",
                 "_prev",
                 "_traded_bid", "_traded_ask", "_inventories", "since_withdrawal",
                 "withdrawn")

    def __init__(self, window: int, z_window: int, spread_ratio: float,
                 depth_ratio: float) -> None:
        self.window, self.z_window = window, z_window
        self.spread_ratio, self.depth_ratio = spread_ratio, depth_ratio
        self._spread = RollingSum(z_window)
        self._depth = RollingSum(z_window)
        # One ring of per-update flags (PRESENT | REFRESH | REPLACED | EVENT) and exact
        # integer counts of each over the window.
        self._flags = [0] * window
        self._flag_next = 0
        self._flag_count = 0
        self._counts = [0, 0, 0, 0]
        self._times = [NAN] * window
        self._time_next = 0
        self._prev: tuple[float, float, float, float] | None = None
        self._traded_bid = 0.0  # size sold into the bid since the last update
        self._traded_ask = 0.0
        self._inventories: dict[str, _Inventory] = {}
        self.since_withdrawal = NEVER
        self.withdrawn = False

    def on_quote(self, ts: float, bid: float, bid_size: float, ask: float,
                 ask_size: float) -> None:
        """A new best bid / ask at `ts` (seconds)."""
        spread = ask - bid
        thinner = min(bid_size, ask_size)
        quoted = bid_size > 0.0 and ask_size > 0.0 and spread > 0.0
        two_sided = quoted and thinner >= BALANCE * max(bid_size, ask_size)
        n = len(self._spread)
        if two_sided and n >= 2:  # against the baselines, once there are some
            two_sided = (spread * n <= self.spread_ratio * self._spread.total
                         and thinner * n >= self.depth_ratio * self._depth.total)
        if quoted:
            self._spread.push(spread)
            self._depth.push(thinner)
        refresh = self._refreshed(bid, bid_size, ask, ask_size)
        withdrawal = not two_sided and not self.withdrawn and self._prev is not None
        self._push_flags(two_sided, refresh, withdrawal)
        self.since_withdrawal = 0 if withdrawal else min(self.since_withdrawal + 1, NEVER)
        self.withdrawn = not two_sided
        self._times[self._time_next] = ts
        self._time_next = (self._time_next + 1) % self.window
        self._prev = (bid, bid_size, ask, ask_size)
        self._traded_bid = self._traded_ask = 0.0

    def _push_flags(self, present: bool, refresh: bool, withdrawal: bool) -> None:
        counts, i = self._counts, self._flag_next
        if self._flag_count == self.window:
            old = self._flags[i]
            counts[0] -= old & 1
            counts[1] -= (old >> 1) & 1
            counts[2] -= (old >> 2) & 1
            counts[3] -= (old >> 3) & 1
        else:
            self._flag_count += 1
        replaced = present and refresh
        self._flags[i] = present | (refresh << 1) | (replaced << 2) | (withdrawal << 3)
        counts[0] += present
        counts[1] += refresh
        counts[2] += replaced
        counts[3] += withdrawal
        self._flag_next = i + 1 if i + 1 < self.window else 0

    def _refreshed(self, bid: float, bid_size: float, ask: float, ask_size: float) -> bool:
        prev = self._prev
        if prev is None:
            return False
        prev_bid, prev_bid_size, prev_ask, prev_ask_size = prev
        if bid != prev_bid or ask != prev_ask:
            return True
        # Size that trades took off the touch is not a cancel; anything else is.
        tolerance = 1e-9 * max(prev_bid_size, prev_ask_size, 1.0)
        bid_left = prev_bid_size - self._traded_bid
        ask_left = prev_ask_size - self._traded_ask
        return abs(bid_size - bid_left) > tolerance or abs(ask_size - ask_left) > tolerance

    def on_trade(self, price: float, size: float, aggressor: int, maker: str = "") -> None:
        """A print; `maker` is the resting side's participant id when the feed gives it."""
        prev = self._prev
        if prev is not None:
            if aggressor < 0 and price <= prev[0]:
                self._traded_bid += size
            elif aggressor > 0 and price >= prev[2]:
                self._traded_ask += size
        if maker:
            inventory = self._inventories.get(maker)
            if inventory is None:
                if len(self._inventories) >= MAX_PARTICIPANTS:
                    quietest = min(self._inventories, key=lambda k: self._inventories[k].trades)
                    del self._inventories[quietest]
                inventory = self._inventories[maker] = _Inventory(self.z_window)
            inventory.add(-aggressor * size)

    def reading(self) -> MakerReading:
        n = self._flag_count
        present, refreshes, replaced, events = self._counts
        persistence = present / n if n else 0.0
        replace_share = replaced / refreshes if refreshes > 0 else persistence
        # The slot written next holds the oldest time once the ring is full.
        oldest = self._times[self._time_next] if n == self.window else self._times[0]
        newest = self._times[self._time_next - 1]
        span = newest - oldest if n > 1 else 0.0
        rate = refreshes / span if span > 0 else 0.0
        maker, reversion = "", 0.0
        for name, inventory in self._inventories.items():
            value = inventory.reversion()
            if value > reversion or not maker:
                maker, reversion = name, value
        if self._inventories:
            score = 0.6 * persistence + 0.2 * replace_share + 0.2 * reversion
        else:
            score = 0.75 * persistence + 0.25 * replace_share
        return MakerReading(min(max(score, 0.0), 1.0), persistence, rate, replace_share,
                            events, self.since_withdrawal,
                            self.withdrawn, reversion, maker)
