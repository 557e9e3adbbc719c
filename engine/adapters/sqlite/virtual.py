"""Virtual portfolios in the store: record, read, and merge an export without double
counting (one unit of work and one audit entry per import)."""

from __future__ import annotations

import json
from typing import Any

from store.db import Store
from store.virtual_portfolios import (
    allocations_of,
    ensure_portfolio,
    insert_allocations,
    insert_trades,
    portfolio_exists,
    trades_of,
)


def _trade_rows(trades: list[Any]) -> list[dict]:
    return [{"uid": t.uid, "ts": t.ts, "symbol": t.symbol, "asset_type": t.asset_type,
             "side": t.side, "qty": str(t.qty), "price": str(t.price), "fee": str(t.fee),
             "multiplier": str(t.multiplier), "strategy": t.strategy} for t in trades]


def _allocation_rows(allocations: list[Any]) -> list[dict]:
    return [{"ts": a.ts, "source": a.source,
             "weights_json": json.dumps(a.weights, sort_keys=True)} for a in allocations]


def record_virtual(store: Store, name: str, trades: list[Any], allocations: list[Any],
                   *, kind: str = "portfolio.virtual_recorded") -> tuple[int, int]:
    """Add trades and allocations (engine.portfolio.virtual types) to portfolio `name`,
    created if new; those already there (same uid, same ts and source) are left alone.
    Returns (trades added, allocations added)."""
    with store.unit_of_work() as conn:
        ensure_portfolio(conn, name)
        added = insert_trades(conn, name, _trade_rows(trades))
        allocated = insert_allocations(conn, name, _allocation_rows(allocations))
        store.audit.append(kind, "user", {
            "portfolio": name, "trades_added": added,
            "trades_skipped": len(trades) - added, "allocations_added": allocated})
    return added, allocated


def read_virtual(store: Store, name: str) -> tuple[list[dict], list[dict]] | None:
    """(trade rows, allocation rows) of portfolio `name`, or None when there is none."""
    conn = store.reader()
    try:
        if not portfolio_exists(conn, name):
            return None
        return trades_of(conn, name), allocations_of(conn, name)
    finally:
        conn.close()
