"""Execution quality: implementation shortfall against the arrival price, and the fill
price against the market VWAP over the session's window.

Both in basis points, signed by side so that a positive number is a cost: a buy that paid
more than the benchmark, or a sell that received less.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from engine.types import Bar

_BPS = Decimal(10000)


@dataclass(frozen=True, slots=True)
class ExecutionQuality:
    arrival_price: Decimal | None
    avg_price: Decimal | None
    filled_qty: Decimal
    shortfall_bps: Decimal | None  # None until something filled
    market_vwap: Decimal | None  # None without bars (or volume) in the window
    vwap_diff_bps: Decimal | None


def cost_bps(side: str, price: Decimal, benchmark: Decimal) -> Decimal:
    """(price - benchmark) / benchmark in bps, positive when it cost the trader."""
    sign = 1 if side == "buy" else -1
    return sign * (price - benchmark) / benchmark * _BPS


def shortfall_bps(side: str, arrival_price: Decimal | None,
                  avg_price: Decimal | None) -> Decimal | None:
    """Implementation shortfall in bps; None until something filled (or with no arrival
    price)."""
    return cost_bps(side, avg_price, arrival_price) if avg_price is not None and \
        arrival_price else None


def market_vwap(bars: Iterable[Bar], start: datetime, end: datetime) -> Decimal | None:
    """Σ typical price × volume / Σ volume over bars whose open time is in [start, end];
    typical price = (high + low + close) / 3."""
    start, end = _utc(start), _utc(end)
    pv = vol = Decimal(0)
    for bar in bars:
        if not start <= _utc(bar.ts) <= end:
            continue
        v = Decimal(str(bar.volume))
        typical = (Decimal(str(bar.high)) + Decimal(str(bar.low)) + Decimal(str(bar.close))) / 3
        pv += typical * v
        vol += v
    return pv / vol if vol > 0 else None


def session_quality(
    *, side: str, arrival_price: Decimal | None, avg_price: Decimal | None,
    filled_qty: Decimal, start: datetime, end: datetime, bars: Iterable[Bar] = (),
    with_vwap: bool = True,
) -> ExecutionQuality:
    shortfall = shortfall_bps(side, arrival_price, avg_price)
    vwap = market_vwap(bars, start, end) if with_vwap else None
    diff = cost_bps(side, avg_price, vwap) if avg_price is not None and vwap else None
    return ExecutionQuality(arrival_price, avg_price, filled_qty, shortfall, vwap, diff)


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
