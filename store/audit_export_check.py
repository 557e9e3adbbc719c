"""What an export checks before it signs: the range is a valid chain, its checkpoints carry
this key's signatures, and it is linked to the key holder's last signed head.

An export's signature vouches for the range it covers, so a broken or rewritten chain is
refused here, before anything is signed or written.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3

from store.audit_chain import check_chain
from store.canonical import checkpoint_json
from store.errors import ForgedChainError, StoreError
from store.key_anchor import KeyAnchor
from store.signing import AuditSigner, public_key_from_b64, signature_valid

SELECT_WALK = (
    "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
    "WHERE seq BETWEEN ? AND ? ORDER BY seq"
)
SELECT_CHECKPOINTS = (
    "SELECT seq, hash, ts, signature, every FROM audit_checkpoints "
    "WHERE seq BETWEEN ? AND ? ORDER BY seq"
)
HELD = "it is not the entry the key holder signed (the log was rewritten)"


def check_export_range(
    conn: sqlite3.Connection,
    db_path: str | os.PathLike[str],
    first: int,
    last: int,
    signer: AuditSigner,
    anchor: KeyAnchor,
) -> int | None:
    """StoreError unless entries first..last (and the way to the key holder's last signed
    head) form a valid chain with validly signed checkpoints; ForgedChainError if the
    signed head is gone or rewritten. Returns the cadence the last verified checkpoint at or
    before `last` recorded (None if none did)."""
    held = anchor.read()
    start = min(first, held.seq) if held is not None else first
    end = max(last, held.seq) if held is not None else last
    expected: dict[int, list[tuple[str, str]]] = {}
    if held is not None:
        expected[held.seq] = [(held.hash, HELD)]
    cadence: int | None = None
    public = public_key_from_b64(signer.public_key_b64()) if signer.exists() else None
    for seq, hash_, ts, signature, every in conn.execute(SELECT_CHECKPOINTS, (start, end)):
        if not _signed_by(public, seq, hash_, ts, signature, every):
            _broken(db_path, seq, f"checkpoint at seq {seq} is not validly signed by this key")
        expected.setdefault(seq, []).append(
            (hash_, f"checkpoint at seq {seq} does not match the entry's hash")
        )
        if seq <= last and every is not None:
            cadence = every
    outcome = check_chain(
        conn.execute(SELECT_WALK, (start, end)), start_seq=start, expected_hashes=expected
    )
    failure = outcome.failure
    if failure is None and outcome.last_seq != end:
        missing = (outcome.last_seq or start - 1) + 1
        if held is not None and end == held.seq:
            _forged(db_path, held.seq, held.hash, f"entry {missing} is missing")
        _broken(db_path, missing, f"entry {missing} is missing")
    if failure is not None:
        if held is not None and (failure.seq <= held.seq or failure.reason == HELD):
            _forged(db_path, held.seq, held.hash, f"entry {failure.seq}: {failure.reason}")
        _broken(db_path, failure.seq, failure.reason)
    return cadence


def _signed_by(
    public: object, seq: int, hash_: str, ts: str, signature: object, every: object
) -> bool:
    if public is None:
        return False
    try:
        raw = base64.b64decode(str(signature), validate=True)
        if every is not None and (type(every) is not int or every < 1):
            return False
        return signature_valid(public, checkpoint_json(seq, hash_, ts, every), raw)
    except (binascii.Error, ValueError, TypeError):
        return False


def _broken(db_path: object, seq: int, reason: str) -> None:
    raise StoreError(
        f"{db_path}: refusing to export a broken audit chain: seq {seq}: {reason} "
        "(run `desk audit verify`)"
    )


def _forged(db_path: object, seq: int, hash_: str, reason: str) -> None:
    raise ForgedChainError(
        f"{db_path}: refusing to sign an export: the key holder last signed entry {seq} "
        f"({hash_[:16]}...), but {reason}",
        seq=seq,
        hash_=hash_,
        reason=reason,
    )
