"""Pane m: the watchlist (last, change, bid, ask, spread, volume, regime of every symbol)
over the chart of the selected symbol."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable

from desk.widgets.format import bps, field_value, percent, price, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from desk.widgets.price_chart import PriceChart
from engine.live.snapshot import MarketView, Snapshot

COLUMNS = (
    ("symbol", "Symbol"),
    ("last", "Last"),
    ("change", "Chg"),
    ("bid", "Bid", 2),
    ("ask", "Ask", 2),
    ("spread", "Spread", 1),
    ("volume", "Day vol", 3),
    ("regime", "Regime", 1),
)
REGIME_STYLES = {"bull": "profit", "bear": "loss"}


def spread_bps(view: MarketView) -> Decimal | None:
    if view.bid is None or view.ask is None or not view.last:
        return None
    return (view.ask - view.bid) / view.last * 10_000


def volume_text(volume: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if volume >= limit:
            return f"{volume / limit:,.1f}{suffix}"
    return f"{volume:,.0f}"


class MarketPane(Pane):
    number = 11
    key = "m"
    title = "Market"
    grid = False

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, MarketView] = {}

    def compose(self):
        yield KeyedTable(COLUMNS, id="market-table")
        yield PriceChart(id="price-chart")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._views = {v.symbol: v for v in snapshot.market}
        rows = {v.symbol: self._row(v) for v in snapshot.market}
        self.query_one(KeyedTable).sync(rows)
        if self.display and (self.has_class("-active") or self.screen.has_class("-wide")):
            self._show_chart()

    def _row(self, v: MarketView) -> tuple:
        up = self.style_of("profit" if v.change >= 0 else "loss")
        spread = spread_bps(v)
        return (
            v.symbol,
            right(price(v.last)),
            right(("+" if v.change >= 0 else "") + percent(v.change, 2), up),
            right(price(v.bid)),
            right(price(v.ask)),
            right("—" if spread is None else bps(spread).lstrip("+")),
            right(volume_text(v.day_volume)),
            Text(v.regime, style=self.style_of(REGIME_STYLES.get(v.regime, "muted"))),
        )

    def _show_chart(self) -> None:
        key = self.query_one(KeyedTable).selected_key
        self.query_one(PriceChart).show(self._views.get(key or ""))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_chart()

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        view = self._views.get(key or "")
        if view is None:
            return None
        rows = [row for row in describe(f"Market {key}", view).rows
                if row[0] not in ("closes", "marks")]
        rows.append(("fills on chart", field_value("fills", len(view.marks))))
        return Details(f"Market {key}", tuple(rows))
