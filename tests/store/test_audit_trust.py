"""What the trusted key and the key holder's last signed head prove: empty and unsigned logs,
the signed cadence, forged chains Desk refuses to sign, exports of broken chains, strict
JSONL, one-line failures, private database files."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desk.cli import main
from store.audit_export import export_audit
from store.audit_verify import verify_db, verify_export
from store.db import Store
from store.errors import ForgedChainError, StoreError
from store.key_anchor import heads_path
from store.signing import AuditSigner
from tests.store.helpers_audit import build_log, execute, rechain, rows, set_field


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, Path, str]:
    """25 entries, cadence 10: checkpoints at 10, 20 and 25 (close)."""
    key = tmp_path / "keys" / "audit.pem"
    db = build_log(tmp_path / "desk.db", key, 25, checkpoint_every=10)
    return db, key, AuditSigner(key).public_key_b64()


# --- 2. nothing signed, nothing proven ----------------------------------------------------


def test_pubkey_verify_fails_on_an_empty_log_and_on_an_unsigned_one(tmp_path, log):
    db, key, pubkey = log
    empty = tmp_path / "empty.db"
    Store.open(empty, audit_key_path=key).close()
    result = verify_db(empty, pubkey_b64=pubkey, key_path=key)
    assert not result.ok
    assert result.summary() == (
        "FAILED at seq 0: the audit log is empty: nothing signed: nothing is proven"
    )
    execute(db, ("DELETE FROM audit_checkpoints", ()))
    other_key = tmp_path / "elsewhere.pem"  # no heads file: only the database speaks
    unsigned = verify_db(db, pubkey_b64=pubkey, key_path=other_key)
    assert not unsigned.ok
    assert "no signed checkpoint in 25 entries" in unsigned.failure.reason
    rechain(db, rows(db)[:9])  # below the cadence: only the missing signature is left
    short = verify_db(db, pubkey_b64=pubkey, key_path=other_key)
    assert short.summary() == (
        "FAILED at seq 1: no signed checkpoint in 9 entries: nothing signed: nothing is proven"
    )


# --- 3. the cadence is recorded, signed and enforced ---------------------------------------


def test_checkpoints_record_the_cadence_and_a_deleted_one_is_named(log):
    db, key, pubkey = log
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT seq, every FROM audit_checkpoints ORDER BY seq").fetchall() == [
            (1, 10), (10, 10), (20, 10), (25, 10),
        ]  # fmt: skip
    execute(db, ("DELETE FROM audit_checkpoints WHERE seq = 20", ()))
    result = verify_db(db, pubkey_b64=pubkey, key_path=key)
    assert result.failure.seq == 20 and "cadence 10" in result.failure.reason


def test_a_changed_cadence_is_signed_where_it_changes_and_cannot_be_edited(tmp_path):
    db, key = tmp_path / "desk.db", tmp_path / "audit.pem"
    store = Store.open(db, audit_key_path=key, checkpoint_every=4)
    for i in range(6):
        store.audit.append("order.filled", "engine", {"i": i})
    store.close(checkpoint=False)
    store = Store.open(db, audit_key_path=key, checkpoint_every=3)
    for i in range(7):
        store.audit.append("order.filled", "engine", {"i": i})
    store.close(checkpoint=False)
    with sqlite3.connect(db) as conn:
        marks = conn.execute("SELECT seq, every FROM audit_checkpoints ORDER BY seq").fetchall()
    # 1 opens the log, 4 under its cadence; 7 records the change; then multiples of 3.
    assert marks == [(1, 4), (4, 4), (7, 3), (9, 3), (12, 3)]
    pubkey = AuditSigner(key).public_key_b64()
    assert verify_db(db, pubkey_b64=pubkey, key_path=key).ok
    execute(db, ("UPDATE audit_checkpoints SET every = 1000 WHERE seq = 12", ()))
    assert "bad signature" in verify_db(db, pubkey_b64=pubkey, key_path=key).failure.reason


# --- 4. the key holder's last signed head ----------------------------------------------------


def test_the_signed_head_is_kept_beside_the_key_privately(log):
    db, key, _ = log
    heads = heads_path(key)
    assert stat.S_IMODE(heads.stat().st_mode) == 0o600
    saved = json.loads(heads.read_text())["heads"][os.path.realpath(db)]
    assert saved == {"seq": 25, "hash": rows(db)[24][6]}


def test_desk_refuses_to_journal_or_sign_over_a_rewritten_log(log):
    db, key, pubkey = log
    rechain(db, rows(db)[:22])  # delete the checkpoints, drop three entries, re-chain
    before = rows(db)
    store = Store.open(db, audit_key_path=key)
    refused = "refusing to sign: the key holder last signed entry 25"
    with pytest.raises(ForgedChainError, match=refused):
        store.audit.append("engine.started", "system", {})
    with pytest.raises(ForgedChainError):  # and it stays refused
        store.audit.append("engine.crashed", "system", {})
    store.close()
    assert rows(db) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_checkpoints").fetchone()[0] == 0
    with pytest.raises(ForgedChainError):
        export_audit(db, db.parent / "out.jsonl", key_path=key)
    assert not (db.parent / "out.jsonl").exists()
    # The key holder's own verify names it even though the rewrite's hashes are right.
    result = verify_db(db, key_path=key)
    assert result.failure.seq == 25 and "key holder signed entry 25" in result.failure.reason


def test_a_forged_head_stops_routine_commands_with_one_line(log, tmp_path):
    db, key, _ = log
    forged = list(rows(db))
    forged[3] = (*forged[3][:4], '{"forged":true}', *forged[3][5:])
    rechain(db, forged)
    (tmp_path / "desk.toml").write_text(f'[audit]\nkey_path = "{key}"\n')
    env = dict(os.environ)
    runs = {
        "export": ["audit", "export", "--out", str(tmp_path / "x.jsonl")],
        "verify": ["audit", "verify"],
        "list": ["keys", "list"],
    }
    out = {
        name: subprocess.run(
            [sys.executable, "-m", "desk.cli", "--db", str(db), *argv],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
        )  # fmt: skip
        for name, argv in runs.items()
    }
    assert out["export"].returncode == 1
    assert out["export"].stderr.startswith("desk: ") and out["export"].stderr.count("\n") == 1
    assert "refusing to sign an export" in out["export"].stderr
    # The rewrite's hashes are right: only the key holder's signed head tells.
    verify = out["verify"].stdout
    assert out["verify"].returncode == 1 and verify.startswith("FAILED at seq 25: entry 25 is")
    assert out["list"].returncode == 0  # reads only: nothing to refuse, nothing signed
    assert json.loads(heads_path(key).read_text())["heads"][os.path.realpath(db)]["seq"] == 25
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_checkpoints").fetchone()[0] == 0


def test_forgetting_is_explicit_a_new_database_elsewhere_is_a_new_log(log, tmp_path):
    db, key, pubkey = log
    other = build_log(tmp_path / "other.db", key, 3, checkpoint_every=10)
    assert verify_db(other, pubkey_b64=pubkey, key_path=key).ok
    assert verify_db(db, pubkey_b64=pubkey, key_path=key).ok


# --- 6. exports verify what they sign -----------------------------------------------------


def test_export_refuses_a_broken_chain(log, tmp_path):
    db, key, _ = log
    heads_path(key).unlink()  # no anchor: the chain's own breakage is what is refused
    set_field(db, 23, "actor", "engine")
    out = tmp_path / "out.jsonl"
    with pytest.raises(StoreError, match="refusing to export a broken audit chain: seq 23"):
        export_audit(db, out, key_path=key)
    assert not out.exists()
    assert main(["--db", str(db), "audit", "export", "--out", str(out)]) == 1


# --- 7. strict JSONL --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda line: line[:-2] + ',"note":"unsigned"}\n', "unknown field 'note'"),
        (lambda line: line.replace('{"seq":', '{"seq":7,"seq":', 1), "duplicate key 'seq'"),
        (lambda line: line.replace('"payload":{', '"payload":{"qty":"9",', 1),
         "duplicate key 'qty'"),
        (lambda line: line.replace('"x":null', '"x":null,"x":1', 1), "duplicate key 'x'"),
    ],
)
def test_jsonl_verifier_rejects_unknown_fields_and_duplicate_keys(log, tmp_path, edit, reason):
    db, key, pubkey = log
    out = tmp_path / "audit.jsonl"
    export_audit(db, out, key_path=key)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[7] = edit(lines[7])
    out.write_text("".join(lines), encoding="utf-8")
    result = verify_export(out, pubkey_b64=pubkey)
    assert not result.ok and result.failure.seq == 7
    assert "line 8: " in result.failure.reason and reason in result.failure.reason


def test_jsonl_header_and_checkpoint_line_are_strict_too(log, tmp_path):
    db, key, pubkey = log
    out = tmp_path / "audit.jsonl"
    export_audit(db, out, key_path=key)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    trailer = lines[-1][:-2] + ',"note":"x"}\n'
    (tmp_path / "t.jsonl").write_text("".join(lines[:-1]) + trailer, encoding="utf-8")
    assert "malformed" in verify_export(tmp_path / "t.jsonl", pubkey_b64=pubkey).failure.reason
    header = lines[0][:-2] + ',"first_seq":2}\n'
    (tmp_path / "h.jsonl").write_text(header + "".join(lines[1:]), encoding="utf-8")
    with pytest.raises(StoreError, match="line 1: the header is not JSON .duplicate key"):
        verify_export(tmp_path / "h.jsonl")


# --- 8. verify never prints a traceback ---------------------------------------------------


def _desk(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desk.cli", *argv], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)  # fmt: skip


def test_damaged_inputs_are_one_line_and_exit_1(log, tmp_path):
    db, key, _ = log
    out = tmp_path / "audit.jsonl"
    export_audit(db, out, key_path=key)
    text = out.read_bytes()
    damaged = {
        "bad_utf8_header": b'{"format":"desk-audit/1","x":"\xff\xfe"}\n' + text,
        "bad_utf8_entry": text.replace(b'"note":"entr\xc3\xa9e 3', b'"note":"entr\xe9e 3', 1),
        "nested": text.split(b"\n")[0] + b'\n{"seq":1,"payload":' + b"[" * 100_000 + b"\n",
    }
    for name, data in damaged.items():
        (tmp_path / f"{name}.jsonl").write_bytes(data)
    broken_db = tmp_path / "broken.db"
    broken_db.write_bytes(db.read_bytes())
    execute(broken_db, ("DROP TABLE audit_checkpoints", ()))
    no_column = tmp_path / "nocolumn.db"
    no_column.write_bytes(db.read_bytes())
    execute(no_column, ("DROP INDEX audit_entries_kind", ()),
            ("ALTER TABLE audit_entries DROP COLUMN kind", ()))
    runs = [_desk(tmp_path, "audit", "verify", "--file", str(tmp_path / f"{n}.jsonl"))
            for n in damaged]
    pubkey = AuditSigner(key).public_key_b64()
    runs += [_desk(tmp_path, "audit", "verify", "--db", str(p), "--pubkey", pubkey)
             for p in (broken_db, no_column)]
    for run in runs:
        assert run.returncode == 1, run
        assert "Traceback" not in run.stderr + run.stdout
        assert (run.stdout + run.stderr).count("\n") == 1, run
    assert "line 1: not UTF-8" in runs[0].stderr
    assert "FAILED at seq 4: line 5: not UTF-8" in runs[1].stdout
    assert "nested too deeply" in runs[2].stdout
    assert runs[3].stderr == (
        f"desk: {broken_db}: cannot read the audit log: the audit_checkpoints table is missing\n"
    )
    assert runs[4].stderr.startswith(f"desk: {no_column}: cannot read the audit log: ")
    assert "kind" in runs[4].stderr
    set_field(db, 23, "actor", "engine")  # before the key holder's signed head: a forgery
    with pytest.raises(ForgedChainError, match="refusing to sign an export"):
        export_audit(db, tmp_path / "y.jsonl", key_path=key)


# --- 10. private database files -----------------------------------------------------------


def test_new_database_files_are_private_and_existing_ones_are_warned_about(tmp_path, capfd):
    folder = tmp_path / "data" / "desk"
    store = Store.open(folder / "desk.db", audit_key_path=tmp_path / "a.pem")
    store.audit.append("engine.started", "system", {})
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    store.close(checkpoint=False)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert modes == {"desk.db": 0o600, "desk.db-wal": 0o600, "desk.db-shm": 0o600}
    assert capfd.readouterr().err == ""
    loose = tmp_path / "loose.db"
    sqlite3.connect(loose).close()
    os.chmod(loose, 0o644)
    Store.open(loose, audit_key_path=tmp_path / "a.pem").close()
    err = capfd.readouterr().err
    assert err == f"desk: warning: {loose} is readable by other users (mode 0644); chmod 600 it\n"
    assert stat.S_IMODE(loose.stat().st_mode) == 0o644  # left alone
