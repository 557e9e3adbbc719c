"""The key holder's memory: the last head it signed for each database, kept beside the key.

Whoever can write the database can rewrite the whole chain with correct hashes; only what
lives outside it can tell. So the key holder writes the (seq, hash) of every head it signs
to `<key>.heads` (JSON, mode 0600, one entry per database by its resolved path), and before
it signs anything it checks that the database still holds that head and that the entries
from there to the head being signed re-hash into a valid chain (`check_extends`).

The file only moves forward (a higher seq replaces a lower one), under an advisory lock, so
two processes signing the same database never roll it back. It is written after the
signing transaction commits: a crash in between leaves it one head behind, never ahead of
the database.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from store.audit_chain import HEX64, check_chain
from store.errors import ForgedChainError, StoreError

SELECT_BETWEEN = (
    "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
    "WHERE seq > ? AND seq <= ? ORDER BY seq"
)


@dataclass(frozen=True, slots=True)
class SignedHead:
    seq: int
    hash: str


def heads_path(key_path: Path) -> Path:
    """`<key>.heads`: beside the private key, so it shares the key's protection."""
    return key_path.with_name(key_path.name + ".heads")


def database_id(db_path: str | os.PathLike[str]) -> str:
    """A database is named by its resolved path: a rewrite in place keeps the name, so the
    forger cannot make the key holder forget; a copy elsewhere is a new log."""
    return os.path.realpath(db_path)


class KeyAnchor:
    """The last signed head of one database, as the holder of `key_path` remembers it."""

    def __init__(self, key_path: Path, db_path: str | os.PathLike[str]) -> None:
        self.path = heads_path(key_path)
        self.db = database_id(db_path)

    def read(self) -> SignedHead | None:
        """The remembered head, or None if this key never signed this database."""
        return _read_all(self.path).get(self.db)

    def advance(self, seq: int, hash_: str) -> None:
        """Remember (seq, hash) unless a later head is already remembered."""
        if not self.path.parent.is_dir():
            return  # no key directory: the key itself was never written, nothing to anchor
        with _locked(self.path):
            heads = _read_all(self.path)
            current = heads.get(self.db)
            if current is not None and current.seq >= seq:
                return
            heads[self.db] = SignedHead(seq, hash_)
            _write_all(self.path, heads)

    def forget(self) -> None:
        """Drop this database's head (the owner replaced the database on purpose)."""
        if not self.path.is_file():
            return
        with _locked(self.path):
            heads = _read_all(self.path)
            if heads.pop(self.db, None) is not None:
                _write_all(self.path, heads)


def check_extends(
    conn: sqlite3.Connection,
    anchor: SignedHead | None,
    seq: int,
    hash_: str,
    *,
    db_label: object,
    heads_file: Path,
) -> None:
    """ForgedChainError unless the chain on `conn` holds `anchor` and links it, by valid
    hashes, to the entry (seq, hash_) about to be signed (before or after the anchor)."""
    if anchor is None:
        return  # trust on first use: nothing signed for this database yet
    low, high = min(anchor.seq, seq), max(anchor.seq, seq)
    expected: dict[int, list[tuple[str, str]]] = {}
    expected.setdefault(anchor.seq, []).append((anchor.hash, "it holds another entry there"))
    expected.setdefault(seq, []).append((hash_, "the entry to sign changed meanwhile"))

    def refuse(reason: str) -> None:
        raise ForgedChainError(
            f"{db_label}: refusing to sign: the key holder last signed entry {anchor.seq} "
            f"({anchor.hash[:16]}...), but {reason}; if you replaced this database on "
            f"purpose, remove its line from {heads_file}",
            seq=anchor.seq,
            hash_=anchor.hash,
            reason=reason,
        )

    if seq == 0:
        refuse("the log is empty")
    row = conn.execute("SELECT hash FROM audit_entries WHERE seq = ?", (low,)).fetchone()
    if row is None:
        refuse(f"entry {low} is missing (the log was emptied, truncated or replaced)")
    for wanted, _ in expected.pop(low):
        if wanted != row[0]:
            refuse(f"entry {low} has another hash (the log was rewritten)")
    if high == low:
        return
    outcome = check_chain(
        conn.execute(SELECT_BETWEEN, (low, high)),
        start_seq=low + 1,
        start_prev_hash=row[0],
        expected_hashes=expected,
    )
    if outcome.failure is not None:
        refuse(f"entry {outcome.failure.seq}: {outcome.failure.reason}")
    if outcome.last_seq != high:
        refuse(f"the log ends at seq {outcome.last_seq or low}, before entry {high}")


def _read_all(path: Path) -> dict[str, SignedHead]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"{path}: cannot read the signed heads: {error}") from error
    try:
        raw = json.loads(text)
        heads = {
            str(db): SignedHead(int(item["seq"]), str(item["hash"]))
            for db, item in raw["heads"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # Never treated as "no anchor": a damaged file must not turn the check off.
        raise StoreError(f"{path}: the signed heads file is damaged ({error})") from error
    for db, head in heads.items():
        if head.seq < 1 or not HEX64.match(head.hash):
            raise StoreError(f"{path}: the signed head of {db} is malformed")
    return heads


def _write_all(path: Path, heads: dict[str, SignedHead]) -> None:
    body = {"heads": {db: {"seq": h.seq, "hash": h.hash} for db, h in sorted(heads.items())}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # atomic: a reader sees the old file or the new one
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def warn(message: str) -> None:
    """One line on stderr (the store has no logger of its own)."""
    print(f"desk: warning: {message}", file=sys.stderr)
