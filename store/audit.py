"""The hash-chained audit log: append entries, read the tail, write signed checkpoints.

Every entry's hash covers its content and the previous entry's hash (see store.canonical
for the exact bytes). A checkpoint signs (seq, hash, ts) of the chain's head, so a verifier
holding the public key can tell a truncated tail from a short log. Checkpoints are written
every `checkpoint_every` entries in the same transaction as the entry that reaches the
multiple, at clean shutdown and at every export.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.canonical import (
    GENESIS_HASH,
    canonical_dumps,
    checkpoint_json,
    entry_hash,
    normalize_payload,
    utc_iso,
    utc_now_iso,
)
from store.errors import StoreError
from store.signing import AuditSigner

if TYPE_CHECKING:
    from store.db import Store

ACTORS = frozenset({"engine", "user", "system"})
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")

INSERT_ENTRY = (
    "INSERT INTO audit_entries (seq, ts, kind, actor, payload, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# OR IGNORE: an export may already have signed this head; one checkpoint per seq is enough.
INSERT_CHECKPOINT = (
    "INSERT OR IGNORE INTO audit_checkpoints (seq, hash, ts, signature) VALUES (?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: str
    kind: str
    actor: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    ts: str
    signature: str  # base64 Ed25519 signature of checkpoint_json(seq, hash, ts)


def validate_kind_actor(kind: str, actor: str) -> None:
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise ValueError(f"audit kind {kind!r} must be dotted lowercase, e.g. 'order.filled'")
    if actor not in ACTORS:
        raise ValueError(f"audit actor {actor!r} must be one of {', '.join(sorted(ACTORS))}")


def sign_checkpoint(signer: AuditSigner, seq: int, hash_: str, ts: str | None = None) -> Checkpoint:
    ts = ts or utc_now_iso()
    signature = signer.sign(checkpoint_json(seq, hash_, ts))
    return Checkpoint(seq, hash_, ts, base64.b64encode(signature).decode("ascii"))


def store_checkpoint(conn: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    conn.execute(
        INSERT_CHECKPOINT,
        (checkpoint.seq, checkpoint.hash, checkpoint.ts, checkpoint.signature),
    )


class AuditLog:
    """The audit chain of one store. Reached as `store.audit`; appends join the store's
    current unit of work (or open one)."""

    def __init__(self, store: Store, signer: AuditSigner, checkpoint_every: int) -> None:
        if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(
                f"checkpoint_every must be a positive integer, got {checkpoint_every!r}"
            )
        self._store = store
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self._valid: set[tuple[str, str]] = set()
        conn = store.conn
        row = conn.execute(
            "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        # The chain head is read once: appends then cost one INSERT, no query.
        self._seq, self._hash = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
        row = conn.execute("SELECT MAX(seq) FROM audit_checkpoints").fetchone()
        self._checkpoint_seq = int(row[0] or 0)

    @property
    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry; (0, 64 zeros) for an empty log."""
        return self._seq, self._hash

    def append(
        self,
        kind: str,
        actor: str,
        payload: Mapping[str, Any],
        ts: datetime | None = None,
    ) -> AuditEntry:
        if (kind, actor) not in self._valid:
            validate_kind_actor(kind, actor)
            if len(self._valid) < 10_000:  # a handful of kinds in practice; stay bounded
                self._valid.add((kind, actor))
        clean = normalize_payload(payload)
        payload_json = canonical_dumps(clean)
        ts_text = utc_iso(ts) if ts is not None else utc_now_iso()
        with self._store.unit_of_work() as conn:
            seq = self._seq + 1
            prev_hash = self._hash
            hash_ = entry_hash(seq, ts_text, kind, actor, payload_json, prev_hash)
            try:
                conn.execute(
                    INSERT_ENTRY, (seq, ts_text, kind, actor, payload_json, prev_hash, hash_)
                )
            except sqlite3.IntegrityError as error:
                raise StoreError(
                    f"{self._store.path}: audit entry {seq} already exists: another process "
                    "is appending to this audit log"
                ) from error
            self._seq, self._hash = seq, hash_
            if seq % self.checkpoint_every == 0:
                self._checkpoint(conn)
        return AuditEntry(seq, ts_text, kind, actor, clean, prev_hash, hash_)

    def tail(self, n: int) -> list[AuditEntry]:
        """The last `n` entries, oldest first (newest last)."""
        if n <= 0:
            return []
        # The writer connection (under its lock) so the tail includes this thread's
        # uncommitted entries; a read needs no write transaction.
        with self._store.lock:
            rows = self._store.conn.execute(
                "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
                "ORDER BY seq DESC LIMIT ?",
                (n,),
            ).fetchall()
        return [
            AuditEntry(seq, ts, kind, actor, json.loads(payload), prev, hash_)
            for seq, ts, kind, actor, payload, prev, hash_ in reversed(rows)
        ]

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now if entries were appended since the last checkpoint."""
        with self._store.unit_of_work() as conn:
            if self._seq <= self._checkpoint_seq:
                return None
            return self._checkpoint(conn)

    def public_key_b64(self) -> str:
        return self.signer.public_key_b64()

    def _checkpoint(self, conn: sqlite3.Connection) -> Checkpoint:
        checkpoint = sign_checkpoint(self.signer, self._seq, self._hash)
        store_checkpoint(conn, checkpoint)
        self._checkpoint_seq = self._seq
        return checkpoint

    # The store saves this before a transaction and puts it back on rollback, so the
    # in-memory head never points at an entry that was not committed.
    def _state(self) -> tuple[int, str, int]:
        return self._seq, self._hash, self._checkpoint_seq

    def _restore(self, state: tuple[int, str, int]) -> None:
        self._seq, self._hash, self._checkpoint_seq = state
