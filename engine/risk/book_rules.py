"""The portfolio rules of the gate: correlation, projected volatility, concentration, the
number of assets. Pure functions of the book after the order and the trailing returns.

Conventions:
- exposures are signed notionals in quote currency (short < 0); the order's symbol is
  included with its position after the order fills;
- returns are per-bar simple returns over the trailing `correlation_window` bars, the same
  matrix for every order at one bar (the gate caches it and its covariance per bar);
- volatility is annualized with the history's bars per year: sigma_p = sqrt(w' C w x ppy),
  w = exposure / equity;
- concentration of an asset is |exposure| / max(gross exposure, equity): a book smaller
  than equity is mostly cash, and cash is not concentrated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class BarStats:
    """The trailing statistics of one bar: shared by every order judged at it."""

    symbols: dict[str, int]  # symbol -> row
    cov: np.ndarray  # covariance of per-bar returns (ddof=1)
    observations: int
    periods_per_year: float
    returns: np.ndarray  # (symbols, observations) per-bar returns behind cov and corr

    @cached_property
    def corr(self) -> np.ndarray:
        """Pearson correlation (NaN where a series is flat). Computed when first asked
        for: only a book holding two symbols or more needs it, and most bars' orders are
        judged against a book of one or none."""
        sd = np.sqrt(np.diag(self.cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = self.cov / np.outer(sd, sd)
        corr[~np.isfinite(corr)] = np.nan
        return corr


def bar_stats(symbols: dict[str, int], returns: np.ndarray, ppy: float) -> BarStats | None:
    """None with fewer than 2 returns (no covariance)."""
    n = returns.shape[1]
    if n < 2:
        return None
    # np.cov's own steps (mean, demean, X X' / (n - 1)) without its argument handling,
    # which costs more than the product itself at a few symbols: this runs once per bar
    # an order is judged at.
    demeaned = returns - _ROW_SUM(returns, axis=1, keepdims=True) / n
    cov = np.dot(demeaned, demeaned.T) * (1.0 / (n - 1))
    return BarStats(symbols, cov, n, ppy, returns)


# ndarray.sum's Python wrapper costs as much as the sum of a 60-bar window.
_ROW_SUM = np.add.reduce


def worst_correlation(stats: BarStats, symbol: str, direction: int,
                      exposures: dict[str, float]) -> tuple[float, str] | None:
    """The highest correlation of `symbol` with a held symbol of the same direction."""
    i = stats.symbols.get(symbol)
    if i is None:
        return None
    best: tuple[float, str] | None = None
    for other, value in exposures.items():
        if other == symbol or value == 0 or (value > 0) != (direction > 0):
            continue
        j = stats.symbols.get(other)
        if j is None:
            continue
        c = stats.corr[i, j]
        if not math.isnan(c) and (best is None or c > best[0]):
            best = (float(c), other)
    return best


def portfolio_volatility(stats: BarStats, exposures: dict[str, float],
                         equity: float) -> float | None:
    """Annualized volatility of the book `exposures` (None if a held symbol has no
    history, or equity is not positive)."""
    if equity <= 0:
        return None
    # The whole covariance with zero weights off the book: one small product beats
    # slicing a sub-matrix out per order.
    w = np.zeros(len(stats.symbols))
    held = False
    for symbol, value in exposures.items():
        if value == 0:
            continue
        i = stats.symbols.get(symbol)
        if i is None:
            return None
        w[i] = value / equity
        held = True
    if not held:
        return 0.0
    return math.sqrt(max(float(w @ stats.cov @ w), 0.0) * stats.periods_per_year)


def concentration(exposures: dict[str, float], symbol: str, equity: float) -> float:
    gross = sum(abs(v) for v in exposures.values())
    base = max(gross, equity)
    return abs(exposures.get(symbol, 0.0)) / base if base > 0 else 1.0


def largest_concentration(exposures: dict[str, float], equity: float) -> float:
    """The largest asset's concentration (gross computed once)."""
    values = [abs(v) for v in exposures.values()]
    base = max(sum(values), equity)
    return max(values, default=0.0) / base if base > 0 else 0.0


def max_same_direction_correlation(stats: BarStats, exposures: dict[str, float]
                                   ) -> float | None:
    """The highest correlation between two held positions of the same direction: 0 with
    fewer than two such positions, None if a held symbol has no history."""
    sign = np.zeros(len(stats.symbols))
    for symbol, value in exposures.items():
        if value:
            i = stats.symbols.get(symbol)
            if i is None:
                return None
            sign[i] = 1.0 if value > 0 else -1.0
    same = np.outer(sign, sign) > 0
    same &= _upper(len(sign))
    values = stats.corr[same]
    values = values[~np.isnan(values)]
    return max(float(values.max()), 0.0) if len(values) else 0.0


_UPPER: dict[int, np.ndarray] = {}


def _upper(n: int) -> np.ndarray:
    """The strict upper triangle of an n x n matrix, as a mask (cached per n)."""
    mask = _UPPER.get(n)
    if mask is None:
        mask = _UPPER[n] = np.triu(np.ones((n, n), dtype=bool), 1)
    return mask


def correlation_scale(corr: float, limit: float) -> float:
    """correlation_action = "scale": the position is held to (1 - corr) / (1 - limit) of
    the position limit."""
    return max(0.0, (1.0 - corr) / (1.0 - limit)) if limit < 1 else 1.0
