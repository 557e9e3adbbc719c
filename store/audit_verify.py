"""Verify the audit chain of a database or of an export, and say where it breaks.

Detects, naming the seq: a modified entry (hash mismatch), a missing entry (seq gap), an
inserted or reordered entry (prev_hash mismatch), a tail truncated after a checkpoint, a
bad checkpoint signature, and a signature that is valid but not by the trusted key.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.audit_chain import HEX64, ChainOutcome, Failure, check_chain
from store.audit_export import open_audit_db
from store.canonical import GENESIS_HASH, checkpoint_json
from store.errors import StoreError
from store.key_anchor import KeyAnchor, SignedHead
from store.paths import default_audit_key_path
from store.signing import AuditSigner, public_key_from_b64, signature_valid

SELECT_ALL = "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries ORDER BY seq"
SELECT_AFTER = (
    "SELECT seq, ts, kind, actor, payload, prev_hash, hash FROM audit_entries "
    "WHERE seq > ? ORDER BY seq"
)
UNTRUSTED_FILE_KEY_NOTE = (
    "the signature was checked with the public key written in the export itself, which "
    "proves nothing about who wrote it: pass --pubkey with a key you trust"
)


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    checkpoints: int
    failure: Failure | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """`N entries valid, M checkpoints valid` or `FAILED at seq N: reason`."""
        if self.failure is not None:
            return f"FAILED at seq {self.failure.seq}: {self.failure.reason}"
        return f"{self.entries} entries valid, {self.checkpoints} checkpoints valid"


def parse_anchor(text: str) -> tuple[int, str]:
    """`SEQ:HASH` -> (seq, hash); StoreError naming what is wrong."""
    seq_text, sep, hash_ = text.strip().partition(":")
    hash_ = hash_.strip().lower()
    if not sep or not seq_text.strip().isdigit() or not HEX64.match(hash_):
        raise StoreError(f"--anchor {text!r}: expected SEQ:HASH (a seq and 64 hex digits)")
    return int(seq_text), hash_


def verify_db(
    db_path: str | os.PathLike[str],
    *,
    pubkey_b64: str | None = None,
    anchor: str | tuple[int, str] | None = None,
    key_path: str | os.PathLike[str] | None = None,
) -> VerifyResult:
    """Verify a whole database log: chain, checkpoints (signature, hash, cadence), tail, and
    the key holder's last signed head when the key's heads file is at hand.

    With `pubkey_b64` (a key the caller trusts) an empty log, or one without a single valid
    checkpoint, fails: nothing signed, nothing proven. Read-only: writes nothing anywhere.
    """
    anchor_pair = parse_anchor(anchor) if isinstance(anchor, str) else anchor
    conn = open_audit_db(db_path)
    try:
        return _verify_db(conn, db_path, pubkey_b64, anchor_pair, key_path)
    except sqlite3.Error as error:
        # A damaged schema (a dropped table or column) or an unreadable page.
        raise StoreError(f"{db_path}: cannot read the audit log: {error}") from error
    finally:
        conn.close()


def _verify_db(
    conn: sqlite3.Connection,
    db_path: str | os.PathLike[str],
    pubkey_b64: str | None,
    anchor_pair: tuple[int, str] | None,
    key_path: str | os.PathLike[str] | None,
) -> VerifyResult:
    conn.execute("BEGIN")  # one snapshot for checkpoints and entries
    checkpoints = read_checkpoints(conn, db_path)
    notes: list[str] = []
    failures: list[Failure] = []
    trusted, other = _db_keys(checkpoints, pubkey_b64, key_path, notes)
    expected: dict[int, list[tuple[str, str]]] = {}
    for seq, hash_, ts, signature, every in checkpoints:
        problem = _signature_problem(trusted, other, seq, hash_, ts, signature, every)
        if problem:
            failures.append(Failure(seq, problem))
        expected.setdefault(seq, []).append(
            (hash_, f"checkpoint at seq {seq} does not match the entry's hash")
        )
    _add_anchor(expected, anchor_pair)
    held = _held_head(db_path, key_path, notes)
    if held is not None:
        expected.setdefault(held.seq, []).append(
            (held.hash, f"entry {held.seq} is not the one the key holder signed (rewritten)")
        )
    outcome = check_chain(conn.execute(SELECT_ALL), start_seq=1, expected_hashes=expected)
    conn.execute("COMMIT")
    if outcome.failure:
        failures.append(outcome.failure)
    else:
        failures.extend(_beyond_end(outcome, checkpoints, anchor_pair))
        if held is not None and held.seq > (outcome.last_seq or 0):
            reason = (
                f"the key holder signed entry {held.seq} but the log ends at seq "
                f"{outcome.last_seq or 0} (emptied or truncated)"
            )
            failures.append(Failure(held.seq, reason))
        failures.extend(cadence_failures(checkpoints, outcome.last_seq or 0))
    if not failures and pubkey_b64:
        failures.extend(_nothing_signed(outcome, checkpoints))
    if outcome.entries == 0 and not failures:
        notes.append("the audit log is empty")
    elif not checkpoints and not failures:
        notes.append("no checkpoint: nothing is signed, the entries are protected by hashes alone")
    return _result(outcome, len(checkpoints), failures, notes)


def read_checkpoints(conn: sqlite3.Connection, label: object) -> list[tuple[Any, ...]]:
    """(seq, hash, ts, signature, every) in seq order; every is None in a database not yet
    migrated to record it (a read-only verifier never migrates)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(audit_checkpoints)")}
    if not columns:
        raise StoreError(
            f"{label}: cannot read the audit log: the audit_checkpoints table is missing"
        )
    every = "every" if "every" in columns else "NULL"
    return conn.execute(
        f"SELECT seq, hash, ts, signature, {every} FROM audit_checkpoints ORDER BY seq"
    ).fetchall()


