"""Export a range of the audit log to a file someone else can verify without our code.

JSONL (`desk-audit/1`): a header line {"format", "public_key", "first_seq", "last_seq"},
one entry object per line in seq order, then {"checkpoint": {"seq", "hash", "ts"},
"signature"} signed now over the canonical JSON of the checkpoint object. CSV: the same
entries flattened (payload as its canonical JSON string) for spreadsheets, unsigned.

Entries are streamed from a cursor in batches, so memory does not grow with the log.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import TextIO

from store.audit import Checkpoint, sign_checkpoint, store_checkpoint
from store.audit_export_check import check_export_range
from store.db import open_read_only
from store.errors import ForgedChainError, StoreError
from store.key_anchor import KeyAnchor, SignedHead, warn
from store.signing import AuditSigner

FORMAT = "desk-audit/1"
CSV_COLUMNS = ("seq", "ts", "kind", "actor", "payload", "prev_hash", "hash")
BATCH = 5000
SELECT_RANGE = (
    "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
    "WHERE seq BETWEEN ? AND ? ORDER BY seq"
)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    path: Path
    fmt: str
    first_seq: int
    last_seq: int
    entries: int
    checkpoint: Checkpoint
    public_key: str
    checkpoint_stored: bool  # also written to the database (the range ended at its head)


def export_audit(
    db_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    fmt: str = "jsonl",
    key_path: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
) -> ExportSummary:
    """Export seq from_seq..to_seq, signed. The range is verified first (chain, checkpoint
    hashes and signatures, and the link to the key holder's last signed head): StoreError
    (ForgedChainError for a rewritten log) and nothing written if it is broken.
    `checkpoint_every` is the cadence recorded by the checkpoint stored in the database when
    the log has none recorded yet."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"export format must be 'jsonl' or 'csv', got {fmt!r}")
    out_path = Path(out)
    signer = AuditSigner(key_path)
    anchor = KeyAnchor(signer.key_path, db_path)
    conn = open_audit_db(db_path)
    try:
        # One read transaction: the range, its head hash and the rows come from one
        # snapshot even while the engine keeps appending.
        conn.execute("BEGIN")
        first, last, head = _range(conn, db_path, from_seq, to_seq, anchor.read())
        (last_hash,) = conn.execute(
            "SELECT hash FROM audit_entries WHERE seq = ?", (last,)
        ).fetchone()
        cadence = check_export_range(conn, db_path, first, last, signer, anchor)
        checkpoint = sign_checkpoint(signer, last, last_hash)
        public_key = signer.public_key_b64()
        cursor = conn.execute(SELECT_RANGE, (first, last))
        writer = _write_jsonl if fmt == "jsonl" else _write_csv
        entries = _write_atomically(
            out_path, lambda handle: writer(handle, cursor, public_key, first, last, checkpoint)
        )
        conn.execute("COMMIT")
    except sqlite3.Error as error:
        raise StoreError(f"{db_path}: cannot read the audit log: {error}") from error
    finally:
        conn.close()
    stored = False
    if last == head:
        # The same head signed again with the cadence in force: the form stored checkpoints
        # take, which does not change the cadence.
        every = cadence if cadence is not None else checkpoint_every
        stored = _store_checkpoint(db_path, sign_checkpoint(signer, last, last_hash, every=every))
    try:
        anchor.advance(last, last_hash)
    except (OSError, StoreError) as error:
        warn(f"could not record the signed audit head in {anchor.path}: {error}")
    return ExportSummary(out_path, fmt, first, last, entries, checkpoint, public_key, stored)


def open_audit_db(db_path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to a Desk database this code can read; never creates one."""
    return open_read_only(db_path)


def _range(
    conn: sqlite3.Connection,
    db_path: object,
    from_seq: int | None,
    to_seq: int | None,
    held: SignedHead | None = None,
) -> tuple[int, int, int]:
    low, high = conn.execute("SELECT MIN(seq), MAX(seq) FROM audit_entries").fetchone()
    if low is None and held is not None:
        raise ForgedChainError(
            f"{db_path}: refusing to sign an export: the key holder last signed entry "
            f"{held.seq} ({held.hash[:16]}...), but the log is empty",
            seq=held.seq,
            hash_=held.hash,
            reason="the log is empty",
        )
    if low is None:
        raise StoreError(f"{db_path}: the audit log is empty: nothing to export")
    first = low if from_seq is None else from_seq
    last = high if to_seq is None else min(to_seq, high)
    if first < 1 or first > last:
        raise StoreError(
            f"{db_path}: no audit entries in {_describe_range(from_seq, to_seq)} (the log "
            f"holds seq {low}..{high})"
        )
    if conn.execute("SELECT 1 FROM audit_entries WHERE seq = ?", (last,)).fetchone() is None:
        raise StoreError(f"{db_path}: audit entry {last} is missing: run `desk audit verify`")
    return first, last, high


def _describe_range(from_seq: int | None, to_seq: int | None) -> str:
    """The range asked for in words: an open end is named, never printed as None."""
    if from_seq is not None and to_seq is not None:
        return f"seq {from_seq}..{to_seq}"
    if from_seq is not None:
        return f"seq {from_seq} onwards"
    if to_seq is not None:
        return f"seq up to {to_seq}"
    return "the log"


def _write_atomically(path: Path, write: Callable[[TextIO], int]) -> int:
    # Written aside and renamed: an interrupted export never leaves a plausible half file.
    # No missing folder is created (the command line's rule for every output path).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            count = write(handle)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_jsonl(
    handle: TextIO,
    cursor: sqlite3.Cursor,
    public_key: str,
    first: int,
    last: int,
    checkpoint: Checkpoint,
) -> int:
    header = {"format": FORMAT, "public_key": public_key, "first_seq": first, "last_seq": last}
    handle.write(json.dumps(header, separators=(",", ":")) + "\n")
    enc = encode_basestring
    count = 0
    while rows := cursor.fetchmany(BATCH):
        # The payload column already holds canonical JSON: embedded as is, not re-encoded.
        handle.write(
            "".join(
                [
                    '{"seq":' + str(seq)
                    + ',"ts":' + enc(ts)
                    + ',"kind":' + enc(kind)
                    + ',"actor":' + enc(actor)
                    + ',"payload":' + payload
                    + ',"prev_hash":' + enc(prev)
                    + ',"hash":' + enc(hash_)
                    + "}\n"
                    for seq, ts, kind, actor, payload, prev, hash_ in rows
                ]
            )
        )  # fmt: skip
        count += len(rows)
    trailer = {
        "checkpoint": {"seq": checkpoint.seq, "hash": checkpoint.hash, "ts": checkpoint.ts},
        "signature": checkpoint.signature,
    }
    handle.write(json.dumps(trailer, separators=(",", ":")) + "\n")
    return count


def _write_csv(
    handle: TextIO,
    cursor: sqlite3.Cursor,
    public_key: str,
    first: int,
    last: int,
    checkpoint: Checkpoint,
) -> int:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    while rows := cursor.fetchmany(BATCH):
        writer.writerows(rows)
        count += len(rows)
    return count


def _store_checkpoint(db_path: str | os.PathLike[str], checkpoint: Checkpoint) -> bool:
    """Record the export's checkpoint in the database; False if it cannot be written
    (e.g. a read-only copy), which does not make the export less valid."""
    try:
        conn = sqlite3.connect(db_path, isolation_level=None, timeout=5.0)
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN IMMEDIATE")
        store_checkpoint(conn, checkpoint)
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()
