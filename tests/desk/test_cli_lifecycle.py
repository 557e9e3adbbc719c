"""`desk report strategies` and `desk strategies`: the decomposition of a stored arch:sp500
run printed and written (parts add up to the total), bad input in one line with exit 2 and
nothing written, and the lifecycle changed by hand with actor user."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from desk import cli

SECTIONS = ("by_strategy", "by_symbol", "by_regime", "by_strategy_regime")


@pytest.fixture
def stored_run(tmp_path, capsys):
    code = cli.main(["--backtest", "--data", "arch:sp500", "--db", "run.db",
                     "--json", "out.json"])
    assert code == 0
    capsys.readouterr()
    return json.loads((tmp_path / "out.json").read_text())


def test_a_backtest_json_decomposes_to_its_total_and_the_report_reads_it(stored_run, tmp_path,
                                                                         capsys):
    d = stored_run["decomposition"]
    assert set(d) >= set(SECTIONS)
    for section in SECTIONS:
        assert sum(Decimal(g["pnl_cents"]) for g in d[section].values()) \
            == Decimal(d["total"]["pnl_cents"])
    assert "status_changes" in stored_run["lifecycle"]

    code = cli.main(["report", "strategies", "--run", "1", "--db", "run.db",
                     "--json", "report.json", "--csv", "report.csv"])
    out = capsys.readouterr().out
    assert code == 0
    assert "by strategy" in out and "momentum" in out and "top by P&L" in out
    assert json.loads((tmp_path / "report.json").read_text())["decomposition"] == d
    lines = (tmp_path / "report.csv").read_text().splitlines()
    assert lines[0].startswith("group,name,trades,pnl")
    total = [line for line in lines if line.startswith("total,")][0]
    assert total.split(",")[3] == d["total"]["pnl_cents"]


def test_bad_input_is_one_line_exit_2_and_writes_nothing(stored_run, tmp_path, capsys):
    assert cli.main(["report", "strategies", "--run", "99", "--db", "run.db"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--run 99" in err
    code = cli.main(["report", "strategies", "--run", "1", "--db", "run.db",
                     "--json", "missing/report.json"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "missing" in err
    assert not (tmp_path / "missing").exists()
    assert cli.main(["report", "strategies", "--live", "--db", "nowhere.db"]) == 2
    assert not (tmp_path / "nowhere.db").exists()


def test_set_status_and_reset_weights_are_journaled_as_user(tmp_path, capsys):
    code = cli.main(["strategies", "set-status", "rsi", "suspended", "--reason", "review",
                     "--db", "desk.db"])
    assert code == 0, capsys.readouterr().err
    assert cli.main(["strategies", "reset-weights", "--db", "desk.db"]) == 0
    assert cli.main(["strategies", "list", "--db", "desk.db"]) == 0
    out = capsys.readouterr().out
    assert "SUSPENDED" in out and "review" in out
    assert cli.main(["strategies", "set-status", "rsi", "asleep", "--reason", "x",
                     "--db", "desk.db"]) == 2
    assert "unknown status" in capsys.readouterr().err
    from engine.adapters.sqlite.open import open_store
    from engine.config.schema import config_from_dict

    store = open_store(config_from_dict({"store": {"path": str(tmp_path / "desk.db")}}))
    try:
        entries = store.audit.tail(1000)
    finally:
        store.close()
    kinds = [(e.kind, e.actor) for e in entries
             if e.kind in ("strategy.status_changed", "weights.updated")]
    assert kinds and all(actor == "user" for _, actor in kinds)
    assert {kind for kind, _ in kinds} == {"strategy.status_changed", "weights.updated"}
