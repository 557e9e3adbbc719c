"""Verify an export file: JSONL (chain and signed checkpoint) or CSV (chain only).

Read strictly, because a signature covers only what the verifier reads: an entry line holds
exactly the seven entry fields and no key twice at any depth (a reader that keeps the first
of two duplicate keys would see other values than ours), the header and the checkpoint line
exactly theirs. Bytes are decoded line by line, so bad UTF-8 or absurd nesting is a failure
naming the line, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from store.audit_chain import ChainOutcome, Failure, Row, RowError, check_chain
from store.audit_export import CSV_COLUMNS, FORMAT
from store.audit_verify import UNTRUSTED_FILE_KEY_NOTE, VerifyResult, _add_anchor, _result
from store.canonical import canonical_dumps
from store.errors import StoreError
from store.signing import public_key_from_b64, signature_valid

ENTRY_FIELDS = frozenset(("seq", "ts", "kind", "actor", "payload", "prev_hash", "hash"))
HEADER_FIELDS = frozenset(("format", "public_key", "first_seq", "last_seq"))
FIRST_LINE_LIMIT = 1 << 20  # a header is ~150 bytes; do not read a huge first line whole


def verify_export_file(
    file: Path, pubkey_b64: str | None, anchor: tuple[int, str] | None
) -> VerifyResult:
    if not file.is_file():
        raise StoreError(f"{file}: no such export file")
    try:
        with open(file, "rb") as handle:
            raw = handle.readline(FIRST_LINE_LIMIT)
            try:
                first_line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise StoreError(f"{file}: line 1: not UTF-8 text ({error.reason})") from None
            if first_line.startswith("{"):
                return _verify_jsonl(file, first_line, handle, pubkey_b64, anchor)
            if first_line.rstrip("\r\n").split(",") == list(CSV_COLUMNS):
                return _verify_csv(file, handle, anchor)
    except OSError as error:
        raise StoreError(f"{file}: cannot read: {error.strerror or error}") from error
    raise StoreError(f"{file}: line 1: not a desk audit export (JSONL header or CSV header)")


class DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(f"duplicate key {key!r}")
            seen.add(key)
    return obj


def strict_loads(text: str) -> Any:
    """json.loads that refuses a key given twice in any object, at any depth."""
    return json.loads(text, object_pairs_hook=_no_duplicates)


def _short(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def _decoded(handle: Iterable[bytes], line_no: int) -> Iterator[str]:
    for raw in handle:
        line_no += 1
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RowError(0, f"line {line_no}: not UTF-8 text ({error.reason})") from None


class _JsonlRows:
    """Entry rows of a JSONL export; keeps the checkpoint line when it reaches it."""

    def __init__(self, lines: Iterable[bytes], first_line_no: int) -> None:
        self.lines = lines
        self.line_no = first_line_no
        self.trailer: dict[str, Any] | None = None
        self.last_seq = 0

    def _fail(self, reason: str) -> RowError:
        return RowError(self.last_seq + 1, f"line {self.line_no}: {reason}")

    def __iter__(self) -> Iterator[Row]:
        for raw in self.lines:
            self.line_no += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise self._fail(f"not UTF-8 text ({error.reason})") from None
            if not line.strip():
                continue
            if self.trailer is not None:
                raise self._fail("data after the checkpoint")
            try:
                obj = strict_loads(line)
            except DuplicateKeyError as error:
                raise self._fail(str(error)) from None
            except (ValueError, RecursionError) as error:
                raise self._fail(f"not JSON ({_short(error)})") from None
            if not isinstance(obj, dict):
                raise self._fail("not a JSON object")
            if "checkpoint" in obj:
                self.trailer = obj
                continue
            if set(obj) != ENTRY_FIELDS:
                extra = sorted(set(obj) - ENTRY_FIELDS)
                missing = sorted(ENTRY_FIELDS - set(obj))
                what = f"unknown field {extra[0]!r}" if extra else f"missing field {missing[0]!r}"
                raise self._fail(f"not an audit entry ({what})")
            seq, payload = obj["seq"], obj["payload"]
            if type(seq) is not int or not isinstance(payload, dict):
                raise self._fail("not an audit entry (seq or payload of the wrong type)")
            try:
                payload_json = canonical_dumps(payload)
            except (ValueError, RecursionError) as error:
                raise self._fail(f"payload cannot be re-encoded ({_short(error)})") from None
            self.last_seq = seq
            yield (
                seq, obj["ts"], obj["kind"], obj["actor"], payload_json, obj["prev_hash"],
                obj["hash"],
            )  # fmt: skip


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
        header = strict_loads(line)
    except (ValueError, RecursionError) as error:
        raise StoreError(f"{file}: line 1: the header is not JSON ({_short(error)})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StoreError(f"{file}: line 1: not a {FORMAT} export header")
    unknown = set(header) - HEADER_FIELDS
    if unknown:
        raise StoreError(f"{file}: line 1: unknown header field {sorted(unknown)[0]!r}")
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
        set(trailer) != {"checkpoint", "signature"}
        or not isinstance(checkpoint, dict)
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
        for record in csv.reader(_decoded(handle, 1)):
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
