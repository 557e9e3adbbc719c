"""The engine stopped: say so at once, in one line, and how to leave."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class EngineStoppedScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="stopped.close"),
    ]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="stopped-dialog", classes="dialog"):
            yield Label("The engine stopped", classes="dialog-title")
            yield Label(self.reason, id="stopped-reason")
            yield Label("Nothing trades, and positions and prices no longer move. What was "
                        "committed is in the database; restart with `desk` to resume.")
            yield Label("q quit · escape close", classes="dialog-hint")
