"""`desk audit export|verify|pubkey` as a user runs them."""

from __future__ import annotations

import subprocess
import sys

from desk.cli import main
from store.paths import default_audit_key_path, default_db_path
from tests.store.helpers_audit import build_log, execute, rows


def make_default_log(entries=25):
    return build_log(default_db_path(), default_audit_key_path(), entries, 10)


def test_verify_export_and_pubkey(capsys, tmp_path):
    db = make_default_log()
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "25 entries valid, 4 checkpoints valid"
    assert main(["audit", "pubkey"]) == 0
    pubkey = capsys.readouterr().out.strip()
    assert len(pubkey) == 44
    out = tmp_path / "audit.jsonl"
    assert main(["audit", "export", "--out", str(out), "--from", "3", "--to", "9"]) == 0
    assert "exported 7 entries (seq 3..9)" in capsys.readouterr().out
    assert main(["audit", "verify", "--file", str(out), "--pubkey", pubkey]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "7 entries valid, 1 checkpoints valid",
        "note: the range starts at seq 3: its first prev_hash is taken as given",
        f"note: starting anchor: seq 2:{rows(db)[1][6]}",
    ]


def test_verify_failure_exits_1_naming_the_seq(capsys):
    db = make_default_log()
    execute(db, ("UPDATE audit_entries SET actor = 'user' WHERE seq = 13", ()))
    assert main(["audit", "verify", "--db", str(db)]) == 1
    assert capsys.readouterr().out.startswith("FAILED at seq 13: hash mismatch")


def test_missing_db_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "nowhere" / "desk.db"
    run = subprocess.run(
        [sys.executable, "-m", "desk.cli", "audit", "verify", "--db", str(missing)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip() == f"desk: {missing}: no such database"
    assert not missing.exists() and not missing.parent.exists()
