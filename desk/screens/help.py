"""Every key the desk answers to, read from the bindings themselves so it never drifts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def _key_label(binding: Binding) -> str:
    return binding.key.replace("question_mark", "?")


def help_rows(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, what they do); a run of bindings to one action with different arguments
    (1..7 -> show_pane(n)) becomes one row."""
    rows: list[tuple[str, str]] = []
    runs: list[list[Binding]] = []
    for binding in bindings:
        action = binding.action.split("(")[0]
        if runs and "(" in binding.action and runs[-1][0].action.split("(")[0] == action:
            runs[-1].append(binding)
        else:
            runs.append([binding])
    for run in runs:
        if len(run) == 1:
            rows.append((_key_label(run[0]), run[0].tooltip or run[0].description))
        else:
            labels = [_key_label(b) for b in run]
            digits = all(label.isdigit() for label in labels) and labels == [
                str(int(labels[0]) + i) for i in range(len(labels))]
            keys = f"{labels[0]}-{labels[-1]}" if digits else "/".join(labels)
            rows.append((keys, "; ".join(b.tooltip or b.description for b in run)))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for keys, text in help_rows(self.bindings):
            table.add_row(keys, text)
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)
            yield Label("escape close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
