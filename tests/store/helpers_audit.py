"""Builders for audit tests: a small signed log on disk, raw SQL tampering, key files."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from store.db import Store

KINDS = ("order.proposed", "order.approved", "order.filled", "risk.denied", "engine.started")
ACTORS = ("engine", "user", "system")
COLUMNS = ("seq", "ts", "kind", "actor", "payload", "prev_hash", "hash")
SELECT_ROWS = f"SELECT {', '.join(COLUMNS)} FROM audit_entries ORDER BY seq"
INSERT_ROW = f"INSERT INTO audit_entries ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def build_log(path: Path, key_path: Path, entries: int, checkpoint_every: int = 10) -> Path:
    """A closed database holding `entries` varied entries (checkpoints every
    `checkpoint_every` and one at the end, written by close)."""
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    store = Store.open(path, audit_key_path=key_path, checkpoint_every=checkpoint_every)
    with store.unit_of_work():
        for i in range(entries):
            store.audit.append(
                KINDS[i % len(KINDS)],
                ACTORS[i % len(ACTORS)],
                {
                    "symbol": "BTC/USDT",
                    "qty": Decimal("0.001") * (i + 1),
                    "price": 43000.5 + i,
                    "note": f'entrée {i} "quoted" \\ back',
                    "legs": [{"n": i, "ok": i % 2 == 0, "x": None}],
                },
                ts=start + timedelta(seconds=i, microseconds=i),
            )
    store.close()
    return path


def copy_log(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM audit_entries ORDER BY seq"
        ).fetchall()


def execute(path: Path, *statements: tuple[str, tuple]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("COMMIT")
    finally:
        conn.close()


def set_field(path: Path, seq: int, column: str, value: object) -> None:
    assert column in COLUMNS
    execute(path, (f"UPDATE audit_entries SET {column} = ? WHERE seq = ?", (value, seq)))


def delete_seq(path: Path, seq: int) -> None:
    execute(path, ("DELETE FROM audit_entries WHERE seq = ?", (seq,)))


def truncate_tail(path: Path, count: int) -> None:
    execute(
        path,
        (
            "DELETE FROM audit_entries WHERE seq > (SELECT MAX(seq) FROM audit_entries) - ?",
            (count,),
        ),
    )


def insert_forged(path: Path, at: int, forged_row: tuple) -> None:
    """Shift entries >= `at` up by one and put `forged_row` (all 7 columns) at `at`."""
    execute(
        path,
        ("UPDATE audit_entries SET seq = -(seq + 1) WHERE seq >= ?", (at,)),
        ("UPDATE audit_entries SET seq = -seq WHERE seq < 0", ()),
        (INSERT_ROW, forged_row),
    )


def swap_rows(path: Path, i: int, j: int) -> None:
    """Exchange the contents of entries i and j, keeping their seq numbers."""
    execute(
        path,
        ("UPDATE audit_entries SET seq = -1 WHERE seq = ?", (i,)),
        ("UPDATE audit_entries SET seq = ? WHERE seq = ?", (i, j)),
        ("UPDATE audit_entries SET seq = ? WHERE seq = -1", (j,)),
    )


def rechain(path: Path, rows_in: list[tuple], *, keep_checkpoints: bool = False) -> None:
    """The silent rewrite: replace the log by `rows_in` (seq, ts, kind, actor, payload, ...)
    re-numbered from 1 and re-hashed correctly; checkpoints deleted unless kept."""
    from store.canonical import GENESIS_HASH, entry_hash

    prev = GENESIS_HASH
    fresh = []
    for seq, (_, ts, kind, actor, payload, *_rest) in enumerate(rows_in, start=1):
        hash_ = entry_hash(seq, ts, kind, actor, payload, prev)
        fresh.append((seq, ts, kind, actor, payload, prev, hash_))
        prev = hash_
    statements: list[tuple[str, tuple]] = [("DELETE FROM audit_entries", ())]
    if not keep_checkpoints:
        statements.append(("DELETE FROM audit_checkpoints", ()))
    statements += [(INSERT_ROW, row) for row in fresh]
    execute(path, *statements)
