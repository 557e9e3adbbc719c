"""The desk's history from the store alone, so it survives a restart: every stored fill
replayed through the portfolio's own average-cost accounting gives each fill's realized
P&L (net of its fee), summed by UTC day, ISO week and month, and through the trade tracker
the closed trades. Rebuilt only when a new fill has been stored.

Also the newest execution sessions as stored, for the Execution pane after a restart.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from engine.adapters.sqlite.fills import stored_fills
from engine.live.snapshot import ClosedTradeView, ExecutionView, FillView, HistoryView, PnlView
from engine.trading.portfolio import Portfolio
from engine.trading.trades import TradeTracker
from store import fill_history as rows
from store.db import Store

KEEP = 500  # fills and trades a snapshot carries (newest first)
PERIODS = ("day", "week", "month")


def period_label(period: str, ts: datetime) -> str:
    if period == "day":
        return ts.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = ts.isocalendar()
        return f"{year}-W{week:02d}"
    return ts.strftime("%Y-%m")


class HistoryBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._head = -1
        self._view = HistoryView()
        self._pnl_by_day: dict[str, Decimal] = {}
        self._before_start_by_day: dict[str, Decimal] = {}
        with store.lock:  # fills stored before this desk started (a restart's history)
            self._stored_at_start = rows.fill_count(store.conn)

    def view(self, today: datetime | None) -> HistoryView:
        """The history as of the stored fills; `today` picks the day of `today_realized`."""
        with self.store.lock:
            head = rows.newest_fill_id(self.store.conn)
        if head != self._head:
            self._rebuild()
            self._head = head
        day = today.strftime("%Y-%m-%d") if today else ""
        return HistoryView(self._view.fills, self._view.trades, self._view.pnl,
                           self._pnl_by_day.get(day, Decimal(0)),
                           self._before_start_by_day.get(day, Decimal(0)))

    def _rebuild(self) -> None:
        fills = stored_fills(self.store)
        with self.store.lock:
            strategy_of = rows.order_actors(self.store.conn,
                                            list({f.client_order_id for f in fills}))
        book, tracker = Portfolio(Decimal(0)), TradeTracker()
        sums: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        views = []
        before_start: dict[str, Decimal] = defaultdict(Decimal)
        for n, fill in enumerate(fills):
            before = book.position(fill.symbol).realized_pnl
            book.apply_fill(fill)
            after = book.position(fill.symbol).realized_pnl
            strategy = strategy_of.get(fill.client_order_id, "")
            tracker.on_fill(fill, strategy)
            if n < self._stored_at_start:
                before_start[period_label("day", fill.ts)] += after - before - fill.fee
            for period in PERIODS:
                entry = sums[(period, period_label(period, fill.ts))]
                entry[0] += after - before - fill.fee
                entry[1] += fill.fee
                entry[2] += 1
            views.append(FillView(fill.ts, fill.symbol, str(fill.side), fill.qty, fill.price,
                                  fill.fee, fill.client_order_id, strategy))
        pnl = tuple(PnlView(period, label, net.quantize(Decimal("0.01")),
                            fees.quantize(Decimal("0.01")), count)
                    for (period, label), (net, fees, count) in sorted(
                        sums.items(), key=lambda item: (PERIODS.index(item[0][0]),
                                                        item[0][1]), reverse=False)
                    )
        by_period = [p for period in PERIODS
                     for p in sorted((p for p in pnl if p.period == period),
                                     key=lambda p: p.label, reverse=True)]
        trades = tuple(ClosedTradeView(
            t.symbol, t.side, t.entry_time, t.entry_price, t.exit_time, t.exit_price, t.qty,
            t.pnl, t.return_pct, t.strategy) for t in reversed(tracker.closed[-KEEP:]))
        self._pnl_by_day = {p.label: p.realized for p in pnl if p.period == "day"}
        self._before_start_by_day = {day: value.quantize(Decimal("0.01"))
                                     for day, value in before_start.items()}
        self._view = HistoryView(tuple(reversed(views[-KEEP:])), trades, tuple(by_period))


def stored_executions(store: Store, limit: int) -> list[ExecutionView]:
    """The newest stored sessions as the Execution pane shows them (a restarted desk has
    none in memory until it trades again)."""
    with store.lock:
        found = rows.recent_sessions(store.conn, limit)
    views = []
    for r in found:
        filled = Decimal(repr(r["filled_qty"]))
        avg = Decimal(repr(r["notional"] / r["filled_qty"])) if r["filled_qty"] else None
        views.append(ExecutionView(
            r["id"], r["kind"], r["symbol"], r["side"], int(r["parts_done"] or 0),
            int(r["parts_total"] or 0), filled, Decimal(r["total_qty"]), avg,
            Decimal(r["arrival_price"]) if r["arrival_price"] else None, r["status"]))
    return views
