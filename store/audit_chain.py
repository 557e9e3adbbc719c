"""The chain check shared by database and export verification.

One pass over (seq, ts, kind, actor, payload_json, prev_hash, hash) rows in seq order. It
runs once per entry over millions of entries, so the loop body is plain comparisons,
string concatenation (store.canonical.entry_json, inlined) and one SHA-256.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring

from store.canonical import GENESIS_HASH

HEX64 = re.compile(r"[0-9a-f]{64}\Z")

Row = tuple[int, str, str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Failure:
    seq: int
    reason: str


class RowError(Exception):
    """Raised by a row source (an export parser) for a row it cannot read."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ChainOutcome:
    entries: int  # entries that verified before the first failure (all of them if none)
    first_seq: int | None
    first_prev_hash: str | None
    last_seq: int | None
    last_hash: str | None
    failure: Failure | None


def check_chain(
    rows: Iterable[Row],
    *,
    start_seq: int | None = 1,
    start_prev_hash: str | None = None,
    expected_hashes: Mapping[int, list[tuple[str, str]]] | None = None,
) -> ChainOutcome:
    """Walk the chain; stop at the first broken link.

    start_seq=1: the log must start at seq 1 with prev_hash = 64 zeros (a whole log).
    start_seq=N>1: an exported range; its first prev_hash is taken as given (the anchor).
    start_seq=None: whatever the first row's seq is (a range whose header is not trusted).
    start_prev_hash: the first prev_hash must equal it (continuing a verified prefix).
    expected_hashes: seq -> [(hash, reason if it differs)], e.g. checkpoints and --anchor.
    """
    expect = dict(expected_hashes or {})
    pending = sorted(expect)
    next_index = 0
    next_expect = pending[0] if pending else -1
    rows = iter(rows)
    sha256 = hashlib.sha256
    enc = encode_basestring
    seq = start_seq or 0
    entries = 0
    first_seq = first_prev = last_seq = None
    last: str | None = None
    try:
        first = next(rows, None)
        if first is None:
            return ChainOutcome(0, None, None, None, None, None)
        seq, _ts, _kind, _actor, _payload, prev, _hash = first
        first_seq, first_prev = seq, prev
        if start_seq is not None and seq != start_seq:
            return _out(0, first_seq, first_prev, None, None, _missing(start_seq, seq))
        if start_seq == 1 and prev != GENESIS_HASH:
            reason = "prev_hash of the first entry is not 64 zeros (entries before it removed?)"
            return _out(0, first_seq, first_prev, None, None, Failure(seq, reason))
        if start_prev_hash is not None and prev != start_prev_hash:
            reason = "prev_hash does not match the hash of the verified entry before it"
            return _out(0, first_seq, first_prev, None, None, Failure(seq, reason))
        if not isinstance(prev, str) or not HEX64.match(prev):
            reason = "prev_hash of the first entry is not 64 lowercase hex digits"
            return _out(0, first_seq, first_prev, None, None, Failure(seq, reason))
        expected_seq = seq
        last = prev
        for seq, ts, kind, actor, payload, prev, hash_ in itertools.chain((first,), rows):
            if seq != expected_seq:
                return _out(
                    entries, first_seq, first_prev, last_seq, last, _missing(expected_seq, seq)
                )
            if prev != last:
                reason = (
                    "prev_hash does not match the hash of the entry before it "
                    "(an entry was inserted, removed or reordered here)"
                )
                return _out(entries, first_seq, first_prev, last_seq, last, Failure(seq, reason))
            text = (
                '{"actor":' + enc(actor)
                + ',"kind":' + enc(kind)
                + ',"payload":' + payload
                + ',"prev_hash":"' + prev  # equal to the previous hash: plain hex, no escaping
                + '","seq":' + str(seq)
                + ',"ts":' + enc(ts)
                + "}"
            )  # fmt: skip
            if sha256(text.encode()).hexdigest() != hash_:
                reason = "hash mismatch: the entry was modified"
                return _out(entries, first_seq, first_prev, last_seq, last, Failure(seq, reason))
            if seq == next_expect:
                for wanted, reason in expect[seq]:
                    if wanted != hash_:
                        return _out(
                            entries, first_seq, first_prev, last_seq, last, Failure(seq, reason)
                        )
                next_index += 1
                next_expect = pending[next_index] if next_index < len(pending) else -1
            last = hash_
            last_seq = seq
            expected_seq = seq + 1
            entries += 1
    except RowError as error:
        failure = Failure(error.seq, error.reason)
        return _out(entries, first_seq, first_prev, last_seq, last, failure)
    except (TypeError, ValueError, AttributeError) as error:
        # A tampered row of the wrong shape or type (e.g. kind stored as an integer).
        failure = Failure(seq, f"malformed entry ({error})")
        return _out(entries, first_seq, first_prev, last_seq, last, failure)
    return _out(entries, first_seq, first_prev, last_seq, last, None)


def _missing(expected: int, found: int) -> Failure:
    if found > expected:
        return Failure(expected, f"entry {expected} is missing (the next entry is seq {found})")
    return Failure(found, f"entry out of order: seq {found} where {expected} was expected")


def _out(
    entries: int,
    first_seq: int | None,
    first_prev: str | None,
    last_seq: int | None,
    last_hash: str | None,
    failure: Failure | None,
) -> ChainOutcome:
    return ChainOutcome(entries, first_seq, first_prev, last_seq, last_hash, failure)
