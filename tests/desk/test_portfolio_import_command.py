"""`desk portfolio import|export` against a real store: each trade is counted once however
often, and by whatever route, an export comes back."""

from __future__ import annotations

import json
import sqlite3

from desk.cli import main
from engine.portfolio.virtual import export_json, make_trade


def _export(tmp_path):
    trades = [
        make_trade(uid=f"lab:{i}", ts=f"2024-01-0{i}T00:00:00Z", symbol=symbol,
                   asset_type=kind, side="buy", qty="1", price=price)
        for i, (symbol, kind, price) in enumerate(
            [("BTC/USDT", "crypto", "40000"), ("SPY", "etf", "470"), ("MSFT", "stock", "370")],
            start=1)]
    path = tmp_path / "lab.json"
    path.write_text(export_json("lab", trades, []))
    return path


def _count(db, name):
    return sqlite3.connect(db).execute(
        "SELECT COUNT(*) FROM virtual_trades WHERE portfolio = ?", (name,)).fetchone()[0]


def test_importing_twice_and_round_tripping_never_double_counts(tmp_path, capsys):
    db = str(tmp_path / "d.db")
    source = _export(tmp_path)
    assert main(["--db", db, "portfolio", "import", str(source), "--into", "desk"]) == 0
    assert "desk: 3 trades added, 0 already there" in capsys.readouterr().out
    assert main(["--db", db, "portfolio", "import", str(source), "--into", "desk"]) == 0
    assert "desk: 0 trades added, 3 already there" in capsys.readouterr().out
    # desk -> export -> another portfolio -> export -> back into desk: still three trades.
    out = tmp_path / "desk.csv"
    assert main(["--db", db, "portfolio", "export", "desk", "--out", str(out)]) == 0
    assert main(["--db", db, "portfolio", "import", str(out), "--into", "other"]) == 0
    back = tmp_path / "other.json"
    assert main(["--db", db, "portfolio", "export", "other", "--out", str(back)]) == 0
    assert main(["--db", db, "portfolio", "import", str(back), "--into", "desk"]) == 0
    assert _count(tmp_path / "d.db", "desk") == 3 and _count(tmp_path / "d.db", "other") == 3
    positions = json.loads(back.read_text())["positions"]
    assert {p["symbol"]: p["qty"] for p in positions} == {"BTC/USDT": "1", "SPY": "1",
                                                          "MSFT": "1"}
    entries = sqlite3.connect(tmp_path / "d.db").execute(
        "SELECT payload FROM audit_entries WHERE kind = 'portfolio.imported'").fetchall()
    assert len(entries) == 4


def test_a_bad_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "desk.virtual_portfolio/1", "name": "x", "trades": '
                   '[{"uid": "a:1", "ts": "2024", "symbol": "S", "asset_type": "bond", '
                   '"side": "buy", "qty": "1", "price": "1"}]}')
    assert main(["--db", str(tmp_path / "d.db"), "portfolio", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trade #1: asset_type: expected one of" in err
    assert not (tmp_path / "d.db").exists()
