"""Reading stored backtest runs back: the list `desk runs list` prints and everything
`desk runs show` needs to print a run again, write its JSON or draw its report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.backtest_equity import load_run
from store.backtest_reports import RunRow, list_runs, load_report_data
from store.db import Store


@dataclass(frozen=True)
class StoredRunView:
    run_id: int
    created_at: str
    data_source: str
    config: dict
    metrics: dict
    trades: list[dict]
    equity: Any  # pandas Series indexed by bar time, or None for a run without a curve
    report_data: dict  # compare, benchmark, prices; {} for runs stored before they were kept


def stored_runs(store: Store, limit: int | None = None) -> list[RunRow]:
    with store.lock:
        return list_runs(store.conn, limit)


def stored_run(store: Store, run_id: int) -> StoredRunView | None:
    """One run, or None when no run has that id."""
    with store.lock:
        run = load_run(store.conn, run_id)
        if run is None:
            return None
        created = store.conn.execute("SELECT created_at FROM backtest_runs WHERE id = ?",
                                     (run_id,)).fetchone()[0]
        extras = load_report_data(store.conn, run_id)
    return StoredRunView(run_id, created, run.data_source, run.config, run.metrics, run.trades,
                         _curve(run, extras), extras)


def _curve(run, extras: dict) -> Any:
    """The equity curve to draw: the report extras' points with their real bar times; for
    a run stored without them, the stored values on an index spread evenly between the
    first and last bar time (the only times such a run kept)."""
    import pandas as pd

    points = extras.get("equity")
    if points:
        return pd.Series(points["values"], index=pd.DatetimeIndex(points["times"]),
                         name="equity")
    if run.equity is None or not len(run.equity):
        return None

    if len(run.equity) == 1:
        index = pd.DatetimeIndex([pd.Timestamp(run.start)])
    else:
        index = pd.date_range(pd.Timestamp(run.start), pd.Timestamp(run.end),
                              periods=len(run.equity))
    return pd.Series(run.equity, index=index, name="equity")
