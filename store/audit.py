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
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from store.canonical import (
    GENESIS_HASH,
    canonical_dumps,
    checkpoint_json,
    entry_hash,
    normalize_payload,
    utc_iso,
    utc_now_iso,
)
from store.errors import ForgedChainError, StoreError
from store.key_anchor import KeyAnchor, check_extends, warn
from store.signing import AuditSigner


class StoreHandle(Protocol):
    """What the audit log needs of its store (store.db.Store, which owns the log)."""

    conn: sqlite3.Connection
    lock: threading.RLock
    path: Path

    def unit_of_work(self) -> AbstractContextManager[sqlite3.Connection]: ...

ACTORS = frozenset({"engine", "user", "system"})
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")

INSERT_ENTRY = (
    "INSERT INTO audit_entries (seq, ts, kind, actor, payload, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# OR IGNORE: an export may already have signed this head; one checkpoint per seq is enough.
INSERT_CHECKPOINT = (
    "INSERT OR IGNORE INTO audit_checkpoints (seq, hash, ts, signature, every) "
    "VALUES (?, ?, ?, ?, ?)"
)
# The chain head and the last checkpoint (its seq and the cadence it put in force), in one
# statement over the two primary keys: run at the start of every write transaction.
SELECT_HEAD = (
    "SELECT (SELECT seq FROM audit_entries ORDER BY seq DESC LIMIT 1),"
    " (SELECT hash FROM audit_entries ORDER BY seq DESC LIMIT 1),"
    " (SELECT seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1),"
    " (SELECT every FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)"
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
    signature: str  # base64 Ed25519 signature of checkpoint_json(seq, hash, ts, every)
    every: int | None = None  # the cadence from this checkpoint on (None: not recorded)


def validate_kind_actor(kind: str, actor: str) -> None:
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        raise ValueError(f"audit kind {kind!r} must be dotted lowercase, e.g. 'order.filled'")
    if actor not in ACTORS:
        raise ValueError(f"audit actor {actor!r} must be one of {', '.join(sorted(ACTORS))}")


def sign_checkpoint(
    signer: AuditSigner,
    seq: int,
    hash_: str,
    ts: str | None = None,
    every: int | None = None,
) -> Checkpoint:
    """Sign (seq, hash, ts[, every]). Callers check the key holder's anchor first."""
    ts = ts or utc_now_iso()
    signature = signer.sign(checkpoint_json(seq, hash_, ts, every))
    return Checkpoint(seq, hash_, ts, base64.b64encode(signature).decode("ascii"), every)


def store_checkpoint(conn: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    conn.execute(
        INSERT_CHECKPOINT,
        (checkpoint.seq, checkpoint.hash, checkpoint.ts, checkpoint.signature, checkpoint.every),
    )


class AuditLog:
    """The audit chain of one store. Reached as `store.audit`; appends join the store's
    current unit of work (or open one).

    Several processes may append to one database. The head is re-read at the start of every
    write transaction (`_reload`, called by the store's outer unit of work) under SQLite's
    write lock, so appends interleave into one chain and nobody's append collides.

    Cadence: a checkpoint is signed at every multiple of the cadence in force, which each
    stored checkpoint records (signed). When the database's cadence differs from this
    store's `checkpoint_every`, the next append signs a checkpoint that changes it.

    Before signing, the key holder's last signed head for this database must still be in the
    chain, linked to the new head by valid hashes (store.key_anchor); otherwise
    ForgedChainError, and from then on this log refuses every append and signature.
    """

    def __init__(self, store: StoreHandle, signer: AuditSigner, checkpoint_every: int) -> None:
        if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(
                f"checkpoint_every must be a positive integer, got {checkpoint_every!r}"
            )
        self._store = store
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.anchor = KeyAnchor(signer.key_path, store.path)
        self._valid: set[tuple[str, str]] = set()
        self._seq, self._hash = 0, GENESIS_HASH
        self._checkpoint_seq = 0
        self._cadence: int | None = None  # recorded by the database's last checkpoint
        self._unsigned = False  # this store appended entries no checkpoint has signed yet
        self._anchor_checked = False  # the chain was checked against the anchor once
        self._pending_head: tuple[int, str] | None = None  # signed, to remember on commit
        self._forged: ForgedChainError | None = None
        self._reload(store.conn)

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
            if self._forged is not None:
                raise self._forged  # nothing is journaled over a forged chain
            if not self._anchor_checked:
                self._check_anchor(conn, self._seq, self._hash)
                self._anchor_checked = True
            seq = self._seq + 1
            prev_hash = self._hash
            hash_ = entry_hash(seq, ts_text, kind, actor, payload_json, prev_hash)
            try:
                conn.execute(
                    INSERT_ENTRY, (seq, ts_text, kind, actor, payload_json, prev_hash, hash_)
                )
            except sqlite3.IntegrityError as error:
                # Cannot happen while every writer re-reads the head under the write lock;
                # kept as a clear message should a foreign writer break that rule.
                raise StoreError(
                    f"{self._store.path}: audit entry {seq} already exists: a writer that "
                    "does not read the chain head in its transaction appended to this log"
                ) from error
            self._seq, self._hash = seq, hash_
            self._unsigned = True
            cadence = self._cadence
            if seq == 1 or cadence != self.checkpoint_every or seq % cadence == 0:
                # The first entry (its checkpoint records the log's cadence from the start),
                # a multiple of the cadence in force, or the first entry under a new one.
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

    def since(self, seq: int, limit: int = 10_000) -> list[AuditEntry]:
        """Entries after `seq`, oldest first, at most `limit` of them."""
        with self._store.lock:
            rows = self._store.conn.execute(
                "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [AuditEntry(seq, ts, kind, actor, json.loads(payload), prev, hash_)
                for seq, ts, kind, actor, payload, prev, hash_ in rows]

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now if entries were appended since the last checkpoint."""
        with self._store.unit_of_work() as conn:
            if self._forged is not None:
                raise self._forged
            if self._seq <= self._checkpoint_seq:
                return None
            return self._checkpoint(conn)

    def checkpoint_own(self) -> Checkpoint | None:
        """Sign the head only if this store appended entries no checkpoint covers yet: a
        store that only read (or only touched other tables) signs nothing when it closes."""
        if not self._unsigned:
            return None
        return self.checkpoint()

    def public_key_b64(self) -> str:
        return self.signer.public_key_b64()

    def _checkpoint(self, conn: sqlite3.Connection) -> Checkpoint:
        if self._forged is not None:
            raise self._forged
        self._check_anchor(conn, self._seq, self._hash)
        checkpoint = sign_checkpoint(
            self.signer, self._seq, self._hash, every=self.checkpoint_every
        )
        store_checkpoint(conn, checkpoint)
        self._checkpoint_seq = self._seq
        self._cadence = self.checkpoint_every
        self._unsigned = False
        self._pending_head = (self._seq, self._hash)
        return checkpoint

    def _check_anchor(self, conn: sqlite3.Connection, seq: int, hash_: str) -> None:
        anchor = self.anchor.read()
        if anchor is None:
            return
        try:
            check_extends(
                conn, anchor, seq, hash_, db_label=self._store.path, heads_file=self.anchor.path
            )
        except ForgedChainError as error:
            self._forged = error
            raise

    # --- the store's unit of work calls these --------------------------------------------

    def _reload(self, conn: sqlite3.Connection) -> None:
        """Re-read the head inside the write transaction just begun (one indexed query)."""
        seq, hash_, checkpoint_seq, cadence = conn.execute(SELECT_HEAD).fetchone()
        self._seq, self._hash = (int(seq), str(hash_)) if seq is not None else (0, GENESIS_HASH)
        self._checkpoint_seq = int(checkpoint_seq or 0)
        # A log that never recorded a cadence takes ours without a checkpoint of its own.
        self._cadence = int(cadence) if cadence else self.checkpoint_every

    def _committed(self) -> None:
        """After COMMIT: remember the head this transaction signed, beside the key."""
        pending, self._pending_head = self._pending_head, None
        if pending is None:
            return
        try:
            self.anchor.advance(*pending)
        except (OSError, StoreError) as error:
            # The checkpoint is committed; the next signature checks against the older head.
            warn(f"could not record the signed audit head in {self.anchor.path}: {error}")

    # The store saves this before a transaction and puts it back on rollback, so the
    # in-memory head never points at an entry that was not committed.
    def _state(self) -> tuple[Any, ...]:
        return self._seq, self._hash, self._checkpoint_seq, self._cadence, self._unsigned

    def _restore(self, state: tuple[Any, ...]) -> None:
        self._seq, self._hash, self._checkpoint_seq, self._cadence, self._unsigned = state
        self._pending_head = None
