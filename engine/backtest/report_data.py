"""What a backtest report needs beyond the run's own metrics, trades and equity: the
`--compare` table, a buy-and-hold benchmark of the same data, and each symbol's closes for
the price chart. Built once when the run finishes and stored with it, so `desk runs show
ID --report` draws the same page later without the data source.

Conventions:
- Buy and hold: the starting cash split equally across the symbols at their first close,
  held to the last bar, no fees or slippage. Symbols with different calendars are aligned on
  the union of their bar times, each carried forward from its last close.
- Prices are kept at MAX_POINTS per symbol at most (each bucket's lowest and highest close,
  as the report's own charts downsample), with ISO-8601 times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

BENCHMARK_LABEL = "buy and hold (equal weight, no costs)"
MAX_POINTS = 2000


def buy_and_hold(frames: Mapping[str, Any], cash: float) -> Any:
    """The benchmark's equity per bar: a pandas Series on the union of the frames' times."""
    import pandas as pd

    closes = pd.concat({s: f["close"].astype("float64") for s, f in frames.items()}, axis=1)
    closes = closes.sort_index().ffill().bfill()  # a late starter holds cash until it starts
    first = closes.iloc[0].to_numpy()
    shares = (float(cash) / len(frames)) / first
    return pd.Series(closes.to_numpy() @ shares, index=closes.index, name="buy_and_hold")


def monthly_returns(equity: Any) -> dict[str, float]:
    """"YYYY-MM" -> the month's return: last equity of the month over the last of the month
    before (the first month over the first bar). They compound to the total return."""
    import pandas as pd

    if equity is None or len(equity) < 2 or not isinstance(equity.index, pd.DatetimeIndex):
        return {}
    ends = equity.groupby(equity.index.strftime("%Y-%m")).last()  # "YYYY-MM" sorts in time
    before = np.concatenate(([float(equity.iloc[0])], ends.to_numpy()[:-1]))
    returns = ends.to_numpy() / before - 1.0
    return {str(month): float(r) for month, r in zip(ends.index, returns, strict=True)}


def report_data(frames: Mapping[str, Any], cash: float, equity: Any = None,
                comparisons: Sequence[Any] = (), risk_free_rate: float | None = None) -> dict:
    """JSON-ready extras of one run: `compare` ([{label, metrics}]), `benchmark` (label,
    metrics, equity points), `prices` (symbol -> times and closes), `equity` (times and
    values, downsampled) and `monthly` (month -> return). `risk_free_rate`: the run's
    [metrics] risk_free_rate, so the benchmark's Sharpe sits beside the run's on one
    footing (None: the packaged default)."""
    from engine.backtest.report import downsample
    from engine.trading.metrics import compute_metrics

    data: dict[str, Any] = {}
    if equity is not None and len(equity):
        values = equity.to_numpy(dtype=np.float64)
        keep = downsample(np.arange(len(values), dtype=np.float64), values, MAX_POINTS)
        data["equity"] = {"times": _times(equity.index, keep), "values": values[keep].tolist()}
        data["monthly"] = monthly_returns(equity)
    if comparisons:
        # A list, not an object: the store writes JSON with sorted keys, and the table
        # keeps the order the runs were made in.
        data["compare"] = [{"label": r.label, "metrics": _jsonable(r.metrics)}
                           for r in comparisons]
    if frames:
        curve = buy_and_hold(frames, cash)
        metrics = compute_metrics(curve.to_numpy(), curve.index, [], exposure=1.0,
                                  **({} if risk_free_rate is None
                                     else {"risk_free_rate": risk_free_rate}))
        values = curve.to_numpy(dtype=np.float64)
        keep = downsample(np.arange(len(values), dtype=np.float64), values, MAX_POINTS)
        data["benchmark"] = {
            "label": BENCHMARK_LABEL,
            "metrics": _jsonable(metrics),
            "times": _times(curve.index, keep),
            "equity": values[keep].tolist(),
        }
        prices = {}
        for symbol, frame in frames.items():
            close = frame["close"].to_numpy(dtype=np.float64)
            keep = downsample(np.arange(len(close), dtype=np.float64), close, MAX_POINTS)
            prices[symbol] = {"times": _times(frame.index, keep), "close": close[keep].tolist()}
        data["prices"] = prices
    return data


def _times(index: Any, keep: np.ndarray) -> list[str]:
    # One indexing of the index, not one per point: each `index[i]` costs ~10 us.
    return [_iso(ts) for ts in index[keep]]


def _iso(ts: Any) -> str:
    return ts.isoformat() if hasattr(ts, "isoformat") else str(ts)


def _jsonable(values: Mapping[str, Any]) -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, float) and not np.isfinite(value):
            out[key] = None
        elif isinstance(value, Mapping):
            out[key] = _jsonable(value)
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out
