"""The watchlist and chart data of the Market pane, built from the live engine's state.

Per symbol: the last price, the day's change (against the last close of the UTC day
before, else the window's first close), bid and ask (the market stream's book when there
is one; otherwise the paper broker's own prices, last -/+ its slippage, which is what an
order would fill at), the spread, the day's volume, the regime, and for the chart the last
CHART_BARS closes with the fills among them and the armed stop level.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from decimal import Decimal

import numpy as np

from engine.live.snapshot import ChartMark, MarketView

CHART_BARS = 120


def market_views(engine) -> tuple[MarketView, ...]:
    fills = engine.fill_history.newest() if getattr(engine, "fill_history", None) else []
    stream = engine.market_stream
    slippage = Decimal(str(engine.cfg.broker.slippage_bps)) / Decimal(10_000)
    views = []
    for symbol, state in engine.symbols.items():
        if not state.times:
            continue
        last = Decimal(repr(float(state.last_close)))
        quote = stream.quote(symbol) if stream is not None else None
        if quote is not None:
            bid, ask = Decimal(repr(quote[0])), Decimal(repr(quote[1]))
            source = "exchange"
        else:
            bid, ask, source = last * (1 - slippage), last * (1 + slippage), "paper"
        change, volume = _day_figures(state.times, state.data)
        times = state.times[-CHART_BARS:]
        closes = tuple(float(c) for c in state.data[-CHART_BARS:, 3])
        marks = tuple(
            ChartMark(bisect_right(times, fill.ts) - 1, str(fill.side), float(fill.price))
            for fill in fills
            if fill.symbol == symbol and times[0] <= fill.ts <= times[-1]
        )
        stop = engine.kernel.stops.get(symbol)
        views.append(MarketView(
            symbol, last, change, bid.quantize(Decimal("0.00000001")),
            ask.quantize(Decimal("0.00000001")), volume, state.regime_label, source, closes,
            times[0], times[-1], marks,
            stop.level if stop is not None and engine.portfolio.position(symbol).qty else None,
        ))
    return tuple(views)


def _day_figures(times: list, data: np.ndarray) -> tuple[float, float]:
    """(change since the previous UTC day's last close, volume since 00:00 UTC)."""
    newest = times[-1]
    midnight = newest.replace(hour=0, minute=0, second=0, microsecond=0)
    first_today = bisect_left(times, midnight)  # the first bar of the newest bar's day
    reference = data[first_today - 1, 3] if first_today > 0 else data[0, 3]
    change = float(data[-1, 3] / reference - 1.0) if reference else 0.0
    return change, float(data[first_today:, 4].sum())
