"""Pane 7: the newest audit entries and whether the hash chain verifies."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Label

from desk.widgets.format import right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import AuditView, Snapshot

COLUMNS = (
    ("seq", "Seq"),
    ("ts", "Time"),
    ("kind", "Kind"),
    ("actor", "Actor"),
    ("summary", "Summary"),
)


def short_time(ts: str) -> str:
    """The time of day of an ISO timestamp (the details modal shows it in full)."""
    if len(ts) >= 19 and ts[10] in "T ":
        return ts[11:19]
    return ts


class AuditPane(Pane):
    number = 7
    title = "Audit"

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, AuditView] = {}

    def compose(self):
        yield Label(id="chain-status")
        yield KeyedTable(COLUMNS, id="audit-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        status = self.query_one("#chain-status", Label)
        if snapshot.engine_stopped:
            # Nothing checks the chain once the engine is gone: claim nothing about it.
            status.update(f"Chain NOT CHECKED (engine stopped) · verified through seq "
                          f"{snapshot.chain_verified_seq}")
        else:
            state = "OK" if snapshot.chain_ok else "BROKEN"
            status.update(f"Chain {state} · verified through seq {snapshot.chain_verified_seq}")
        status.set_class(bool(snapshot.engine_stopped) or not snapshot.chain_ok, "-broken")

        table = self.query_one(KeyedTable)
        # Follow the tail unless the user moved the cursor up to read an older entry.
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        self._entries = {str(e.seq): e for e in snapshot.audit_tail}
        table.sync(
            {
                str(e.seq): (right(str(e.seq)), short_time(e.ts), e.kind, e.actor, e.summary)
                for e in snapshot.audit_tail
            }
        )
        if following and table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        entry = self._entries.get(key or "")
        return describe(f"Audit entry {key}", entry) if entry else None
