"""The audit log as a compliance report reads it: streamed entries of a time range, the
log's verification, the checkpoint covering the range and the signing key's fingerprint.
Read-only: nothing is created or written."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from store.audit_export import open_audit_db
from store.audit_verify import verify_db
from store.compliance_rows import checkpoint_covering, entries_between
from store.signing import AuditSigner


@dataclass(frozen=True)
class Verification:
    ok: bool
    summary: str  # "N entries valid, M checkpoints valid" or "FAILED at seq N: reason"
    failure_seq: int | None
    checkpoint: tuple[int, str, str] | None  # (seq, hash, ts) covering the range's end
    key_fingerprint: str  # SHA-256 of the raw Ed25519 public key, hex


def stream_entries(db: str | os.PathLike[str], ts_from: str, ts_to: str
                   ) -> Iterator[tuple[int, str, str, str, str, str]]:
    conn = open_audit_db(db)
    try:
        conn.execute("BEGIN")  # one snapshot while the engine may keep appending
        yield from entries_between(conn, ts_from, ts_to)
    finally:
        conn.close()


def verify(db: str | os.PathLike[str], key_path: str | os.PathLike[str],
           last_seq: int | None) -> Verification:
    result = verify_db(db, key_path=key_path)
    checkpoint = None
    if last_seq is not None:
        conn = open_audit_db(db)
        try:
            checkpoint = checkpoint_covering(conn, last_seq)
        finally:
            conn.close()
    signer = AuditSigner(Path(key_path))
    fingerprint = (hashlib.sha256(signer.public_key_raw()).hexdigest() if signer.exists()
                   else "no audit key")
    failure = result.failure.seq if result.failure is not None else None
    return Verification(result.ok, result.summary(), failure, checkpoint, fingerprint)
