"""Storing a portfolio optimization with its `portfolio.optimized` audit entry."""

from __future__ import annotations

import json
import math
from typing import Any

from store.db import Store
from store.portfolio_optimizations import insert_optimization, latest_optimizations


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def save_optimization(
    store: Store, result: Any, *, data_source: str, data_start: str, data_end: str
) -> int:
    """One row and one audit entry in one unit of work; returns the row id. `result` is an
    `engine.portfolio.result.PortfolioResult`."""
    weights = result.weights_by_asset()
    contributions = result.to_dict()["risk_contributions"]
    row = {
        "method": result.method,
        "data_source": data_source,
        "data_start": data_start,
        "data_end": data_end,
        "weights_json": json.dumps(weights, sort_keys=True),
        "expected_return": result.expected_return,
        "volatility": result.volatility,
        "sharpe": _finite(result.sharpe),
        "cvar_95": result.cvar_95,
        "risk_contributions_json": json.dumps(contributions, sort_keys=True),
        "settings_json": json.dumps(result.settings, sort_keys=True),
        "solver_status": result.status,
        "solve_seconds": result.solve_seconds,
    }
    with store.unit_of_work() as conn:
        row_id = insert_optimization(conn, row)
        # Audit payloads are exact text: weights rounded to 1e-12 say all a reader needs.
        store.audit.append("portfolio.optimized", "user", {
            "id": row_id, "method": result.method, "data_source": data_source,
            "data_start": data_start, "data_end": data_end,
            "weights": {a: f"{w:.12f}" for a, w in weights.items()},
            "solver_status": result.status,
        })
    return row_id


def recent_optimizations(store: Store, limit: int = 20) -> list[dict]:
    """The newest stored optimizations first (JSON columns decoded)."""
    conn = store.reader()
    try:
        rows = latest_optimizations(conn, limit)
    finally:
        conn.close()
    for row in rows:
        for key in ("weights_json", "risk_contributions_json", "settings_json"):
            row[key.removesuffix("_json")] = json.loads(row.pop(key))
    return rows
