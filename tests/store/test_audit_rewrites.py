"""Hypothesis: random single tamperings and the silent-rewrite family against one golden log.

What the README promises, checked here:
- any single raw-SQL tampering fails `verify --pubkey` (no anchor needed);
- a rewrite with correct hashes fails `verify --pubkey` when it removes every checkpoint,
  skips a multiple of the signed cadence, empties the log or contradicts a kept checkpoint;
- a rewrite that keeps a signed prefix and adds fewer than `checkpoint_every` entries after
  it passes `--pubkey` alone, and fails against the key holder's last signed head;
- whatever the rewrite, Desk signs nothing over it: appends, checkpoints and exports all
  raise ForgedChainError, and neither the checkpoints nor the signed head move.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.audit_export import export_audit
from store.audit_verify import verify_db
from store.db import Store
from store.errors import ForgedChainError
from store.key_anchor import KeyAnchor, heads_path
from store.signing import AuditSigner
from tests.store.helpers_audit import (
    COLUMNS,
    build_log,
    delete_seq,
    execute,
    rechain,
    rows,
    set_field,
    swap_rows,
    truncate_tail,
)

ENTRIES, EVERY = 30, 10  # checkpoints at 10, 20 and 30
TALLY = {"single": 0, "rewrite": 0, "caught_by_pubkey": 0, "caught_by_head": 0, "refused": 0}


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("golden")
    key = folder / "keys" / "audit.pem"
    db = build_log(folder / "golden.db", key, ENTRIES, EVERY)
    original = rows(db)
    return {
        "db": db, "key": key, "rows": original, "work": folder / "work.db",
        "pubkey": AuditSigner(key).public_key_b64(), "stranger_key": folder / "none.pem",
    }  # fmt: skip


def _fresh_copy(golden: dict) -> Path:
    work: Path = golden["work"]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(golden["db"], work)
    anchor = KeyAnchor(golden["key"], work)  # the key holder signed this copy's head
    anchor.forget()
    last = golden["rows"][-1]
    anchor.advance(last[0], last[6])
    return work


def _pubkey_only(golden: dict, db: Path):
    return verify_db(db, pubkey_b64=golden["pubkey"], key_path=golden["stranger_key"])


def _with_head(golden: dict, db: Path):
    return verify_db(db, pubkey_b64=golden["pubkey"], key_path=golden["key"])


single_tamperings = st.one_of(
    st.tuples(
        st.just("modify"),
        st.integers(1, ENTRIES),
        st.sampled_from(COLUMNS[1:]),
        st.text(min_size=1, max_size=8),
    ),
    st.tuples(st.just("delete"), st.integers(1, ENTRIES)),
    st.tuples(st.just("truncate"), st.integers(1, ENTRIES)),
    st.tuples(st.just("swap"), st.integers(1, ENTRIES - 1), st.integers(1, 5)),
    st.tuples(st.just("drop_checkpoint"), st.sampled_from([10, 20, 30])),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tamper=single_tamperings)
def test_any_single_tampering_fails_verify_with_the_trusted_key(golden, tamper):
    db = _fresh_copy(golden)
    kind, *args = tamper
    if kind == "modify":
        seq, column, value = args
        if str(golden["rows"][seq - 1][COLUMNS.index(column)]) == value:
            return  # not a change
        set_field(db, seq, column, value)
    elif kind == "delete":
        delete_seq(db, args[0])
    elif kind == "truncate":
        truncate_tail(db, args[0])
    elif kind == "swap":
        swap_rows(db, args[0], min(ENTRIES, args[0] + args[1]))
    else:
        execute(db, ("DELETE FROM audit_checkpoints WHERE seq = ?", (args[0],)))
    TALLY["single"] += 1
    assert not _pubkey_only(golden, db).ok, tamper
    TALLY["caught_by_pubkey"] += 1


rewrites = st.one_of(
    # Every checkpoint deleted, the log re-chained (maybe shorter or longer).
    st.tuples(st.just("rechain_all"), st.integers(1, ENTRIES), st.integers(0, 12)),
    # A signed prefix kept (checkpoint 10), fewer than EVERY entries rewritten after it.
    st.tuples(st.just("keep_prefix"), st.integers(11, 19), st.integers(0, 0)),
    # Later checkpoints deleted, a longer tail: a multiple of the cadence goes unsigned.
    st.tuples(st.just("skip_multiple"), st.integers(30, 45), st.integers(0, 0)),
    # Re-chained in place, checkpoints kept: they no longer match.
    st.tuples(st.just("keep_checkpoints"), st.integers(1, ENTRIES), st.integers(0, 0)),
    st.tuples(st.just("empty"), st.integers(0, 0), st.integers(0, 0)),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rewrite=rewrites)
def test_silent_rewrites_are_caught_and_never_signed(golden, rewrite, tmp_path):
    db = _fresh_copy(golden)
    kind, where, extra = rewrite
    original = golden["rows"]
    forged = [(*r[:4], json.dumps({"forged": i}), *r[5:]) if i + 1 >= where else r
              for i, r in enumerate(original)]  # fmt: skip
    if kind == "rechain_all":
        forged = (forged + [original[-1]] * extra)[: max(1, len(forged) + extra - where // 3)]
        rechain(db, forged)
    elif kind == "keep_prefix":
        rechain(db, original[:10] + forged[10:where], keep_checkpoints=True)
        execute(db, ("DELETE FROM audit_checkpoints WHERE seq > 10", ()))
    elif kind == "skip_multiple":
        tail = [(*r[:4], json.dumps({"forged": i}), *r[5:])
                for i, r in enumerate(original[20:] * 2)]  # fmt: skip
        rechain(db, original[:20] + tail[: where - 20], keep_checkpoints=True)
        execute(db, ("DELETE FROM audit_checkpoints WHERE seq > 20", ()))
    elif kind == "keep_checkpoints":
        rechain(db, forged, keep_checkpoints=True)
    else:
        execute(db, ("DELETE FROM audit_entries", ()), ("DELETE FROM audit_checkpoints", ()))
    TALLY["rewrite"] += 1

    by_pubkey = _pubkey_only(golden, db)
    assert by_pubkey.ok == (kind == "keep_prefix"), (rewrite, by_pubkey.summary())
    TALLY["caught_by_pubkey"] += not by_pubkey.ok
    assert not _with_head(golden, db).ok, rewrite
    TALLY["caught_by_head"] += 1

    checkpoints_before = _checkpoints(db)
    heads_before = heads_path(golden["key"]).read_text()
    store = Store.open(db, audit_key_path=golden["key"], checkpoint_every=EVERY)
    with pytest.raises(ForgedChainError):
        store.audit.append("backtest.completed", "engine", {"routine": True})
    with pytest.raises(ForgedChainError):
        store.audit.checkpoint()
    store.close()
    with pytest.raises(ForgedChainError):
        export_audit(db, tmp_path / "export.jsonl", key_path=golden["key"])
    assert not (tmp_path / "export.jsonl").exists()
    assert _checkpoints(db) == checkpoints_before
    assert heads_path(golden["key"]).read_text() == heads_before
    TALLY["refused"] += 1


def _checkpoints(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM audit_checkpoints ORDER BY seq").fetchall()


def test_report_the_tally():
    """Printed with -s: how many tamperings were tried and how each was caught."""
    print(f"\naudit tamperings: {TALLY}")
    assert TALLY["single"] + TALLY["rewrite"] == 0 or TALLY["refused"] == TALLY["rewrite"]
