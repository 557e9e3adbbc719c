"""Messages that carry the engine's news into the app.

The engine thread only ever posts these; panes react in the UI thread. Snapshots arrive
many times a second, so an unprocessed one is replaced by the next: the panes only ever
need the newest state.
"""

from __future__ import annotations

from textual.message import Message

from engine.live.snapshot import Snapshot


class SnapshotPublished(Message):
    """The engine finished a step and published this snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotPublished)
