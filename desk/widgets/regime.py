"""Pane 5: the market regime of each symbol, its probabilities and transitions."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from desk.widgets.format import bar, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from desk.widgets.transition_matrix import TransitionMatrix
from engine.live.snapshot import RegimeView, Snapshot

LABEL_STYLES = {"bull": "profit", "bear": "loss"}


class RegimePane(Pane):
    number = 5
    title = "Regime"

    def __init__(self) -> None:
        super().__init__()
        self._regimes: dict[str, RegimeView] = {}

    def compose(self):
        yield KeyedTable([("symbol", "Symbol")], id="regime-table")
        yield TransitionMatrix(id="transition-matrix")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._regimes = {r.symbol: r for r in snapshot.regimes}
        labels: list[str] = []
        for regime in snapshot.regimes:
            labels += [label for label in regime.labels if label not in labels]
        table = self.query_one(KeyedTable)
        table.set_columns(
            [("symbol", "Symbol"), ("label", "Regime"), ("held", "Held"), *((x, x) for x in labels)]
        )
        table.sync({r.symbol: self._row(r, labels) for r in snapshot.regimes})
        self._show_matrix()

    def _row(self, regime: RegimeView, labels: list[str]) -> tuple:
        label_style = self.style_of(LABEL_STYLES.get(regime.label, "muted"))
        probabilities = [
            Text(f"{bar(p, 5)} {p * 100:3.0f}%", style=self.style_of(LABEL_STYLES.get(x, "muted")))
            for x in labels
            for p in [regime.probabilities.get(x, 0.0)]
        ]
        return (
            regime.symbol,
            Text(regime.label, style=label_style),
            right(f"{regime.held_bars} bars"),
            *probabilities,
        )

    def _show_matrix(self) -> None:
        key = self.query_one(KeyedTable).selected_key
        self.query_one(TransitionMatrix).show(self._regimes.get(key or ""))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_matrix()

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        regime = self._regimes.get(key or "")
        return describe(f"Regime {key}", regime) if regime else None
