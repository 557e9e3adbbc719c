"""Performance metrics of an equity curve and its closed trades, vectorized in numpy.

Conventions (all returned values are plain floats, ints, strings or None, so the result
serializes to JSON as is; None means "not defined", e.g. a ratio over a zero denominator):

- Per-bar returns r_t = equity_t / equity_{t-1} - 1.
- periods_per_year, when not given, is the number of bar intervals per year of the index
  span: (len - 1) / years, with years = span / 365.25 days. Business-daily data gives about
  252, hourly 24/7 data about 8,766.
- annualized_return is the CAGR over the index span: (final / initial) ** (1 / years) - 1.
- risk_free_rate is annual ([metrics] risk_free_rate, 0.02 by default); per bar it is
  rf = (1 + risk_free_rate) ** (1 / periods_per_year) - 1, and excess returns are r - rf.
- volatility = std(r, ddof=1) * sqrt(periods_per_year); sharpe = mean(r - rf) /
  std(r, ddof=1) * sqrt(periods_per_year).
- sortino = mean(r - rf) / sqrt(mean(min(r - rf, 0) ** 2)) * sqrt(periods_per_year) (the
  target is the risk-free rate; the downside deviation averages over all bars, not only
  the losing ones).
- max_drawdown = max over t of 1 - equity_t / max(equity_0..t), a positive fraction;
  calmar = annualized_return / max_drawdown.
- var_95 / expected_shortfall_95 and var_99 / expected_shortfall_99: historical VaR and ES
  of r per bar, from `engine.risk.var.var_es` (the one function the Risk pane and the
  reports use too): -q where q is the quantile of r with linear interpolation between
  order statistics, and -mean(r[r <= q]). Positive numbers for losses. `var_label` and
  `var_99_label` say the method, level and horizon.
- Trades: win_rate = share with pnl > 0; profit_factor = gross profit / gross loss (None
  with no losing trade); avg_trade = mean pnl in money; avg_trade_return_pct = mean of the
  trades' return_pct (as given, in percent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.risk.var import var_es

_YEAR_SECONDS = 365.25 * 86400.0
# The packaged [metrics] risk_free_rate (desk.toml), for callers that pass none.
DEFAULT_RISK_FREE_RATE = 0.02
# Below this a standard deviation is float noise of a constant series, not risk.
_ZERO_STD = 1e-12


def compute_metrics(
    equity: np.ndarray,
    index: Any,
    trades: Sequence[Any],
    exposure: float,
    periods_per_year: float | None = None,
    risk_free_rate: float = DEFAULT_RISK_FREE_RATE,
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
    out["risk_free_rate"] = float(risk_free_rate)
    out.update(_curve_metrics(eq, years, periods_per_year, risk_free_rate))
    out.update(trade_metrics(trades))
    out["exposure"] = float(exposure)
    return out


def _years(index: Any) -> float:
    span = index[-1] - index[0]
    seconds = span.total_seconds() if hasattr(span, "total_seconds") else float(span)
    return seconds / _YEAR_SECONDS


def per_bar_risk_free(risk_free_rate: float, periods_per_year: float | None) -> float:
    """The annual risk-free rate compounded down to one bar (0 without a bar rate)."""
    if not periods_per_year or not risk_free_rate:
        return 0.0
    return (1.0 + risk_free_rate) ** (1.0 / periods_per_year) - 1.0


def _curve_metrics(eq: np.ndarray, years: float, ppy: float | None, rfr: float) -> dict:
    none = dict.fromkeys(
        ("total_return", "annualized_return", "volatility", "sharpe", "sortino", "calmar",
         "max_drawdown", "var_95", "expected_shortfall_95", "var_99",
         "expected_shortfall_99"),
    )
    none["var_label"] = none["var_99_label"] = None
    if len(eq) < 2 or eq[0] <= 0:
        return none
    r = per_bar_returns(eq)
    total = eq[-1] / eq[0] - 1.0
    cagr = None
    if years > 0 and eq[-1] > 0:
        with np.errstate(over="ignore"):  # a huge gain over a short span overflows to inf
            cagr = float(np.float64(eq[-1] / eq[0]) ** (1.0 / years) - 1.0)
    mdd = max_drawdown(eq)
    rf = per_bar_risk_free(rfr, ppy)
    mean = float(r.mean()) - rf
    std = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    downside = math.sqrt(float(np.mean(np.minimum(r - rf, 0.0) ** 2)))
    scale = math.sqrt(ppy) if ppy else None
    v95 = var_es(r, 0.95, "historical")
    v99 = var_es(r, 0.99, "historical")
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
        "var_95": v95.var,
        "expected_shortfall_95": v95.es,
        "var_99": v99.var,
        "expected_shortfall_99": v99.es,
        "var_label": v95.label,
        "var_99_label": v99.label,
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
    """Historical VaR and expected shortfall per bar at `level`, as positive losses
    (engine.risk.var.var_es, the one implementation)."""
    estimate = var_es(returns, level, "historical")
    return estimate.var, estimate.es


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
