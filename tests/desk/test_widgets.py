"""The panes' building blocks: formatting, derived figures, and in-place table updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from textual.app import App, ComposeResult

from desk.widgets.execution import slippage_bps
from desk.widgets.format import bar, money, quantity, time_left
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import describe
from desk.widgets.signal_matrix import latest_signals
from tests.desk.builders import NOW, executions, proposals, signals


def test_money_and_quantity_formatting():
    assert money(Decimal("68250.5")) == "68,250.50"
    assert money(None) == "—"
    assert quantity(Decimal("0.25000000")) == "0.25"
    assert quantity(Decimal("-2.5")) == "-2.5"
    assert quantity(Decimal("40")) == "40"
    assert quantity(Decimal("0")) == "0"


def test_bar_fills_in_eighths_and_clamps():
    assert bar(0.5, 4) == "██  "
    assert bar(1 / 16, 4) == "▎   "  # a quarter of one cell: the one-quarter block
    assert bar(2.0, 3) == "███"
    assert bar(-1.0, 3) == "   "


def test_time_left_counts_down_to_expired():
    assert time_left(timedelta(seconds=225)) == "3:45"
    assert time_left(timedelta(seconds=0)) == "expired"
    assert time_left(timedelta(hours=2, minutes=5)) == "2h05"


def test_slippage_is_a_cost_for_both_sides():
    twap = executions()[0]  # bought at 171.20 against an arrival of 171.05
    assert round(slippage_bps(twap), 4) == round(Decimal("0.15") / Decimal("171.05") * 10_000, 4)
    sold = replace(twap, side="sell")
    assert slippage_bps(sold) == -slippage_bps(twap)
    assert slippage_bps(replace(twap, avg_price=None)) is None


def test_latest_signal_per_symbol_and_strategy_wins():
    older = signals()[0]
    newer = replace(older, side="SELL", ts=older.ts + timedelta(seconds=1))
    latest = latest_signals((newer, older))
    assert latest[(older.symbol, older.strategy)].side == "SELL"
    assert len(latest_signals(signals())) == 9


def test_describe_lists_every_field_in_full():
    details = describe("Proposal", proposals()[0])
    rows = dict(details.rows)
    assert rows["order id"] == "desk-0007-btc-buy"
    assert rows["qty"] == "0.05"
    assert rows["expires at"] == (NOW + timedelta(seconds=225)).isoformat(" ", "seconds")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable([("name", "Name"), ("value", "Value")])


async def test_keyed_table_updates_rows_in_place_and_keeps_the_cursor():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        table.sync({"a": ("a", "1"), "b": ("b", "2"), "c": ("c", "3")})
        await pilot.pause()
        table.move_cursor(row=1)
        table.sync({"a": ("a", "1"), "b": ("b", "20"), "c": ("c", "3"), "d": ("d", "4")})
        await pilot.pause()
        assert table.selected_key == "b"
        assert table.get_row("b") == ["b", "20"]
        assert [row.key.value for row in table.ordered_rows] == ["a", "b", "c", "d"]
        table.sync({"b": ("b", "20"), "d": ("d", "4")})
        assert table.row_count == 2 and table.get_row("d") == ["d", "4"]


class MatrixApp(App):
    def compose(self) -> ComposeResult:
        from desk.widgets.signal_matrix import SignalMatrix

        yield SignalMatrix()


async def test_the_signal_matrix_shows_each_symbols_last_judgement_after_the_symbol():
    from rich.style import Style

    from desk.widgets.signal_matrix import SignalMatrix

    styles = {side: Style() for side in ("BUY", "SELL", "HOLD")}
    symbols = tuple(dict.fromkeys(s.symbol for s in signals()))
    app = MatrixApp()
    async with app.run_test() as pilot:
        matrix = app.query_one(SignalMatrix)
        matrix.show(symbols, signals(), styles)
        await pilot.pause()
        assert "judged" not in [c.key.value for c in matrix.ordered_columns]  # layer off
        judged = {symbols[0]: "kept ×0.99", symbols[1]: "dropped: direction vetoed"}
        matrix.show(symbols, signals(), styles, judged)
        await pilot.pause()
        assert [c.key.value for c in matrix.ordered_columns][:2] == ["symbol", "judged"]
        assert [str(matrix.get_row(s)[1]) for s in symbols] == \
            ["kept ×0.99", "dropped: direction vetoed", "—"]
