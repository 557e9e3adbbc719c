"""A synthetic order book and trade prints around a bar, for the desk's book and tape.

Both are pure functions of their inputs and a seeded generator, so the simulated market
shows the same book for the same state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from engine.types import Bar, OrderSide

# Half the spread as a fraction of price: a floor, plus this much of the bar's volatility.
MIN_HALF_SPREAD = 2e-5
SPREAD_PER_VOL = 0.1


@dataclass(frozen=True, slots=True)
class OrderBook:
    symbol: str
    ts: datetime
    bids: tuple[tuple[float, float], ...]  # (price, size), best (highest) first
    asks: tuple[tuple[float, float], ...]  # (price, size), best (lowest) first

    @property
    def best_bid(self) -> float:
        return self.bids[0][0]

    @property
    def best_ask(self) -> float:
        return self.asks[0][0]

    @property
    def spread(self) -> float:
        return self.best_ask - self.best_bid

    @property
    def mid(self) -> float:
        return (self.best_ask + self.best_bid) / 2


@dataclass(frozen=True, slots=True)
class TradePrint:
    symbol: str
    ts: datetime
    price: float
    size: float
    aggressor: OrderSide  # the side that crossed the spread


def tick_size(price: float) -> float:
    """About 1/10,000 of the price, a power of ten: 1 for 60,000, 0.01 for 150."""
    return 10.0 ** (math.floor(math.log10(price)) - 4)


def synth_book(bar: Bar, bar_vol: float, levels: int, rng: np.random.Generator) -> OrderBook:
    """`levels` bids and asks around `bar.close`; the spread widens with `bar_vol`."""
    if levels < 1:
        raise ValueError(f"levels must be at least 1, got {levels}")
    tick = tick_size(bar.close)
    digits = max(0, -math.floor(math.log10(tick)))
    half = bar.close * max(MIN_HALF_SPREAD, SPREAD_PER_VOL * bar_vol)
    half_ticks = max(1, math.ceil(half / tick))
    step_ticks = max(1, round(half / 2 / tick))
    mid_ticks = round(bar.close / tick)
    depth = np.arange(levels)
    # Deeper levels hold more size; the jitter makes the book look alive.
    base = max(bar.volume, 1e-9) / (4 * levels)
    sizes = base * (1 + 0.4 * depth)[None, :] * rng.lognormal(0.0, 0.5, size=(2, levels))

    def side(sign: int, row: int) -> tuple[tuple[float, float], ...]:
        ticks = mid_ticks + sign * (half_ticks + step_ticks * depth)
        return tuple(
            (round(float(t) * tick, digits), float(s))
            for t, s in zip(ticks, sizes[row], strict=True)
            if t > 0
        )

    return OrderBook(bar.symbol, bar.ts, side(-1, 0), side(+1, 1))


def synth_trades(bar: Bar, interval: timedelta, rng: np.random.Generator) -> list[TradePrint]:
    """A few prints inside `bar`: first at the open, last at the close, touching the low
    and the high in the order an up (O-L-H-C) or down (O-H-L-C) bar would."""
    n = int(rng.integers(4, 9))
    up = bar.close >= bar.open
    prices = bar.low + (bar.high - bar.low) * rng.random(n)
    prices[0], prices[-1] = bar.open, bar.close
    i_first, i_second = np.sort(rng.choice(np.arange(1, n - 1), size=2, replace=False))
    prices[i_first], prices[i_second] = (bar.low, bar.high) if up else (bar.high, bar.low)
    offsets = np.sort(rng.random(n)) * interval.total_seconds()
    offsets[0] = 0.0
    # The prints are a sample of the bar's trades, not all of them.
    sizes = rng.dirichlet(np.ones(n)) * bar.volume * 0.1
    prints = []
    aggressor = OrderSide.BUY if up else OrderSide.SELL
    for k in range(n):
        # Tick rule: an uptick was a buyer lifting the offer, a downtick a seller hitting.
        if k and prices[k] != prices[k - 1]:
            aggressor = OrderSide.BUY if prices[k] > prices[k - 1] else OrderSide.SELL
        ts = bar.ts + timedelta(seconds=float(offsets[k]))
        prints.append(TradePrint(bar.symbol, ts, float(prices[k]), float(sizes[k]), aggressor))
    return prints
