"""Storing a finished backtest run (its config, metrics and trades) with one audit entry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from store.backtest_equity import save_equity
from store.backtest_reports import save_report_data
from store.backtests import save_backtest_run
from store.db import Store


def save_run(
    store: Store, *, config_hash: str, config_json: str, data_source: str, metrics_json: str,
    timing_json: str, trades: Iterable[Mapping], audit: Mapping[str, Any],
    equity: Any = None, report_data: Mapping[str, Any] | None = None,
) -> int:
    """The run's rows and a `backtest.completed` entry (`audit` plus the run id), in one
    unit of work; returns the run id."""
    with store.unit_of_work() as conn:
        run_id = save_backtest_run(
            conn, config_hash=config_hash, config_json=config_json, data_source=data_source,
            metrics_json=metrics_json, timing_json=timing_json, trades=trades,
        )
        if equity is not None and len(equity):  # a pandas Series of equity per bar
            save_equity(conn, run_id, str(equity.index[0]), str(equity.index[-1]),
                        equity.to_numpy())
        if report_data:  # compare table, benchmark, closes: `desk runs show --report`
            save_report_data(conn, run_id, json.dumps(report_data, sort_keys=True))
        store.audit.append("backtest.completed", "engine", {"run_id": run_id, **audit})
    return run_id
