"""The regime transition matrix of one symbol: row = from, column = to."""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from engine.live.snapshot import RegimeView


class TransitionMatrix(Static):
    def show(self, regime: RegimeView | None) -> None:
        if regime is None or not regime.transition:
            self.update("")
            return
        table = Table(
            title=f"{regime.symbol} transitions (from → to)",
            title_justify="left",
            box=None,
            padding=(0, 1),
            header_style="bold",
        )
        table.add_column("from")
        for label in regime.labels:
            table.add_column(label, justify="right")
        for label, row in zip(regime.labels, regime.transition, strict=False):
            style = "bold" if label == regime.label else ""
            table.add_row(label, *(f"{p:.2f}" for p in row), style=style)
        self.update(table)
