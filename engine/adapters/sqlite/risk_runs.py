"""Reading a stored backtest run for the risk commands (Monte Carlo, stress)."""

from __future__ import annotations

from pathlib import Path

from store.backtest_equity import StoredRun, latest_run_id, load_run
from store.db import Store
from store.paths import default_db_path

__all__ = ["StoredRun", "configured_db", "read_run"]


def configured_db(cfg) -> Path:
    """The database the configuration names (after --db), which may not exist yet."""
    return Path(cfg.store.path) if cfg.store.path else default_db_path()


def read_run(store: Store, run_id: int | None) -> StoredRun | None:
    """The run with this id (None: the latest run); None when there is no such run."""
    with store.lock:
        conn = store.conn
        if run_id is None:
            run_id = latest_run_id(conn)
            if run_id is None:
                return None
        return load_run(conn, run_id)


def stored_book(store: Store) -> list[tuple[str, float, float, float, float, float]]:
    """(symbol, qty, avg price, realized P&L, fees, last fill price) of the stored
    positions, as floats (a stress test's arithmetic)."""
    from store.backtest_equity import positions_with_last_fill

    with store.lock:
        rows = positions_with_last_fill(store.conn)
    out = []
    for symbol, qty, avg, realized, fees, last in rows:
        price = float(last) if last is not None else float(avg)
        out.append((symbol, float(qty), float(avg), float(realized), float(fees), price))
    return out
