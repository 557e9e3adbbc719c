"""Performance metrics of an equity curve and its closed trades, vectorized in numpy.

Conventions (all returned values are plain floats, ints, strings or None, so the result
serializes to JSON as is; None means "not defined", e.g. a ratio over a zero denominator):

- Per-bar returns r_t = equity_t / equity_{t-1} - 1.
- periods_per_year, when not given, is the number of bar intervals per year of the index
  span: (len - 1) / years, with years = span / 365.25 days. Business-daily data gives about
  252, hourly 24/7 data about 8,766.
- annualized_return is the CAGR over the index span: (final / initial) ** (1 / years) - 1.
- volatility = std(r, ddof=1) * sqrt(periods_per_year); sharpe = mean(r) / std(r, ddof=1)
  * sqrt(periods_per_year), risk-free rate 0.
- sortino = mean(r) / sqrt(mean(min(r, 0) ** 2)) * sqrt(periods_per_year) (target 0, the
  downside deviation averages over all bars, not only the losing ones).
- max_drawdown = max over t of 1 - equity_t / max(equity_0..t), a positive fraction;
  calmar = annualized_return / max_drawdown.
- var_95 = -q where q is the 5% quantile of r with linear interpolation between order
  statistics (numpy's and pandas' default, Excel's PERCENTILE.INC);
  expected_shortfall_95 = -mean(r[r <= q]). Both are positive numbers for losses.
- Trades: win_rate = share with pnl > 0; profit_factor = gross profit / gross loss (None
  with no losing trade); avg_trade = mean pnl in money; avg_trade_return_pct = mean of the
  trades' return_pct (as given, in percent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

_YEAR_SECONDS = 365.25 * 86400.0
# Below this a standard deviation is float noise of a constant series, not risk.
_ZERO_STD = 1e-12


def compute_metrics(
    equity: np.ndarray,
    index: Any,
    trades: Sequence[Any],
    exposure: float,
    periods_per_year: float | None = None,
) -> dict:
    """Metrics of `equity` (one value per bar, timestamps in `index`, e.g. a
    pandas.DatetimeIndex) and of closed `trades` (objects or mappings with `pnl` and
    `return_pct`). `exposure` is the fraction of bars with a position, passed through."""
    eq = np.asarray(equity, dtype=np.float64)
    if eq.ndim != 1 or len(eq) != len(index):
        raise ValueError(f"equity ({eq.shape}) and index ({len(index)}) must be 1-D, same length")
    if len(eq) and not np.isfinite(eq).all():
        raise ValueError("equity holds NaN or infinite values")
    out: dict[str, Any] = {
        "start": str(index[0]) if len(eq) else None,
        "end": str(index[-1]) if len(eq) else None,
        "bars": int(len(eq)),
        "initial_equity": float(eq[0]) if len(eq) else None,
        "final_equity": float(eq[-1]) if len(eq) else None,
    }
    years = _years(index) if len(eq) > 1 else 0.0
    if periods_per_year is None:
        periods_per_year = (len(eq) - 1) / years if years > 0 else None
    out["periods_per_year"] = periods_per_year
    out.update(_curve_metrics(eq, years, periods_per_year))
    out.update(trade_metrics(trades))
    out["exposure"] = float(exposure)
    return out


def _years(index: Any) -> float:
    span = index[-1] - index[0]
    seconds = span.total_seconds() if hasattr(span, "total_seconds") else float(span)
    return seconds / _YEAR_SECONDS


def _curve_metrics(eq: np.ndarray, years: float, ppy: float | None) -> dict:
    none = dict.fromkeys(
        ("total_return", "annualized_return", "volatility", "sharpe", "sortino", "calmar",
         "max_drawdown", "var_95", "expected_shortfall_95"),
    )
    if len(eq) < 2 or eq[0] <= 0:
        return none
    r = per_bar_returns(eq)
    total = eq[-1] / eq[0] - 1.0
    cagr = None
    if years > 0 and eq[-1] > 0:
        with np.errstate(over="ignore"):  # a huge gain over a short span overflows to inf
            cagr = float(np.float64(eq[-1] / eq[0]) ** (1.0 / years) - 1.0)
    mdd = max_drawdown(eq)
    mean = float(r.mean())
    std = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    scale = math.sqrt(ppy) if ppy else None
    var, es = value_at_risk(r, 0.95)
    return {
        "total_return": float(total),
        "annualized_return": _finite(cagr),
        "volatility": std * scale if scale is not None else None,
        "sharpe": mean / std * scale if scale is not None and std > _ZERO_STD else None,
        "sortino": (
            mean / downside * scale if scale is not None and downside > _ZERO_STD else None
        ),
        "calmar": _finite(cagr / mdd) if cagr is not None and mdd > 0 else None,
        "max_drawdown": mdd,
        "var_95": var,
        "expected_shortfall_95": es,
    }


def per_bar_returns(equity: np.ndarray) -> np.ndarray:
    """r_t = equity_t / equity_{t-1} - 1; a step from zero or negative equity counts as 0."""
    eq = np.asarray(equity, dtype=np.float64)
    prev = eq[:-1]
    if len(prev) == 0 or prev.min() > 0:  # the usual case: one division, no masks
        r = eq[1:] / prev
        r -= 1.0
        return r
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0, eq[1:] / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak, as a positive fraction of that peak."""
    dd = drawdown_series(equity)
    return float(-dd.min()) if len(dd) else 0.0


def drawdown_series(equity: np.ndarray) -> np.ndarray:
    """Drawdown at every bar: equity / running peak - 1 (zero or negative)."""
    eq = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(eq)
    if len(eq) == 0 or eq[0] > 0:  # then every running peak is positive
        dd = eq / peak
        dd -= 1.0
        return dd
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, eq / np.where(peak > 0, peak, 1.0) - 1.0, 0.0)


def value_at_risk(returns: np.ndarray, level: float = 0.95) -> tuple[float | None, float | None]:
    """Historical VaR and expected shortfall at `level` as positive losses (see module doc)."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) == 0:
        return None, None
    # The linear-interpolation quantile from the two order statistics around it; one
    # partition is cheaper than np.quantile's general machinery on a million returns.
    h = (len(r) - 1) * (1.0 - level)
    lo = int(math.floor(h))
    hi = min(lo + 1, len(r) - 1)
    part = np.partition(r, [lo, hi])
    q = float(part[lo] + (h - lo) * (part[hi] - part[lo]))
    tail = part[: hi + 1]  # everything <= q lies in the first hi + 1 after partitioning
    tail = tail[tail <= q]
    return -q, -float(tail.mean())


def trade_metrics(trades: Sequence[Any]) -> dict:
    pnl = np.array([float(_field(t, "pnl")) for t in trades], dtype=np.float64)
    ret = np.array([float(_field(t, "return_pct")) for t in trades], dtype=np.float64)
    n = len(pnl)
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    return {
        "num_trades": n,
        "win_rate": float((pnl > 0).mean()) if n else None,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "avg_trade": float(pnl.mean()) if n else None,
        "avg_trade_return_pct": float(ret.mean()) if n else None,
        "best_trade": float(pnl.max()) if n else None,
        "worst_trade": float(pnl.min()) if n else None,
    }


def _field(trade: Any, name: str) -> Any:
    return trade[name] if isinstance(trade, dict) else getattr(trade, name)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
