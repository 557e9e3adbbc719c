"""The one-engine check shared by the in-process and the end-to-end tests: the fills a
live run stored, paired into trades by the engine's own TradeTracker, against the trades
of a backtest."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path


def live_trades(db: Path) -> tuple[list[dict], set[str]]:
    """The stored fills paired into trades (a TWAP order is several fills), as --json
    writes them; and the symbols still held at the end."""
    from engine.trading.trades import TradeTracker
    from engine.types import Fill, OrderSide

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT client_order_id, trade_id, symbol, side, qty, price, fee,"
                            " ts FROM fills ORDER BY id").fetchall()
    tracker = TradeTracker()
    for cid, trade_id, symbol, side, qty, price, fee, ts in rows:
        tracker.on_fill(Fill(cid, trade_id, symbol, OrderSide(side), Decimal(qty),
                             Decimal(price), Decimal(fee), datetime.fromisoformat(ts)))
    return [t.to_dict() for t in tracker.closed], set(tracker.open_symbols())


def assert_same_trades(live: list[dict], still_open: set[str], backtest: list[dict],
                       minimum: int = 10) -> int:
    """Same symbols, sides, entry and exit bars; quantities and prices to 1e-8. For each
    symbol the live run ended holding, the backtest's last trade of it is its forced close
    at the last bar. Returns the number of trades compared."""
    backtest = list(backtest)
    for symbol in still_open:
        last = max(i for i, t in enumerate(backtest) if t["symbol"] == symbol)
        del backtest[last]
    order = ("exit_time", "symbol")
    live = sorted(live, key=lambda t: [t[k] for k in order])
    backtest = sorted(backtest, key=lambda t: [t[k] for k in order])
    assert len(live) >= minimum, f"only {len(live)} trades: too few to compare"
    key = ("symbol", "side", "entry_time", "exit_time")
    assert [[t[k][:19] for k in key] for t in live] == [[t[k][:19] for k in key]
                                                       for t in backtest]
    for ours, theirs in zip(live, backtest, strict=True):
        for field in ("qty", "entry_price", "exit_price"):
            a, b = Decimal(ours[field]), Decimal(theirs[field])
            assert abs(a - b) <= Decimal("1e-8") * max(abs(b), 1), (field, ours, theirs)
    return len(live)
