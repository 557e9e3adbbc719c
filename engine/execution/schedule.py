"""Execution schedules: pure functions from a parent quantity to planned parts.

Every schedule returns parts whose quantities are > 0 and sum exactly to the parent
quantity (each part is floored to `QUANTUM`, the last one takes the remainder), with due
times that never decrease, starting at `now` (VWAP may leave out a leading bucket that saw
no volume).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

QUANTUM = Decimal("0.00000001")
MODES = ("market", "smart", "twap", "vwap", "dca")


@dataclass(frozen=True, slots=True)
class PlannedPart:
    due: datetime
    qty: Decimal


def split(total: Decimal, weights: Sequence[float | Decimal]) -> list[Decimal]:
    """`total` shared by `weights` (any non-negative numbers, not all zero), each share
    floored to QUANTUM, the last share taking the remainder. Zero shares are kept (the
    caller drops them with their due times), so positions still line up with weights."""
    if total <= 0:
        raise ValueError(f"quantity must be > 0, got {total}")
    ws = [Decimal(str(w)) for w in weights]
    if not ws or any(w < 0 for w in ws) or sum(ws) <= 0:
        raise ValueError(f"weights must be >= 0 and not all zero, got {list(weights)}")
    whole = sum(ws)
    shares = [(total * w / whole).quantize(QUANTUM, rounding=ROUND_DOWN) for w in ws[:-1]]
    shares.append(total - sum(shares, Decimal(0)))
    return shares


def on_grid(parts: Sequence[PlannedPart], step: Decimal) -> list[PlannedPart]:
    """`parts` moved onto a venue's quantity step: each floored to it, the last taking the
    remainder (the total is already on the grid); a part left empty is dropped with its
    due time."""
    if step == QUANTUM or not parts:
        return list(parts)
    total = sum((p.qty for p in parts), Decimal(0))
    floored = [(p.qty / step).to_integral_value(rounding=ROUND_DOWN) * step for p in parts[:-1]]
    floored.append(total - sum(floored, Decimal(0)))
    return [PlannedPart(p.due, q) for p, q in zip(parts, floored, strict=True) if q > 0]


def _parts(total: Decimal, dues: Sequence[datetime], weights: Sequence[float]) -> list[PlannedPart]:
    return [PlannedPart(d, q) for d, q in zip(dues, split(total, weights), strict=True) if q > 0]


def _even(total: Decimal, now: datetime, n: int, step: timedelta) -> list[PlannedPart]:
    if n < 1:
        raise ValueError(f"parts must be >= 1, got {n}")
    # Never more parts than quanta: 3e-8 in 5 parts is 3 parts of 1e-8.
    n = max(1, min(n, int(total / QUANTUM)))
    return _parts(total, [now + step * i for i in range(n)], [1] * n)


def market_schedule(qty: Decimal, now: datetime) -> list[PlannedPart]:
    """One part of the whole quantity, due now (what `_even` gives for one part, without
    its arithmetic: every order of a backtest runs through here)."""
    if qty <= 0:
        raise ValueError(f"quantity must be > 0, got {qty}")
    return [PlannedPart(now, qty)]


def smart_schedule(
    qty: Decimal, price: Decimal, now: datetime, *, split_threshold: Decimal, max_parts: int,
    delay_seconds: float,
) -> list[PlannedPart]:
    """One part up to `split_threshold` of notional; above it, enough parts to keep each
    at or under the threshold, but at most `max_parts`, `delay_seconds` apart."""
    notional = qty * price
    if split_threshold <= 0 or notional <= split_threshold:
        return market_schedule(qty, now)
    needed = (notional / split_threshold).to_integral_value(rounding=ROUND_CEILING)
    n = int(min(Decimal(max_parts), needed))
    return _even(qty, now, n, timedelta(seconds=delay_seconds))


def twap_schedule(
    qty: Decimal, now: datetime, *, duration_minutes: float, parts: int
) -> list[PlannedPart]:
    """`parts` equal parts, the first now, spread evenly so that the last one starts one
    slice before the end of `duration_minutes`."""
    return _even(qty, now, parts, timedelta(minutes=duration_minutes) / max(parts, 1))


def dca_schedule(
    qty: Decimal, now: datetime, *, interval_minutes: float, parts: int
) -> list[PlannedPart]:
    return _even(qty, now, parts, timedelta(minutes=interval_minutes))


def volume_profile(
    history: Iterable[Any], now: datetime, *, lookback_minutes: float, buckets: int
) -> list[float]:
    """Volume of the bars in (now - lookback, now] summed into `buckets` equal slices of the
    lookback window by position (oldest slice first). `history` holds Bars or (ts, volume)
    pairs. The profile is the shape of recent activity, replayed over the session.

    When the history does not reach back the whole lookback, the slices cover only the span
    it does cover: empty leading slices would push the first part late (a desk holding ten
    hours of bars with a day's lookback would wait an hour and more before its first part).
    """
    start = now - timedelta(minutes=lookback_minutes)
    points = sorted((ts, float(v)) for ts, v in (
        (item.ts, item.volume) if hasattr(item, "ts") else item for item in history)
        if start < ts <= now and v > 0)
    out = [0.0] * buckets
    if not points:
        return out
    gaps = [b - a for (a, _), (b, _) in zip(points, points[1:], strict=False) if b > a]
    if gaps:  # the covered span: from the first bar's open (one bar before its close)
        start = max(start, points[0][0] - min(gaps))
    span = now - start
    for ts, volume in points:
        out[min(int((ts - start) / span * buckets), buckets - 1)] += volume
    return out


def vwap_schedule(
    qty: Decimal, now: datetime, *, duration_minutes: float, parts: int,
    lookback_minutes: float, volume_history: Iterable[Any] | None,
) -> list[PlannedPart]:
    """TWAP's timing, with each part weighted by its bucket's share of the lookback volume.
    No usable history (none, or all zero): equal weights, i.e. TWAP. A bucket with no
    volume gets no part."""
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    weights = volume_profile(
        volume_history or (), now, lookback_minutes=lookback_minutes, buckets=parts
    )
    if sum(weights) <= 0:
        return twap_schedule(qty, now, duration_minutes=duration_minutes, parts=parts)
    step = timedelta(minutes=duration_minutes) / parts
    return _parts(qty, [now + step * i for i in range(parts)], weights)


def plan(
    mode: str, cfg: Any, qty: Decimal, now: datetime, *, price: Decimal,
    volume_history: Iterable[Any] | None = None,
) -> tuple[list[PlannedPart], str, dict[str, Any]]:
    """The schedule of `mode` under `cfg` (an ExecutionConfig), its fallback mode and the
    parameters it used (stored with the session)."""
    if mode == "market":
        return market_schedule(qty, now), "market", {}
    if mode == "smart":
        c = cfg.smart
        params = {"split_threshold": str(c.split_threshold), "max_parts": c.max_parts,
                  "delay_seconds": c.delay_seconds}
        parts = smart_schedule(qty, price, now, split_threshold=c.split_threshold,
                               max_parts=c.max_parts, delay_seconds=c.delay_seconds)
        return parts, c.fallback_mode, params
    if mode == "twap":
        c = cfg.twap
        params = {"duration_minutes": c.duration_minutes, "parts": c.parts}
        parts = twap_schedule(qty, now, duration_minutes=c.duration_minutes, parts=c.parts)
        return parts, c.fallback_mode, params
    if mode == "vwap":
        c = cfg.vwap
        params = {"duration_minutes": c.duration_minutes, "parts": c.parts,
                  "lookback_minutes": c.lookback_minutes}
        parts = vwap_schedule(qty, now, duration_minutes=c.duration_minutes, parts=c.parts,
                              lookback_minutes=c.lookback_minutes, volume_history=volume_history)
        return parts, c.fallback_mode, params
    if mode == "dca":
        c = cfg.dca
        params = {"interval_minutes": c.interval_minutes, "parts": c.parts}
        parts = dca_schedule(qty, now, interval_minutes=c.interval_minutes, parts=c.parts)
        return parts, c.fallback_mode, params
    raise ValueError(f"execution mode must be one of {', '.join(MODES)}, got {mode!r}")
