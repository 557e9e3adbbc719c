"""A DataTable whose rows are identified by key and updated in place.

Clearing and refilling a table on every snapshot would move the cursor back to the top and
redraw everything; here only cells whose content changed are touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellType


def _same(a: object, b: object) -> bool:
    # rich's Text equality ignores the base style, and a colour change matters here.
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans
    return a == b


class KeyedTable(DataTable[CellType]):
    """Columns are given as (key, label) pairs."""

    # Shown in the footer: enter on a row opens its details (the screen handles RowSelected).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Info", key_display="⏎", id="table.details"),
    ]

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_keys = [key for key, _ in columns]
        self._cells: dict[str, tuple[CellType, ...]] = {}
        for key, label in columns:
            self.add_column(label, key=key)

    def sync(self, rows: Mapping[str, Sequence[CellType]]) -> None:
        """Make the table show exactly `rows` (key -> cells), touching only what changed."""
        for key in [key for key in self._cells if key not in rows]:
            self.remove_row(key)
            del self._cells[key]
        for key, cells in rows.items():
            cells = tuple(cells)
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            else:
                for column, before, after in zip(self._column_keys, old, cells, strict=True):
                    if not _same(before, after):
                        self.update_cell(key, column, after, update_width=True)
            self._cells[key] = cells

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Replace the columns (and drop the rows) if they differ from the current ones."""
        if [key for key, _ in columns] == self._column_keys:
            return
        self.clear(columns=True)
        self._cells = {}
        self._column_keys = [key for key, _ in columns]
        for key, label in columns:
            self.add_column(label, key=key)

    def forget_styles(self) -> None:
        """Force the next sync to rewrite every cell (after a theme change)."""
        self._cells = {key: (None,) * len(cells) for key, cells in self._cells.items()}

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value
