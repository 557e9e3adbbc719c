"""Any single change to a stored audit log is detected and named by its seq."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.audit_verify import verify_db
from store.canonical import entry_hash
from store.signing import AuditSigner
from tests.store.helpers_audit import (
    COLUMNS,
    build_log,
    copy_log,
    delete_seq,
    insert_forged,
    rows,
    set_field,
    swap_rows,
    truncate_tail,
)

ENTRIES = 40
EVERY = 10
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """A closed, valid 40-entry log (checkpoints at 10, 20, 30, 40) and its key."""
    base = tmp_path_factory.mktemp("golden")
    key = base / "audit.pem"
    db = build_log(base / "golden.db", key, ENTRIES, EVERY)
    return db, key, rows(db)


def tampered_copy(golden):
    db, key, original = golden
    work = Path(tempfile.mkdtemp(dir=db.parent))
    return copy_log(db, work / "copy.db"), key, original


def test_untouched_log_verifies(golden):
    db, key, _ = golden
    result = verify_db(db, key_path=key)
    assert result.ok, result.failure
    assert (result.entries, result.checkpoints) == (ENTRIES, 1 + ENTRIES // EVERY)
    assert result.summary() == "40 entries valid, 5 checkpoints valid"


@FAST
@given(
    seq=st.integers(1, ENTRIES),
    column=st.sampled_from([c for c in COLUMNS if c != "seq"]),
    junk=st.text(min_size=1, max_size=8),
)
def test_modifying_any_field_is_named_by_seq(golden, seq, column, junk):
    db, key, original = tampered_copy(golden)
    old = original[seq - 1][COLUMNS.index(column)]
    if column == "payload":
        new = json.dumps({**json.loads(old), "forged": junk}, sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False)  # fmt: skip
    else:
        new = old + junk
    set_field(db, seq, column, new)
    result = verify_db(db, key_path=key)
    assert not result.ok
    assert result.failure.seq == seq, result.failure


@FAST
@given(seq=st.integers(1, ENTRIES))
def test_moving_an_entry_to_another_seq_is_a_gap(golden, seq):
    db, key, _ = tampered_copy(golden)
    set_field(db, seq, "seq", 10_000 + seq)
    result = verify_db(db, key_path=key)
    assert result.failure.seq == seq and "missing" in result.failure.reason


@FAST
@given(seq=st.integers(1, ENTRIES - 1))
def test_deleting_an_entry_is_named_by_seq(golden, seq):
    db, key, _ = tampered_copy(golden)
    delete_seq(db, seq)
    result = verify_db(db, key_path=key)
    assert result.failure.seq == seq and "missing" in result.failure.reason


@FAST
@given(at=st.integers(1, ENTRIES), payload=st.dictionaries(st.text(max_size=5), st.integers()))
def test_inserting_a_self_consistent_forged_entry_is_detected(golden, at, payload):
    db, key, original = tampered_copy(golden)
    prev = original[at - 2][6] if at > 1 else "0" * 64
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    ts = "2026-01-05T09:30:00.000000Z"
    forged = (at, ts, "order.filled", "user", body, prev,
              entry_hash(at, ts, "order.filled", "user", body, prev))  # fmt: skip
    insert_forged(db, at, forged)
    result = verify_db(db, key_path=key)
    assert not result.ok
    # The forged entry links correctly to the one before it, so the break shows at the
    # entry after it, unless a checkpoint signed the genuine entry at its seq.
    expected = at if at % EVERY == 0 or at == 1 else at + 1
    assert result.failure.seq == expected, result.failure


@FAST
@given(pair=st.lists(st.integers(1, ENTRIES), min_size=2, max_size=2, unique=True))
def test_swapping_two_entries_is_named_by_the_first(golden, pair):
    i, j = sorted(pair)
    db, key, _ = tampered_copy(golden)
    swap_rows(db, i, j)
    result = verify_db(db, key_path=key)
    assert result.failure.seq == i, result.failure


@FAST
@given(count=st.integers(1, ENTRIES - 1))
def test_truncated_tail_is_detected_against_the_last_checkpoint(golden, count):
    db, key, _ = tampered_copy(golden)
    truncate_tail(db, count)
    result = verify_db(db, key_path=key)
    assert result.failure.seq == ENTRIES - count + 1
    assert "truncated" in result.failure.reason


def test_forged_checkpoint_signature_is_bad(golden):
    db, key, _ = tampered_copy(golden)
    from tests.store.helpers_audit import execute

    execute(db, ("UPDATE audit_checkpoints SET ts = ts || 'x' WHERE seq = 20", ()))
    result = verify_db(db, key_path=key)
    assert result.failure.seq == 20 and "bad signature" in result.failure.reason


def test_checkpoint_moved_to_another_entry_is_detected(golden):
    db, key, original = tampered_copy(golden)
    from tests.store.helpers_audit import execute

    execute(db, ("UPDATE audit_checkpoints SET hash = ? WHERE seq = 30", (original[28][6],)))
    assert verify_db(db, key_path=key).failure.seq == 30


def test_another_trusted_key_makes_the_signatures_untrusted(golden, tmp_path):
    db, key, _ = golden
    stranger = AuditSigner(tmp_path / "stranger.pem").public_key_b64()
    result = verify_db(db, pubkey_b64=stranger, key_path=key)
    assert result.failure.seq == 1 and "untrusted key" in result.failure.reason
    genuine = AuditSigner(key).public_key_b64()
    assert verify_db(db, pubkey_b64=genuine, key_path=tmp_path / "none.pem").ok


def test_anchor_must_match(golden):
    db, key, original = golden
    assert verify_db(db, key_path=key, anchor=f"12:{original[11][6]}").ok
    wrong = verify_db(db, key_path=key, anchor=f"12:{original[12][6]}")
    assert wrong.failure.seq == 12 and "anchor" in wrong.failure.reason
    beyond = verify_db(db, key_path=key, anchor=f"99:{'a' * 64}")
    assert beyond.failure.seq == 99


def test_entry_of_the_wrong_type_is_reported_not_raised(golden):
    db, key, _ = tampered_copy(golden)
    set_field(db, 7, "kind", 12345)
    result = verify_db(db, key_path=key)
    assert result.failure.seq == 7
