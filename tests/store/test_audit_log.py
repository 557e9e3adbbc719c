"""Appending to the audit chain: fields, validation, automatic and final checkpoints, keys."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from store.db import Store
from store.paths import default_audit_key_path


def open_store(tmp_path, every=5):
    return Store.open(tmp_path / "desk.db", audit_key_path=tmp_path / "k" / "audit.pem",
                      checkpoint_every=every)  # fmt: skip


def test_entries_chain_with_an_independently_computed_hash(tmp_path):
    store = open_store(tmp_path)
    ts = datetime(2026, 11, 22, 4, 5, 18, 123456, tzinfo=UTC)
    first = store.audit.append("order.filled", "engine", {"qty": 0.5, "px": "1"}, ts=ts)
    second = store.audit.append("order.cancelled", "user", {"why": "late"})
    store.close()
    body = {
        "seq": 1,
        "ts": "2026-11-22T04:05:18.123456Z",
        "kind": "order.filled",
        "actor": "engine",
        "payload": {"qty": "0.5", "px": "1"},
        "prev_hash": "0" * 64,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256(text.encode()).hexdigest()
    assert first.payload == {"qty": "0.5", "px": "1"}
    assert second.seq == 2 and second.prev_hash == first.hash
    assert second.ts.endswith("Z") and len(second.ts) == len("2026-11-22T04:05:18.123456Z")


@pytest.mark.parametrize(
    ("kind", "actor"),
    [("order.filled", "robot"), ("order", "engine"), ("Order.Filled", "user"), ("", "system")],
)
def test_bad_kind_or_actor_is_a_value_error_and_writes_nothing(tmp_path, kind, actor):
    store = open_store(tmp_path)
    with pytest.raises(ValueError):
        store.audit.append(kind, actor, {})
    assert store.audit.head[0] == 0
    store.close()


def test_checkpoints_every_n_entries_in_the_same_transaction_and_at_close(tmp_path):
    store = open_store(tmp_path, every=5)
    with store.unit_of_work():
        for i in range(12):
            store.audit.append("order.proposed", "engine", {"i": i})
    cps = store.conn.execute("SELECT seq, hash FROM audit_checkpoints ORDER BY seq").fetchall()
    hashes = dict(store.conn.execute("SELECT seq, hash FROM audit_entries").fetchall())
    assert [seq for seq, _ in cps] == [1, 5, 10]  # the first entry records the cadence
    assert all(hashes[seq] == h for seq, h in cps)
    with pytest.raises(RuntimeError), store.unit_of_work():
        for i in range(5):
            store.audit.append("order.proposed", "engine", {"i": i})
        raise RuntimeError  # the checkpoint at 15 rolls back with its entries
    assert store.conn.execute("SELECT MAX(seq) FROM audit_checkpoints").fetchone()[0] == 10
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(store.audit.public_key_b64()))
    store.close()
    store = open_store(tmp_path, every=5)
    seq, h, ts, sig = store.conn.execute(
        "SELECT seq, hash, ts, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert seq == 12 and h == hashes[12]
    message = json.dumps({"seq": seq, "hash": h, "ts": ts, "every": 5}, sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False)  # fmt: skip
    public.verify(base64.b64decode(sig), message.encode())  # raises if not valid
    store.close()  # nothing new since the last checkpoint: no second one
    store = open_store(tmp_path, every=5)
    assert store.conn.execute("SELECT COUNT(*) FROM audit_checkpoints").fetchone()[0] == 4
    store.close()


def test_head_is_restored_after_reopen(tmp_path):
    store = open_store(tmp_path)
    last = store.audit.append("engine.started", "system", {})
    store.close(checkpoint=False)
    store = open_store(tmp_path)
    assert store.audit.head == (1, last.hash)
    assert store.audit.append("engine.stopped", "system", {}).prev_hash == last.hash
    store.close()


def test_tail_is_newest_last_with_parsed_payloads(tmp_path):
    store = open_store(tmp_path)
    for i in range(7):
        store.audit.append("order.filled", "engine", {"i": i})
    tail = store.audit.tail(3)
    assert [e.seq for e in tail] == [5, 6, 7]
    assert tail[-1].payload == {"i": 6}
    assert store.audit.tail(0) == []
    store.close()


def test_default_key_is_created_private_on_first_use(tmp_path):
    store = Store.open(tmp_path / "desk.db")
    key = default_audit_key_path()
    assert not key.exists()  # opening alone does not need the key
    store.audit.append("engine.started", "system", {})
    store.close()  # the final checkpoint signs
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    reopened = Store.open(tmp_path / "desk.db")
    assert base64.b64decode(reopened.audit.public_key_b64()) == raw and len(raw) == 32
    reopened.close()
