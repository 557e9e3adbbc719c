"""Verify the audit chain of a database or of an export, and say where it breaks.

Detects, naming the seq: a modified entry (hash mismatch), a missing entry (seq gap), an
inserted or reordered entry (prev_hash mismatch), a tail truncated after a checkpoint, a
bad checkpoint signature, and a signature that is valid but not by the trusted key.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.audit_chain import HEX64, ChainOutcome, Failure, Row, RowError, check_chain
from store.audit_export import CSV_COLUMNS, FORMAT, open_audit_db
from store.canonical import GENESIS_HASH, canonical_dumps, checkpoint_json
from store.errors import StoreError
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
    """Verify a whole database log: chain, checkpoints (signature and hash) and tail."""
    anchor_pair = parse_anchor(anchor) if isinstance(anchor, str) else anchor
    conn = open_audit_db(db_path)
    try:
        conn.execute("BEGIN")  # one snapshot for checkpoints and entries
        checkpoints = conn.execute(
            "SELECT seq, hash, ts, signature FROM audit_checkpoints ORDER BY seq"
        ).fetchall()
        notes: list[str] = []
        failures: list[Failure] = []
        trusted, other = _db_keys(checkpoints, pubkey_b64, key_path, notes)
        expected: dict[int, list[tuple[str, str]]] = {}
        for seq, hash_, ts, signature in checkpoints:
            problem = _signature_problem(trusted, other, seq, hash_, ts, signature)
            if problem:
                failures.append(Failure(seq, problem))
            expected.setdefault(seq, []).append(
                (hash_, f"checkpoint at seq {seq} does not match the entry's hash")
            )
        _add_anchor(expected, anchor_pair)
        outcome = check_chain(conn.execute(SELECT_ALL), start_seq=1, expected_hashes=expected)
        conn.execute("COMMIT")
    finally:
        conn.close()
    if outcome.failure:
        failures.append(outcome.failure)
    else:
        failures.extend(_beyond_end(outcome, checkpoints, anchor_pair))
    if outcome.entries == 0 and not failures:
        notes.append("the audit log is empty")
    return _result(outcome, len(checkpoints), failures, notes)


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
    anchor_pair = parse_anchor(anchor) if isinstance(anchor, str) else anchor
    file = Path(path)
    if not file.is_file():
        raise StoreError(f"{file}: no such export file")
    with open(file, encoding="utf-8", newline="") as handle:
        first_line = handle.readline()
        if first_line.startswith("{"):
            return _verify_jsonl(file, first_line, handle, pubkey_b64, anchor_pair)
        if first_line.rstrip("\r\n").split(",") == list(CSV_COLUMNS):
            return _verify_csv(file, handle, anchor_pair)
    raise StoreError(f"{file}: line 1: not a desk audit export (JSONL header or CSV header)")


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
    trusted: Any, other: Any, seq: int, hash_: str, ts: str, signature: Any
) -> str | None:
    try:
        raw = base64.b64decode(signature, validate=True)
        message = checkpoint_json(seq, hash_, ts)
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


# --- exports ----------------------------------------------------------------------------


class _JsonlRows:
    """Entry rows of a JSONL export; keeps the checkpoint line when it reaches it."""

    def __init__(self, lines: Any, first_line_no: int) -> None:
        self.lines = lines
        self.line_no = first_line_no
        self.trailer: dict[str, Any] | None = None
        self.last_seq = 0

    def __iter__(self) -> Iterator[Row]:
        for line in self.lines:
            self.line_no += 1
            if not line.strip():
                continue
            if self.trailer is not None:
                raise RowError(self.last_seq + 1, f"line {self.line_no}: data after the checkpoint")
            try:
                obj = json.loads(line)
            except ValueError as error:
                raise RowError(self.last_seq + 1, f"line {self.line_no}: not JSON") from error
            if not isinstance(obj, dict):
                raise RowError(self.last_seq + 1, f"line {self.line_no}: not a JSON object")
            if "checkpoint" in obj:
                self.trailer = obj
                continue
            try:
                seq = obj["seq"]
                payload = obj["payload"]
                if type(seq) is not int or not isinstance(payload, dict):
                    raise TypeError
                row = (
                    seq,
                    obj["ts"],
                    obj["kind"],
                    obj["actor"],
                    canonical_dumps(payload),
                    obj["prev_hash"],
                    obj["hash"],
                )
            except (KeyError, TypeError) as error:
                raise RowError(
                    self.last_seq + 1, f"line {self.line_no}: not an audit entry"
                ) from error
            self.last_seq = seq
            yield row


def _verify_jsonl(
    file: Path,
    first_line: str,
    handle: Any,
    pubkey_b64: str | None,
    anchor: tuple[int, str] | None,
) -> VerifyResult:
    header = _header(file, first_line)
    first_seq, last_seq = header["first_seq"], header["last_seq"]
    notes: list[str] = []
    if first_seq > 1:
        notes.append(f"the range starts at seq {first_seq}: its first prev_hash is taken as given")
    expected: dict[int, list[tuple[str, str]]] = {}
    _add_anchor(expected, anchor if anchor and anchor[0] >= first_seq else None)
    rows = _JsonlRows(handle, 1)
    outcome = check_chain(rows, start_seq=first_seq, expected_hashes=expected)
    failures = [outcome.failure] if outcome.failure else []
    if not failures:
        # The rest of the file after a failure is not read; here the whole file was.
        failures.extend(_export_end(outcome, rows.trailer, last_seq, header, pubkey_b64, notes))
        if anchor is not None:
            failures.extend(_export_anchor(outcome, anchor, first_seq, last_seq))
    result = _result(outcome, 1 if rows.trailer is not None else 0, failures, notes)
    if outcome.first_prev_hash and first_seq > 1:
        result.notes.append(f"starting anchor: seq {first_seq - 1}:{outcome.first_prev_hash}")
    return result


def _header(file: Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError as error:
        raise StoreError(f"{file}: line 1: the header is not JSON") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StoreError(f"{file}: line 1: not a {FORMAT} export header")
    for key in ("first_seq", "last_seq"):
        if type(header.get(key)) is not int or header[key] < 1:
            raise StoreError(f"{file}: line 1: header key {key!r} must be a positive integer")
    if not isinstance(header.get("public_key"), str):
        raise StoreError(f"{file}: line 1: header key 'public_key' is missing")
    return header


def _export_end(
    outcome: ChainOutcome,
    trailer: dict[str, Any] | None,
    last_seq: int,
    header: dict[str, Any],
    pubkey_b64: str | None,
    notes: list[str],
) -> list[Failure]:
    end = outcome.last_seq if outcome.last_seq is not None else header["first_seq"] - 1
    if end < last_seq:
        return [Failure(end + 1, f"truncated: the header says the export ends at seq {last_seq}")]
    if end > last_seq:
        return [Failure(last_seq + 1, f"entries past the header's last_seq {last_seq}")]
    if trailer is None:
        return [Failure(end + 1, "no checkpoint line: the export was truncated")]
    checkpoint, signature = trailer.get("checkpoint"), trailer.get("signature")
    if (
        not isinstance(checkpoint, dict)
        or set(checkpoint) != {"seq", "hash", "ts"}
        or not isinstance(signature, str)
    ):
        return [Failure(end, "the checkpoint line is malformed")]
    if checkpoint["seq"] != end or checkpoint["hash"] != outcome.last_hash:
        return [Failure(end, "the checkpoint does not sign the last entry")]
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return [Failure(end, "the checkpoint signature is not base64")]
    message = canonical_dumps(checkpoint)
    file_key = _key_or_none(header["public_key"])
    if pubkey_b64:
        if signature_valid(public_key_from_b64(pubkey_b64), message, raw):
            if header["public_key"].strip() != pubkey_b64.strip():
                notes.append("the export's header names a different key than --pubkey")
            return []
        if file_key is not None and signature_valid(file_key, message, raw):
            reason = "signed by an untrusted key: the export's own key, not the --pubkey key"
            return [Failure(end, reason)]
        return [Failure(end, "bad checkpoint signature")]
    if file_key is None or not signature_valid(file_key, message, raw):
        return [Failure(end, "bad checkpoint signature")]
    notes.append(UNTRUSTED_FILE_KEY_NOTE)
    return []


def _key_or_none(text: str) -> Any:
    try:
        return public_key_from_b64(text)
    except StoreError:
        return None


def _export_anchor(
    outcome: ChainOutcome, anchor: tuple[int, str], first_seq: int, last_seq: int
) -> list[Failure]:
    seq, hash_ = anchor
    if seq == first_seq - 1:
        if outcome.first_prev_hash != hash_:
            return [Failure(first_seq, f"the range does not continue from anchor entry {seq}")]
        return []
    if not first_seq - 1 <= seq <= last_seq:
        return [Failure(seq, f"anchor entry {seq} is not in the export")]
    return []  # checked inside the chain walk


def _verify_csv(file: Path, handle: Any, anchor: tuple[int, str] | None) -> VerifyResult:
    def rows() -> Iterator[Row]:
        line_no = 1
        for record in csv.reader(handle):
            line_no += 1
            if len(record) != len(CSV_COLUMNS) or not record[0].isdigit():
                raise RowError(0, f"{file}: line {line_no}: not an audit entry row")
            seq, ts, kind, actor, payload, prev, hash_ = record
            yield int(seq), ts, kind, actor, payload, prev, hash_

    expected: dict[int, list[tuple[str, str]]] = {}
    _add_anchor(expected, anchor)
    outcome = check_chain(rows(), start_seq=None, expected_hashes=expected)
    failures = [outcome.failure] if outcome.failure else []
    notes = ["a CSV export carries no signature: only the chain's own consistency was checked"]
    if outcome.first_seq is not None and outcome.first_seq > 1:
        notes.append(f"starting anchor: seq {outcome.first_seq - 1}:{outcome.first_prev_hash}")
    if outcome.failure is None and anchor is not None and outcome.first_seq is not None:
        failures.extend(_export_anchor(outcome, anchor, outcome.first_seq, outcome.last_seq or 0))
    return _result(outcome, 0, failures, notes)
