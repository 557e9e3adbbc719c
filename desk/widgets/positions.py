"""Pane 1: open positions with their P&L, and the bid and ask of each symbol's book."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from desk.widgets.format import pnl_text, price, quantity, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import PositionView, Snapshot

COLUMNS = (
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("qty", "Qty"),
    ("avg", "Avg price", 2),
    ("last", "Last"),
    ("unrealized", "Unrealized"),
    # On a narrow pane realized P&L gives way first, then the average price (both are in the
    # row's details), then the book's quotes; at 80 columns Unrealized stays the sixth cell.
    ("realized", "Realized", 2),
    ("bid", "Bid", 1),
    ("ask", "Ask", 1),
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
        bid, ask = self.style_of("bid"), self.style_of("ask")
        side_style = {"long": bid, "short": ask}
        quotes = snapshot.quotes
        rows = {
            p.symbol: (
                p.symbol,
                Text(p.side, style=side_style.get(p.side, self.style_of("muted"))),
                right(quantity(p.qty)),
                right(price(p.avg_price)),
                right(price(p.last)),
                pnl_text(p.unrealized, profit, loss),
                pnl_text(p.realized, profit, loss),
                right(price(quotes[p.symbol][0]) if p.symbol in quotes else "—", bid),
                right(price(quotes[p.symbol][1]) if p.symbol in quotes else "—", ask),
            )
            for p in snapshot.positions
        }
        self.query_one(KeyedTable).sync(rows)

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        position = self._positions.get(key or "")
        return describe(f"Position {key}", position) if position else None
