"""Exports: round trip, ranges, CSV, tampering, keys, and a verifier that uses none of our code."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.audit_export import export_audit
from store.audit_verify import verify_export
from store.canonical import canonical_dumps
from store.errors import StoreError
from store.signing import AuditSigner
from tests.store.helpers_audit import build_log, rows

ENTRIES = 30

# The README's recipe: plain hashlib + json + cryptography, nothing from this project.
STANDALONE_VERIFIER = textwrap.dedent(
    """
    import base64, hashlib, json, sys
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def canonical(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()

    def verify(path, trusted_public_key_b64):
        lines = [json.loads(line) for line in open(path, encoding="utf-8")]
        header, entries, trailer = lines[0], lines[1:-1], lines[-1]
        assert header["format"] == "desk-audit/1"
        prev = entries[0]["prev_hash"] if entries else None
        for n, e in enumerate(entries):
            assert e["seq"] == header["first_seq"] + n, f"gap before seq {e['seq']}"
            assert e["prev_hash"] == prev, f"chain broken at seq {e['seq']}"
            body = {k: e[k] for k in ("seq", "ts", "kind", "actor", "payload", "prev_hash")}
            assert hashlib.sha256(canonical(body)).hexdigest() == e["hash"], (
                f"seq {e['seq']} modified")
            prev = e["hash"]
        checkpoint = trailer["checkpoint"]
        assert checkpoint["seq"] == entries[-1]["seq"] and checkpoint["hash"] == prev
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(trusted_public_key_b64))
        key.verify(base64.b64decode(trailer["signature"]), canonical(checkpoint))
        return len(entries)

    print(verify(sys.argv[1], sys.argv[2]), "entries valid")
    """
)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    base = tmp_path_factory.mktemp("log")
    key = base / "audit.pem"
    return build_log(base / "desk.db", key, ENTRIES, 10), key


def test_jsonl_round_trip_and_layout(log, tmp_path):
    db, key = log
    out = tmp_path / "audit.jsonl"
    summary = export_audit(db, out, key_path=key)
    assert (summary.first_seq, summary.last_seq, summary.entries) == (1, ENTRIES, ENTRIES)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"format": "desk-audit/1", "public_key": AuditSigner(key).public_key_b64(),
                        "first_seq": 1, "last_seq": ENTRIES}  # fmt: skip
    entries = lines[1:-1]
    stored = rows(db)
    assert [e["seq"] for e in entries] == list(range(1, ENTRIES + 1))
    assert isinstance(entries[0]["payload"], dict)
    assert [e["hash"] for e in entries] == [r[6] for r in stored]
    assert lines[-1]["checkpoint"] == {"seq": ENTRIES, "hash": stored[-1][6],
                                       "ts": summary.checkpoint.ts}  # fmt: skip
    result = verify_export(out, pubkey_b64=summary.public_key)
    assert result.ok and result.summary() == f"{ENTRIES} entries valid, 1 checkpoints valid"
    unpinned = verify_export(out)
    assert unpinned.ok and any("proves nothing" in note for note in unpinned.notes)


def test_standalone_verifier_accepts_our_export_and_rejects_a_tampered_one(log, tmp_path):
    db, key = log
    out = tmp_path / "audit.jsonl"
    summary = export_audit(db, out, key_path=key)
    script = tmp_path / "verify_export.py"
    script.write_text(STANDALONE_VERIFIER)
    ok = subprocess.run([sys.executable, "-I", str(script), str(out), summary.public_key],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"{ENTRIES} entries valid"
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace('"BTC/USDT"', '"ETH/USDT"')
    out.write_text("".join(lines), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-I", str(script), str(out), summary.public_key],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode != 0 and "seq 5 modified" in bad.stderr


def test_range_export_verifies_and_reports_its_anchor(log, tmp_path):
    db, key = log
    out = tmp_path / "part.jsonl"
    summary = export_audit(db, out, from_seq=11, to_seq=17, key_path=key)
    assert (summary.first_seq, summary.last_seq, summary.entries) == (11, 17, 7)
    assert not summary.checkpoint_stored  # 17 is not the head of the log
    stored = rows(db)
    result = verify_export(out, pubkey_b64=summary.public_key)
    assert result.ok and result.entries == 7
    assert f"starting anchor: seq 10:{stored[9][6]}" in result.notes
    assert verify_export(out, anchor=f"10:{stored[9][6]}").ok
    assert verify_export(out, anchor=f"14:{stored[13][6]}").ok
    assert verify_export(out, anchor=f"10:{stored[8][6]}").failure.seq == 11
    assert verify_export(out, anchor=f"14:{stored[12][6]}").failure.seq == 14


def test_export_of_the_head_stores_its_checkpoint(log, tmp_path):
    db, key = log
    import sqlite3

    summary = export_audit(db, tmp_path / "a.jsonl", key_path=key)
    assert summary.checkpoint_stored
    conn = sqlite3.connect(db)
    count = conn.execute("SELECT COUNT(*) FROM audit_checkpoints WHERE seq = ?",
                         (ENTRIES,)).fetchone()[0]  # fmt: skip
    conn.close()
    assert count == 1


def test_csv_export_flattens_the_payload_and_verifies(log, tmp_path):
    db, key = log
    out = tmp_path / "audit.csv"
    export_audit(db, out, fmt="csv", key_path=key)
    with open(out, encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["seq", "ts", "kind", "actor", "payload", "prev_hash", "hash"]
    assert [tuple([int(r[0]), *r[1:]]) for r in table[1:]] == rows(db)
    result = verify_export(out)
    assert result.ok and result.entries == ENTRIES and result.checkpoints == 0
    assert any("no signature" in note for note in result.notes)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    index=st.integers(0, ENTRIES - 1),
    how=st.sampled_from(["payload", "ts", "kind", "delete", "swap_next"]),
)
def test_tampering_one_line_of_an_export_is_named_by_seq(log, tmp_path, index, how):
    db, key = log
    out = tmp_path / f"t-{index}-{how}.jsonl"
    summary = export_audit(db, out, key_path=key)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    line_no = index + 1  # after the header
    seq = index + 1
    entry = json.loads(lines[line_no])
    if how == "payload":
        entry["payload"]["qty"] = "1000"
    elif how == "ts":
        entry["ts"] = entry["ts"].replace("2026", "2025")
    elif how == "kind":
        entry["kind"] = "order.cancelled" if entry["kind"] != "order.cancelled" else "order.x"
    if how in ("payload", "ts", "kind"):
        lines[line_no] = json.dumps(entry, ensure_ascii=False) + "\n"
    elif how == "delete":
        del lines[line_no]
    elif how == "swap_next" and index + 1 < ENTRIES:
        lines[line_no], lines[line_no + 1] = lines[line_no + 1], lines[line_no]
    else:  # swapping the last entry with the checkpoint line
        lines[line_no], lines[line_no + 1] = lines[line_no + 1], lines[line_no]
    out.write_text("".join(lines), encoding="utf-8")
    result = verify_export(out, pubkey_b64=summary.public_key)
    assert not result.ok
    assert result.failure.seq == seq, result.failure


def test_untrusted_and_forged_signatures(log, tmp_path):
    db, key = log
    out = tmp_path / "audit.jsonl"
    summary = export_audit(db, out, key_path=key)
    stranger = AuditSigner(tmp_path / "stranger.pem")
    result = verify_export(out, pubkey_b64=stranger.public_key_b64())
    assert result.failure.seq == ENTRIES and "untrusted key" in result.failure.reason
    # A forger re-signs with their own key and puts it in the header: valid on its own
    # terms, rejected against the trusted key.
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    header["public_key"] = stranger.public_key_b64()
    trailer["signature"] = base64.b64encode(
        stranger.sign(canonical_dumps(trailer["checkpoint"]))
    ).decode()
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(header) + "\n" + "".join(lines[1:-1]) + json.dumps(trailer)
                      + "\n", encoding="utf-8")
    assert verify_export(forged).ok
    rejected = verify_export(forged, pubkey_b64=summary.public_key)
    assert "untrusted key" in rejected.failure.reason
    # Desk itself never vouches with a key that did not sign the log's checkpoints.
    with pytest.raises(StoreError, match="refusing to export a broken audit chain: seq 1:"):
        export_audit(db, tmp_path / "other.jsonl", key_path=tmp_path / "stranger.pem")
    assert not (tmp_path / "other.jsonl").exists()
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    trailer = json.loads(lines[-1])
    trailer["checkpoint"]["ts"] = "2020-01-01T00:00:00.000000Z"
    lines[-1] = json.dumps(trailer) + "\n"
    out.write_text("".join(lines), encoding="utf-8")
    assert "bad checkpoint signature" in verify_export(out).failure.reason


def test_truncated_export_is_detected(log, tmp_path):
    db, key = log
    out = tmp_path / "audit.jsonl"
    export_audit(db, out, key_path=key)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "short.jsonl").write_text("".join(lines[:-3]), encoding="utf-8")
    result = verify_export(tmp_path / "short.jsonl")
    assert result.failure.seq == ENTRIES - 1 and "truncated" in result.failure.reason
    (tmp_path / "nocp.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    assert verify_export(tmp_path / "nocp.jsonl").failure.seq == ENTRIES + 1


def test_missing_inputs_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no such database"):
        export_audit(tmp_path / "none.db", tmp_path / "out.jsonl")
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(StoreError, match="no such export"):
        verify_export(tmp_path / "none.jsonl")
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(StoreError, match="line 1"):
        verify_export(tmp_path / "x.txt")
