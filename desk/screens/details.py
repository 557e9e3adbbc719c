"""Every field of the selected row, in full (tables cut long values short)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from desk.widgets.pane import Details


class DetailsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="details.close"),
    ]

    def __init__(self, details: Details) -> None:
        super().__init__()
        self.details = details

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.details.rows:
            table.add_row(label, value)
        with VerticalScroll(id="details-dialog", classes="dialog"):
            yield Label(self.details.title, classes="dialog-title")
            yield Static(table)
            yield Label("escape close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
