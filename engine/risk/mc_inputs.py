"""Where Monte Carlo returns come from: a stored backtest run, a data source, or a CSV.

- a run: the per-bar returns of its stored equity curve; for "trades", each closed trade's
  P&L as a fraction of the run's starting equity, in the order the trades closed;
- a data source (a file, arch:sp500, sim:...): close-to-close returns; with several symbols
  the equal-weight average of their returns (a daily-rebalanced equal-weight book);
- `--returns FILE`: a CSV of simple per-period returns, either one column, or a date column
  and one returns column. A header row is allowed. Bad rows are named by line number.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from engine.errors import DataError


def returns_from_csv(path: str | Path) -> np.ndarray:
    """Simple returns from a one- or two-column CSV (see the module doc)."""
    file = Path(path)
    try:
        handle = open(file, newline="", encoding="utf-8")
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror}") from None
    values: list[float] = []
    with handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in row]
            if not cells or all(not c for c in cells):
                continue
            if len(cells) > 2:
                raise DataError(f"{path}: line {line}: expected one returns column, or a date "
                                f"and a returns column, got {len(cells)} columns")
            text = cells[-1]
            try:
                value = float(text)
            except ValueError:
                if line == 1 and not values:
                    continue  # a header
                raise DataError(f"{path}: line {line}: {text!r} is not a number") from None
            if not math.isfinite(value) or value <= -1:
                raise DataError(f"{path}: line {line}: a return must be finite and above -1 "
                                f"(-100%), got {text}")
            values.append(value)
    if len(values) < 2:
        raise DataError(f"{path}: need at least 2 returns, got {len(values)}")
    return np.array(values)


def returns_from_source(source: str) -> np.ndarray:
    """Close-to-close returns of a data source; several symbols: their equal-weight mean."""
    from engine.data.sources import load_source

    market = load_source(source)
    columns = [frame["close"].to_numpy(dtype=np.float64) for frame in market.frames.values()]
    returns = np.vstack([c[1:] / c[:-1] - 1.0 for c in columns])
    return returns.mean(axis=0)


def returns_from_equity(equity: np.ndarray) -> np.ndarray:
    from engine.trading.metrics import per_bar_returns

    return per_bar_returns(equity)


def trade_returns(trades: list[dict], initial: float) -> np.ndarray:
    """Each trade's P&L over the run's starting equity, in closing order."""
    closed = [t for t in trades if t.get("pnl") not in (None, "None")]
    closed.sort(key=lambda t: str(t.get("exit_time") or ""))
    return np.array([float(t["pnl"]) / initial for t in closed], dtype=np.float64)
