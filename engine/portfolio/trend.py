"""Wilder's ADX on closes only (high = low = close: a prices-only file has no range),
updated one bar at a time for every asset at once.

The portfolio mode is fed bar by bar by both drivers (the live engine and the backtest),
so it keeps the recursion's state instead of recomputing the indicator over a window at
every check. Same recursion as `engine.signals.indicators.adx`: each smoothed series is
seeded with the mean of its first `period` values, then y = y[-1] + (x - y[-1]) / period.
A non-finite close leaves that asset's state where it was (its next finite close is
differenced against the last finite one).
"""

from __future__ import annotations

import numpy as np


class CloseOnlyADX:
    """ADX(period) per asset; `value` is NaN until an asset has 2 x period - 1 changes."""

    def __init__(self, assets: int, period: int = 14) -> None:
        self.period = period
        self.last = np.full(assets, np.nan)
        self.changes = np.zeros(assets, dtype=np.int64)  # finite differences seen
        self.dx_seen = np.zeros(assets, dtype=np.int64)
        # Seed sums until `period` values are in, then the smoothed values themselves.
        self.tr = np.zeros(assets)
        self.plus = np.zeros(assets)
        self.minus = np.zeros(assets)
        self.dx = np.zeros(assets)
        self.value = np.full(assets, np.nan)

    def update(self, closes: np.ndarray) -> np.ndarray:
        """Take one bar's closes (one per asset); returns the ADX after it."""
        n = self.period
        closes = np.asarray(closes, dtype=float)
        ok = np.isfinite(closes)
        step = closes - self.last
        moved = ok & np.isfinite(step)
        self.last = np.where(ok, closes, self.last)
        if not moved.any():
            return self.value
        up = np.where(moved, step, 0.0)
        tr = np.abs(up)
        plus = np.where(up > 0, up, 0.0)
        minus = np.where(up < 0, -up, 0.0)
        self.changes += moved
        seeding = moved & (self.changes <= n)
        smoothing = moved & (self.changes > n)
        for state, x in ((self.tr, tr), (self.plus, plus), (self.minus, minus)):
            state[seeding] += x[seeding]
            state[smoothing] = state[smoothing] * (1 - 1 / n) + x[smoothing] / n
            seeded = moved & (self.changes == n)
            state[seeded] /= n  # the seed: the mean of the first n values
        has_di = moved & (self.changes >= n)
        if not has_di.any():
            return self.value
        with np.errstate(invalid="ignore", divide="ignore"):
            plus_di = np.where(self.tr > 0, 100.0 * self.plus / self.tr, 0.0)
            minus_di = np.where(self.tr > 0, 100.0 * self.minus / self.tr, 0.0)
            total = plus_di + minus_di
            dx = np.where(total > 0, 100.0 * np.abs(plus_di - minus_di) / total, 0.0)
        self.dx_seen += has_di
        seeding = has_di & (self.dx_seen <= n)
        smoothing = has_di & (self.dx_seen > n)
        self.dx[seeding] += dx[seeding]
        self.dx[smoothing] = self.dx[smoothing] * (1 - 1 / n) + dx[smoothing] / n
        seeded = has_di & (self.dx_seen == n)
        self.dx[seeded] /= n
        ready = has_di & (self.dx_seen >= n)
        self.value = np.where(ready, self.dx, self.value)
        return self.value
