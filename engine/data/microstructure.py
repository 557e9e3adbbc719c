"""A synthetic order book and trade prints around a bar, for the desk's book and tape, and a
synthetic intra-bar stream of book updates and trades for the order-flow analytics.

All are pure functions of their inputs and a seeded generator, so the simulated market
shows the same book and the same stream for the same state.
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
    trade_id: str = ""  # the venue's id, when it gives one
    maker: str = ""  # participant hint: the resting side's id, when the feed gives one


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


# The simulated market maker: its id on the tape, and how a bar's move makes it back away.
SIM_MAKER = "mm-1"
WITHDRAW_MOVE = 1.5  # |close - open| in bar volatilities above which the maker may leave
WITHDRAW_SPREAD = 4.0  # spread multiple while withdrawn
WITHDRAW_DEPTH = 0.1  # touch size multiple while withdrawn


def synth_flow(bar: Bar, bar_vol: float, interval: timedelta, updates: int, levels: int,
               rng: np.random.Generator) -> list[OrderBook | TradePrint]:
    """`updates` book updates inside `bar`, each possibly followed by a trade, in time order.

    The mid walks open -> low/high -> high/low -> close (the order an up or down bar would
    take) with noise, inside [low, high]. A market maker (SIM_MAKER on the tape) quotes
    both sides around it; on a bar whose move exceeds WITHDRAW_MOVE volatilities it backs
    away for a stretch around the steepest part of the walk (wider spread, thin touch).
    Flow leans with the walk: resting size piles up on the side the price moves away from
    and aggressors mostly trade in the move's direction, as order flow explains
    contemporaneous price changes (Cont, Kukanov and Stoikov). No event carries
    information about later bars.
    """
    if updates < 2:
        raise ValueError(f"updates must be at least 2, got {updates}")
    if levels < 1:
        raise ValueError(f"levels must be at least 1, got {levels}")
    tick = tick_size(bar.close)
    digits = max(0, -math.floor(math.log10(tick)))
    up = bar.close >= bar.open
    first, second = (bar.low, bar.high) if up else (bar.high, bar.low)
    corners = np.array([bar.open, first, second, bar.close])
    at = np.sort(rng.random(2))
    knots = np.array([0.0, at[0], at[1], 1.0])
    u = np.linspace(0.0, 1.0, updates)
    noise = rng.standard_normal(updates) * 0.15 * (bar.high - bar.low)
    noise[0] = noise[-1] = 0.0
    mid = np.clip(np.interp(u, knots, corners) + noise, bar.low, bar.high)
    step = np.diff(mid, prepend=mid[0])
    scale = np.std(step) or 1.0
    lean = np.tanh(step / scale)  # -1..1: the walk's local direction

    half = bar.close * max(MIN_HALF_SPREAD, SPREAD_PER_VOL * bar_vol)
    half_ticks = max(1, math.ceil(half / tick))
    step_ticks = max(1, round(half / 2 / tick))
    base = max(bar.volume, 1e-9) / (4 * levels)
    move = abs(bar.close - bar.open) / max(bar_vol * bar.close, 1e-300)
    withdrawn = np.zeros(updates, dtype=bool)
    if move > WITHDRAW_MOVE and rng.random() < min(0.9, 0.3 * move):
        centre = int(np.argmax(np.abs(step)))
        width = max(2, updates // 4)
        withdrawn[max(0, centre - width // 2): centre + width // 2 + 1] = True

    sizes = base * rng.lognormal(0.0, 0.35, size=(updates, 2, levels)) * (
        1 + 0.4 * np.arange(levels))[None, None, :]
    sizes[:, 0, 0] *= np.exp(0.8 * lean)  # bids pile up under a rising price
    sizes[:, 1, 0] *= np.exp(-0.8 * lean)
    sizes[withdrawn, :, 0] *= WITHDRAW_DEPTH
    offsets = np.sort(rng.random(updates)) * interval.total_seconds()
    offsets[0] = 0.0
    traded = rng.random(updates) < 0.7
    buyer = rng.random(updates) < 0.5 + 0.35 * lean
    trade_sizes = base * rng.lognormal(-1.0, 0.6, size=updates)
    others = rng.integers(1, 20, size=updates)

    # Best bid / ask in ticks per update: centred on the mid, the spread wider while withdrawn.
    spread_ticks = half_ticks * np.where(withdrawn, WITHDRAW_SPREAD, 1.0)
    centre = mid / tick
    bid0 = np.where(spread_ticks > 1, np.floor(centre - spread_ticks / 2 + 0.5),
                    np.floor(centre))
    ask0 = np.maximum(bid0 + 1, np.ceil(centre + spread_ticks / 2 - 0.5))
    ladder = step_ticks * np.arange(levels)
    bid_ticks = bid0[:, None] - ladder[None, :]
    bid_px = np.round(bid_ticks * tick, digits).tolist()
    ask_px = np.round((ask0[:, None] + ladder[None, :]) * tick, digits).tolist()
    bid_sz, ask_sz = sizes[:, 0, :].tolist(), sizes[:, 1, :].tolist()
    positive = (bid_ticks > 0).tolist()
    times = [bar.ts + timedelta(seconds=s) for s in offsets.tolist()]
    trade_sizes_list = trade_sizes.tolist()

    events: list[OrderBook | TradePrint] = []
    stamp = int(bar.ts.timestamp())
    for j in range(updates):
        bids = tuple((p, q) for p, q, ok in zip(bid_px[j], bid_sz[j], positive[j], strict=True)
                     if ok)
        asks = tuple(zip(ask_px[j], ask_sz[j], strict=True))
        events.append(OrderBook(bar.symbol, times[j], bids, asks))
        if traded[j] and bids:
            buy = bool(buyer[j])
            side = OrderSide.BUY if buy else OrderSide.SELL
            price = asks[0][0] if buy else bids[0][0]
            maker = f"p{int(others[j])}" if withdrawn[j] else SIM_MAKER
            events.append(TradePrint(bar.symbol, times[j] + timedelta(microseconds=1), price,
                                     trade_sizes_list[j], side, f"{stamp}-{j}", maker))
    return events
