"""Pane 7: the newest audit entries and whether the hash chain verifies."""

from __future__ import annotations

import json
from datetime import datetime

from textual.widgets import Label

from desk.widgets.format import right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane
from engine.live.snapshot import AuditView, Snapshot

# Entries are stamped with the wall clock (the status line's "mkt" is market time).
COLUMNS = (
    ("seq", "Seq", 2),
    ("ts", "Wall time", 1),
    ("kind", "Kind"),
    ("actor", "Actor", 3),
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
        return audit_details(entry) if entry else None


def audit_details(entry: AuditView) -> Details:
    """Everything the chain holds for one entry: seq, wall time, kind, actor, the payload
    field by field (as stored: JSON) and both hashes, so an entry can be checked by eye."""
    rows: list[tuple[str, str]] = [
        ("seq", str(entry.seq)),
        ("wall time", entry.ts),
        ("kind", entry.kind),
        ("actor", entry.actor),
        ("summary", entry.summary or "—"),
    ]
    if entry.payload:
        rows += [(f"payload.{name}", value if isinstance(value, str) else
                  json.dumps(value, default=str, ensure_ascii=False))
                 for name, value in entry.payload.items()]
    else:
        rows.append(("payload", "{}"))
    rows += [("prev_hash", entry.prev_hash or "—"), ("hash", entry.hash or "—")]
    return Details(f"Audit entry {entry.seq}", tuple(rows))
