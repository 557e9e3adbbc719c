"""The audit reads of a compliance report: entries of a time range, streamed in seq order,
and the checkpoint that signs past a seq. Constant memory: a cursor read in batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

BATCH = 5000
SELECT_RANGE = (
    "SELECT seq, ts, kind, actor, payload, hash FROM audit_entries "
    "WHERE ts >= ? AND ts < ? ORDER BY seq"
)


def entries_between(conn: sqlite3.Connection, ts_from: str, ts_to: str
                    ) -> Iterator[tuple[int, str, str, str, str, str]]:
    """(seq, ts, kind, actor, payload JSON, hash) with ts_from <= ts < ts_to (ISO text)."""
    cursor = conn.execute(SELECT_RANGE, (ts_from, ts_to))
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        yield from rows


def checkpoint_covering(conn: sqlite3.Connection, seq: int) -> tuple[int, str, str] | None:
    """(seq, hash, ts) of the first checkpoint at or after `seq`: its signature covers every
    entry up to it through the hash chain."""
    return conn.execute(
        "SELECT seq, hash, ts FROM audit_checkpoints WHERE seq >= ? ORDER BY seq LIMIT 1",
        (seq,)).fetchone()
