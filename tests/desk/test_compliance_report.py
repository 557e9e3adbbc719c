"""`desk compliance report` over a scripted live session (an approval, a rejection, a kill
switch and the denial it causes): every intervention and denial is listed with the seq the
audit log gave it, the report ties to `desk audit export`, and a tampered log is flagged on
the first line."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime

import pytest

from desk.cli import main
from tests.live_engine import live_engine, step_until_proposal

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("session")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CONFIG_HOME", str(tmp / "xdg-config"))
    mp.setenv("XDG_DATA_HOME", str(tmp / "xdg-data"))
    engine, _clock, cfg = live_engine(tmp, risk={"max_correlation": 1.0})
    first = step_until_proposal(engine)
    assert engine.approve(first.order_id) == ""
    for _ in range(3):
        engine.step()
    second = step_until_proposal(engine)
    assert engine.reject(second.order_id) == ""
    engine.set_kill_switch(True)
    for _ in range(600):
        engine.step()
        if any(e.kind == "risk.denied" for e in engine.store.audit.tail(5)):
            break
    engine.stop()
    with sqlite3.connect(cfg.store.path) as conn:
        rows = conn.execute("SELECT seq, kind, actor, hash FROM audit_entries").fetchall()
    yield tmp, cfg.store.path, rows
    mp.undo()


def _report(session, name, db=None):
    tmp, path, _rows = session
    out = tmp / name
    code = main(["compliance", "report", "--from", TODAY, "--to", TODAY, "--out", str(out),
                 "--db", str(db or path)])
    return code, out


def test_every_intervention_and_denial_is_listed_with_its_seq(session, monkeypatch):
    tmp, _path, rows = session
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp / "xdg-config"))
    code, out = _report(session, "report.json")
    assert code == 0
    document = json.loads(out.read_text())
    assert out.read_text().splitlines()[0].startswith('{"status": "VERIFIED')
    listed = {name: [(e["seq"], e["kind"], e["hash"]) for e in entries]
              for name, entries in document["sections"].items()}
    expected_interventions = [(s, k, h) for s, k, a, h in rows if a == "user"]
    assert [k for _s, k, _h in expected_interventions] == [
        "order.approved", "order.rejected", "risk.kill_switch"]
    assert listed["interventions"] == expected_interventions
    denials = [(s, k, h) for s, k, _a, h in rows if k == "risk.denied"]
    assert denials and listed["denials"] == denials
    assert document["denials_by_rule"]["kill_switch"] == len(denials)
    assert document["proof"]["range"] == {"first_seq": 1, "last_seq": rows[-1][0],
                                          "entries": len(rows)}
    assert document["proof"]["chain_valid"] is True
    assert document["proof"]["checkpoint"]["seq"] >= rows[-1][0]
    # Every entry is in exactly one section.
    assert sorted(s for entries in listed.values() for s, _k, _h in entries) == [
        r[0] for r in rows]
    proposals = [e for e in document["sections"]["orders"] if e["kind"] == "order.proposed"]
    assert proposals and all(e["checks"] for e in proposals)


def test_lines_tie_back_to_the_audit_export(session, monkeypatch):
    tmp, path, rows = session
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp / "xdg-config"))
    code, out = _report(session, "report.csv")
    assert code == 0
    export = tmp / "export.jsonl"
    assert main(["audit", "export", "--out", str(export), "--db", str(path)]) == 0
    exported = {}
    for line in export.read_text().splitlines()[1:]:
        entry = json.loads(line)
        if "seq" in entry:
            exported[entry["seq"]] = entry["hash"]
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# VERIFIED")
    reader = csv.DictReader(lines[2:])
    tied = 0
    for row in reader:
        if row["seq"]:
            assert exported[int(row["seq"])] == row["hash"]
            tied += 1
    assert tied == len(rows)  # every entry of the session, each with the export's hash


def test_a_tampered_log_says_so_on_the_first_line(session, monkeypatch, tmp_path):
    tmp, path, rows = session
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp / "xdg-config"))
    copy = tmp_path / "tampered.db"
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    denial = next(s for s, k, _a, _h in rows if k == "risk.denied")
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE audit_entries SET payload = replace(payload, 'kill', 'KILL') "
                     "WHERE seq = ?", (denial,))
    for name in ("t.html", "t.json", "t.csv"):
        code, out = _report(session, name, db=copy)
        assert code == 1
        first = out.read_text().splitlines()[0]
        assert "TAMPERED" in first and f"seq {denial}" in first
