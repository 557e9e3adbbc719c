"""Pane h: the history kept in the store, so it is there after a restart: fills, closed
trades, and realized P&L by day, week and month (net of fees). `v` switches the view,
`f` filters by symbol (all, then each symbol in turn)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Label

from desk.widgets.format import pnl_text, price, quantity, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import HistoryView, Snapshot

VIEWS = ("fills", "trades", "day", "week", "month")
COLUMNS = {
    "fills": (("ts", "Market time"), ("symbol", "Symbol"), ("side", "Side"), ("qty", "Qty"),
              ("price", "Price"), ("fee", "Fee", 2), ("strategy", "By", 1)),
    "trades": (("exit", "Closed"), ("symbol", "Symbol"), ("side", "Side"), ("qty", "Qty", 2),
               ("entry", "Entry px", 3), ("exit_px", "Exit px", 3), ("pnl", "P&L"),
               ("ret", "Return", 1), ("strategy", "By", 2)),
    "day": (("label", "Day (UTC)"), ("realized", "Realized P&L"), ("fees", "Fees"),
            ("fills", "Fills")),
}
COLUMNS["week"] = (("label", "ISO week"), *COLUMNS["day"][1:])
COLUMNS["month"] = (("label", "Month"), *COLUMNS["day"][1:])


class HistoryPane(Pane):
    number = 12
    key = "h"
    title = "History"
    grid = False

    BINDINGS: ClassVar[list[BindingType]] = [
        # Out of the footer (the caption names them) so the desk's keys keep their room.
        Binding("v", "next_view", "View", show=False, id="history.view",
                tooltip="History: fills, trades, P&L by day, week, month"),
        Binding("f", "next_symbol", "Symbol", show=False, id="history.filter",
                tooltip="History: all symbols, then one at a time"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mode = "fills"
        self.symbol_filter = ""  # "" is every symbol
        self._history = HistoryView()
        self._symbols: tuple[str, ...] = ()
        self._rows: dict[str, object] = {}

    def compose(self):
        yield Label(id="history-caption")
        yield KeyedTable(COLUMNS["fills"], id="history-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._history, self._symbols = snapshot.history, snapshot.symbols
        self._draw()

    def _draw(self) -> None:
        history = self._history
        table = self.query_one(KeyedTable)
        table.set_columns(COLUMNS[self.mode])
        profit, loss = self.style_of("profit"), self.style_of("loss")
        side_style = {"buy": self.style_of("bid"), "long": self.style_of("bid"),
                      "sell": self.style_of("ask"), "short": self.style_of("ask")}
        rows: dict[str, tuple] = {}
        self._rows = {}
        if self.mode == "fills":
            for n, f in enumerate(x for x in history.fills if self._wanted(x.symbol)):
                key = f"{f.order_id}-{n}"
                self._rows[key] = f
                rows[key] = (f"{f.ts:%m-%d %H:%M}", f.symbol,
                             Text(f.side, style=side_style.get(f.side, "")),
                             right(quantity(f.qty)), right(price(f.price)),
                             right(f"{f.fee:,.2f}"), f.strategy or "—")
        elif self.mode == "trades":
            for n, t in enumerate(x for x in history.trades if self._wanted(x.symbol)):
                key = f"{t.symbol}-{t.exit_time.isoformat()}-{n}"
                self._rows[key] = t
                rows[key] = (f"{t.exit_time:%m-%d %H:%M}", t.symbol,
                             Text(t.side, style=side_style.get(t.side, "")),
                             right(quantity(t.qty)), right(price(t.entry_price)),
                             right(price(t.exit_price)), pnl_text(t.pnl, profit, loss),
                             right(f"{t.return_pct:+.2f}%"), t.strategy or "—")
        else:
            for p in history.pnl:
                if p.period == self.mode:
                    self._rows[p.label] = p
                    rows[p.label] = (p.label, pnl_text(p.realized, profit, loss),
                                     right(f"{p.fees:,.2f}"), right(str(p.fills)))
        table.sync(rows)
        shown = f"symbol {self.symbol_filter}" if self.symbol_filter else "all symbols"
        if self.mode in ("day", "week", "month"):
            shown = "the account"
        self.query_one("#history-caption", Label).update(
            f"{self._title()} · {shown} · today {history.today_realized:+,.2f} realized"
            " · v view · f symbol")

    def _title(self) -> str:
        return {"fills": "Fills", "trades": "Closed trades", "day": "P&L by day",
                "week": "P&L by week", "month": "P&L by month"}[self.mode]

    def _wanted(self, symbol: str) -> bool:
        return not self.symbol_filter or symbol == self.symbol_filter

    def action_next_view(self) -> None:
        self.mode = VIEWS[(VIEWS.index(self.mode) + 1) % len(VIEWS)]
        self._draw()

    def action_next_symbol(self) -> None:
        choices = ("", *self._symbols)
        self.symbol_filter = choices[(choices.index(self.symbol_filter) + 1) % len(choices)] \
            if self.symbol_filter in choices else ""
        self._draw()

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        row = self._rows.get(key or "")
        return describe(f"{self._title()}: {key}", row) if row is not None else None
