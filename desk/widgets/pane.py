"""What every pane shares: a number and title, theme-aware styles, and row details."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from textual.containers import Vertical
from textual.widget import Widget

from desk.widgets.format import field_value
from engine.live.snapshot import Snapshot


@dataclass(frozen=True)
class Details:
    """The content of the details modal: a title and labelled values."""

    title: str
    rows: tuple[tuple[str, str], ...]


def describe(title: str, view: object) -> Details:
    """Details of one snapshot view (a dataclass): every field, formatted by its name."""
    assert is_dataclass(view)
    rows = tuple(
        (field.name.replace("_", " "), field_value(field.name, getattr(view, field.name)))
        for field in fields(view)
    )
    return Details(title, rows)


class Pane(Vertical):
    """A pane renders the newest snapshot; styles come from the theme (see desk.tcss)."""

    number: ClassVar[int]
    title: ClassVar[str]
    # The key that shows the pane; "" means its number (pane 10 is on key 0). Panes past
    # the keyboard's digits take a letter (m Market, h History).
    key: ClassVar[str] = ""
    # Whether the pane takes a cell of the wide grid; a pane that does not is shown alone,
    # full size, when its key is pressed (the Market chart and History want the room).
    grid: ClassVar[bool] = True

    @classmethod
    def shortcut(cls) -> str:
        return cls.key or str(cls.number % 10)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane--profit",
        "pane--loss",
        "pane--bid",
        "pane--ask",
        "pane--muted",
        "pane--alert",
    }

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.number}")
        self.border_title = f"{self.shortcut()} {self.title}"

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(f"pane--{name}", partial=True)

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        """Render `snapshot` at wall-clock time `now` (every pane defines it: Textual
        widgets cannot take ABCMeta, so a pane that forgot fails loudly here)."""
        raise TypeError(f"{type(self).__name__} does not define show()")

    def restyle(self) -> None:
        """The theme changed: the next `show` must rewrite every styled cell."""
        for table in self.query("KeyedTable"):
            table.forget_styles()  # type: ignore[attr-defined]

    @property
    def focus_target(self) -> Widget:
        return self.query_one("KeyedTable")

    def selected_details(self) -> Details | None:
        return None
