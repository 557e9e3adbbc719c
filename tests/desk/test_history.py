"""History: fills, closed trades and P&L by day, week and month from the stored fills,
filterable by symbol, and all of it (with the executions) still there after a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from desk.app import DeskApp
from desk.widgets.history import HistoryPane
from desk.widgets.keyed_table import KeyedTable
from engine.adapters.sqlite.history_book import period_label
from engine.live.manual import parse
from tests.desk.builders import NOW, RecordingControl
from tests.live_engine import live_engine


def make_app(control=None) -> DeskApp:
    return DeskApp(control or RecordingControl(), clock=lambda: NOW)


def test_period_labels_are_utc_day_iso_week_and_month():
    ts = datetime(2027, 1, 1, 12, tzinfo=UTC)  # a Friday in ISO week 53 of 2026
    assert [period_label(p, ts) for p in ("day", "week", "month")] == [
        "2027-01-01", "2026-W53", "2027-01"]


async def test_h_shows_fills_v_cycles_the_views_f_filters_by_symbol():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        pane = app.main.query_one(HistoryPane)
        table = app.main.query_one("#history-table", KeyedTable)
        assert table.row_count == 4
        await pilot.press("f")  # BTC/USDT
        assert pane.symbol_filter == "BTC/USDT" and table.row_count == 2
        await pilot.press("f", "f", "f")  # ETH, SOL, then all again
        assert pane.symbol_filter == "" and table.row_count == 4
        views = []
        for _ in range(5):
            await pilot.press("v")
            views.append((pane.mode, table.row_count))
    assert views == [("trades", 1), ("day", 3), ("week", 1), ("month", 1), ("fills", 4)]


def test_after_a_restart_the_fills_pnl_and_executions_are_still_shown(tmp_path):
    """A desk buys by hand, the fill lands, the desk stops; a new desk on the same
    database shows that fill, its P&L (the fee, today) and its execution before it has
    traded anything."""
    first, _, _ = live_engine(tmp_path)
    outcome = first.place_order(parse("BTC/USDT", "buy", "0.01"))
    for _ in range(2):
        first.step()
    before = first.latest_snapshot()
    first.stop()
    assert outcome.accepted and len(before.history.fills) == 1

    second, _, _ = live_engine(tmp_path)
    after = second.latest_snapshot()
    second.stop()
    fill = after.history.fills[0]
    assert (fill.symbol, fill.side, fill.qty, fill.strategy) == ("BTC/USDT", "buy",
                                                                 Decimal("0.01"), "manual")
    assert after.history.today_realized == -fill.fee.quantize(Decimal("0.01"))
    day = [p for p in after.history.pnl if p.period == "day"]
    assert len(day) == 1 and day[0].fills == 1 and day[0].fees == fill.fee.quantize(
        Decimal("0.01"))
    assert [e.symbol for e in after.executions] == ["BTC/USDT"]
    assert after.executions[0].status == "done" and after.executions[0].filled_qty == \
        Decimal("0.01")
    assert {p.symbol: p.qty for p in after.positions} == {"BTC/USDT": Decimal("0.01")}
    # The day's P&L in the status line keeps what was realized before the restart.
    assert after.history.today_before_start == after.history.today_realized
    assert after.day_pnl == after.risk.day_pnl + after.history.today_before_start
    assert before.history.today_before_start == 0  # the first desk started with no fills


def test_realized_pnl_by_day_adds_up_to_the_portfolios(tmp_path):
    """Round trips by hand: the P&L table's total equals the account's realized P&L net of
    fees, as the portfolio that booked the same fills has it."""
    engine, _, _ = live_engine(tmp_path)
    for side in ("buy", "sell", "buy", "sell"):
        engine.place_order(parse("ETH/USDT", side, "0.5"))
        for _ in range(3):
            engine.step()
    history = engine.latest_snapshot().history
    position = engine.portfolio.position("ETH/USDT")
    engine.stop()
    total = sum((p.realized for p in history.pnl if p.period == "month"), Decimal(0))
    assert total == (position.realized_pnl - position.fees).quantize(Decimal("0.01"))
    assert len(history.trades) == 2