def cadence_failures(checkpoints: list[tuple[Any, ...]], last_seq: int) -> list[Failure]:
    """A checkpoint must exist at each multiple of the cadence in force. The cadence is what
    the last checkpoint before the multiple recorded (signed); it applies after that
    checkpoint's seq. Before the first recorded cadence nothing is required."""
    cadence: int | None = None
    since = 0
    if checkpoints and checkpoints[0][4] is not None and checkpoints[0][0] != 1:
        # Desk signs the first entry of every log it creates, recording its cadence: the
        # cadence then holds from seq 1 and deleting early checkpoints cannot hide it.
        return [Failure(1, "no checkpoint at seq 1, where the log records its cadence "
                           "(checkpoints were deleted)")]
    for seq, _hash, _ts, _signature, every in checkpoints:
        if cadence is not None:
            due = (since // cadence + 1) * cadence
            if due < seq:
                return [_no_checkpoint(due, cadence)]
        if isinstance(every, int) and every >= 1:
            cadence, since = every, seq
        elif cadence is not None:
            since = seq
    if cadence is not None:
        due = (since // cadence + 1) * cadence
        if due <= last_seq:
            return [_no_checkpoint(due, cadence)]
    return []


def _no_checkpoint(seq: int, cadence: int) -> Failure:
    return Failure(
        seq,
        f"no checkpoint at seq {seq}, a multiple of the recorded cadence {cadence} "
        "(checkpoints were deleted)",
    )


def _nothing_signed(outcome: ChainOutcome, checkpoints: list[tuple[Any, ...]]) -> list[Failure]:
    if outcome.entries == 0:
        return [Failure(0, "the audit log is empty: nothing signed: nothing is proven")]
    if not checkpoints:
        return [
            Failure(
                outcome.first_seq or 1,
                f"no signed checkpoint in {outcome.entries} entries: nothing signed: "
                "nothing is proven",
            )
        ]
    return []


def _held_head(
    db_path: str | os.PathLike[str], key_path: str | os.PathLike[str] | None, notes: list[str]
) -> SignedHead | None:
    """The key holder's last signed head of this database, if its heads file is here."""
    key = Path(key_path) if key_path else default_audit_key_path()
    held = KeyAnchor(key, db_path).read()
    if held is not None:
        notes.append(f"checked against the key holder's last signed head, seq {held.seq}")
    return held


def verify_range(conn: sqlite3.Connection, after_seq: int = 0) -> VerifyResult:
    """Re-hash the entries after `after_seq` on an open connection, continuing from the hash
    stored at `after_seq` (verified earlier): the live engine's incremental check.
    `last_seq` is the last verified seq (`after_seq` when nothing new was written)."""
    start_prev = GENESIS_HASH
    if after_seq > 0:
        row = conn.execute("SELECT hash FROM audit_entries WHERE seq = ?", (after_seq,)).fetchone()
        if row is None:
            failure = Failure(after_seq, f"entry {after_seq}, verified before, is missing")
            return VerifyResult(False, 0, 0, failure, None, after_seq)
        start_prev = row[0]
    rows = conn.execute(SELECT_AFTER, (after_seq,))
    outcome = check_chain(rows, start_seq=after_seq + 1, start_prev_hash=start_prev)
    result = _result(outcome, 0, [outcome.failure] if outcome.failure else [], [])
    if result.last_seq is None:
        result.last_seq = after_seq
    return result


def verify_export(
    path: str | os.PathLike[str],
    *,
    pubkey_b64: str | None = None,
    anchor: str | tuple[int, str] | None = None,
) -> VerifyResult:
    """Verify a JSONL export (chain and signed checkpoint) or a CSV export (chain only)."""
    from store.audit_verify_export import verify_export_file

    anchor_pair = parse_anchor(anchor) if isinstance(anchor, str) else anchor
    return verify_export_file(Path(path), pubkey_b64, anchor_pair)


# --- database keys and signatures -------------------------------------------------------


def _db_keys(
    checkpoints: list[tuple[Any, ...]],
    pubkey_b64: str | None,
    key_path: str | os.PathLike[str] | None,
    notes: list[str],
) -> tuple[Any, Any]:
    """(trusted public key, the local key file's public key if different)."""
    signer = AuditSigner(key_path)
    local = None
    if signer.exists():
        local = public_key_from_b64(signer.public_key_b64())
    if pubkey_b64:
        trusted = public_key_from_b64(pubkey_b64)
        return trusted, local
    if local is None and checkpoints:
        raise StoreError(
            f"no public key to check the checkpoint signatures: the audit key "
            f"{signer.key_path} does not exist; pass --pubkey"
        )
    notes.append(f"signatures checked with the public key of {signer.key_path}")
    return local, None


def _signature_problem(
    trusted: Any, other: Any, seq: int, hash_: str, ts: str, signature: Any, every: Any
) -> str | None:
    try:
        raw = base64.b64decode(signature, validate=True)
        if every is not None and (type(every) is not int or every < 1):
            raise ValueError(every)
        message = checkpoint_json(seq, hash_, ts, every)
    except (binascii.Error, ValueError, TypeError):
        return f"checkpoint at seq {seq}: malformed signature"
    if trusted is not None and signature_valid(trusted, message, raw):
        return None
    if other is not None and signature_valid(other, message, raw):
        return f"checkpoint at seq {seq} is signed by an untrusted key (not the --pubkey key)"
    return f"checkpoint at seq {seq}: bad signature"


def _add_anchor(expected: dict[int, list[tuple[str, str]]], anchor: tuple[int, str] | None) -> None:
    if anchor is not None:
        seq, hash_ = anchor
        expected.setdefault(seq, []).append((hash_, f"entry {seq} does not match the anchor"))


def _beyond_end(
    outcome: ChainOutcome, checkpoints: list[tuple[Any, ...]], anchor: tuple[int, str] | None
) -> list[Failure]:
    """Checkpoints (or the anchor) naming entries past the end: the tail was cut off."""
    last = outcome.last_seq or 0
    failures = []
    beyond = [seq for seq, *_ in checkpoints if seq > last]
    if beyond:
        failures.append(
            Failure(
                last + 1,
                f"tail truncated: a checkpoint signs entry {max(beyond)} but the log ends "
                f"at seq {last}",
            )
        )
    if anchor is not None and anchor[0] > last:
        failures.append(Failure(anchor[0], f"anchor entry {anchor[0]} is not in the log"))
    return failures


def _result(
    outcome: ChainOutcome, checkpoints: int, failures: list[Failure], notes: list[str]
) -> VerifyResult:
    failure = min(failures, key=lambda f: f.seq) if failures else None
    return VerifyResult(
        ok=failure is None,
        entries=outcome.entries,
        checkpoints=checkpoints,
        failure=failure,
        first_seq=outcome.first_seq,
        last_seq=outcome.last_seq,
        notes=notes,
    )
