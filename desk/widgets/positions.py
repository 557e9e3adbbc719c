"""Pane 1: open positions with their P&L."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from desk.widgets.format import money, pnl_text, quantity, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import PositionView, Snapshot

COLUMNS = (
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("qty", "Qty"),
    ("avg", "Avg price"),
    ("last", "Last"),
    ("unrealized", "Unrealized"),
    ("realized", "Realized"),
)


class PositionsPane(Pane):
    number = 1
    title = "Positions"

    def __init__(self) -> None:
        super().__init__()
        self._positions: dict[str, PositionView] = {}

    def compose(self):
        yield KeyedTable(COLUMNS, id="positions-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._positions = {p.symbol: p for p in snapshot.positions}
        profit, loss = self.style_of("profit"), self.style_of("loss")
        side_style = {"long": self.style_of("bid"), "short": self.style_of("ask")}
        rows = {
            p.symbol: (
                p.symbol,
                Text(p.side, style=side_style.get(p.side, self.style_of("muted"))),
                right(quantity(p.qty)),
                right(money(p.avg_price)),
                right(money(p.last)),
                pnl_text(p.unrealized, profit, loss),
                pnl_text(p.realized, profit, loss),
            )
            for p in snapshot.positions
        }
        self.query_one(KeyedTable).sync(rows)

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        position = self._positions.get(key or "")
        return describe(f"Position {key}", position) if position else None
