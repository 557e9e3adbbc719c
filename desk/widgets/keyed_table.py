"""A DataTable whose rows are identified by key, updated in place, and whose columns give
way by priority when the table is too narrow.

Clearing and refilling a table on every snapshot would move the cursor back to the top and
redraw everything; here only cells whose content changed are touched.

Columns are (key, label) or (key, label, priority). Priority 0 (the default) is always
shown; when the columns' natural widths do not fit, the highest priority number goes
first (the rightmost of equals first), so a narrow table loses whole low-priority columns
instead of cutting values mid-number. `enter` (the details dialog) shows every field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellType

ColumnSpec = tuple[str, str] | tuple[str, str, int]
# Free text (an audit summary, a reason) is cut at its end rather than pushing every other
# column out: a column counts at most this wide when deciding what fits.
MAX_NATURAL_WIDTH = 48


def _same(a: object, b: object) -> bool:
    # rich's Text equality ignores the base style, and a colour change matters here.
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans
    return a == b


def _width(cell: object) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((cell_len(line) for line in text.splitlines()), default=0)


def fit_columns(widths: Sequence[int], priorities: Sequence[int], room: int) -> list[int]:
    """Indexes of the columns to show: all if their widths fit in `room`, else drop the
    highest priority number first (the rightmost of equals first) until they fit or only
    priority-0 columns (or a single column) are left."""
    shown = list(range(len(widths)))
    droppable = sorted((i for i in shown if priorities[i] > 0),
                       key=lambda i: (priorities[i], i), reverse=True)
    for index in droppable:
        if sum(widths[i] for i in shown) <= room or len(shown) == 1:
            break  # it fits, or one column is left: a table never goes blank
        shown.remove(index)
    return shown


class KeyedTable(DataTable[CellType]):
    # Shown in the footer: enter on a row opens its details (the screen handles RowSelected).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Info", key_display="⏎", id="table.details"),
    ]

    def __init__(self, columns: Sequence[ColumnSpec], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._columns: list[tuple[str, str, int]] = []
        self._shown: list[int] = []
        self._cells: dict[str, tuple[CellType, ...]] = {}
        self._define(columns)

    # -- columns ---------------------------------------------------------------------------

    def _define(self, columns: Sequence[ColumnSpec]) -> None:
        self._columns = [(c[0], c[1], c[2] if len(c) > 2 else 0) for c in columns]
        self._shown = list(range(len(self._columns)))
        for key, label, _ in self._columns:
            self.add_column(label, key=key)

    @property
    def column_keys(self) -> list[str]:
        return [key for key, _, _ in self._columns]

    @property
    def shown_keys(self) -> list[str]:
        """The keys of the columns on screen now."""
        return [self._columns[i][0] for i in self._shown]

    def set_columns(self, columns: Sequence[ColumnSpec]) -> None:
        """Replace the columns (and drop the rows) if they differ from the current ones."""
        if [c[0] for c in columns] == self.column_keys:
            return
        self.clear(columns=True)
        self._cells = {}
        self._define(columns)
        self._refit()

    def _natural_widths(self) -> list[int]:
        pad = 2 * self.cell_padding
        widths = []
        for index, (_, label, _) in enumerate(self._columns):
            cells = (row[index] for row in self._cells.values())
            widths.append(min(max([cell_len(label), *map(_width, cells)]),
                              MAX_NATURAL_WIDTH) + pad)
        return widths

    def _refit(self) -> None:
        """Show the columns that fit the table's width now (a rebuild only on a change)."""
        # The outer width less a scrollbar's, whether one shows or not: what fits must not
        # depend on the scrollbars the choice itself brings or removes (no ping-pong).
        room = self.size.width - self.styles.scrollbar_size_vertical
        if room <= 0:
            return
        priorities = [p for _, _, p in self._columns]
        shown = fit_columns(self._natural_widths(), priorities, room)
        if shown == self._shown:
            return
        cursor = self.cursor_row
        self._shown = shown
        super().clear(columns=True)
        for index in shown:
            key, label, _ = self._columns[index]
            self.add_column(label, key=key)
        for key, cells in self._cells.items():
            self.add_row(*(cells[i] for i in shown), key=key)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    # -- rows ------------------------------------------------------------------------------

    def sync(self, rows: Mapping[str, Sequence[CellType]]) -> None:
        """Make the table show exactly `rows` (key -> cells, one per column, shown or
        not), touching only what changed."""
        for key in [key for key in self._cells if key not in rows]:
            self.remove_row(key)
            del self._cells[key]
        for key, cells in rows.items():
            cells = tuple(cells)
            old = self._cells.get(key)
            self._cells[key] = cells
            if old is None:
                self.add_row(*(cells[i] for i in self._shown), key=key)
                continue
            for index in self._shown:
                before, after = old[index], cells[index]
                if not _same(before, after):
                    self.update_cell(key, self._columns[index][0], after, update_width=True)
        self._refit()

    def clear(self, columns: bool = False):
        if not columns:
            self._cells = {}
        return super().clear(columns=columns)

    def forget_styles(self) -> None:
        """Force the next sync to rewrite every cell (after a theme change)."""
        self._cells = {key: (None,) * len(cells) for key, cells in self._cells.items()}

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value
