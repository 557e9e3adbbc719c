"""`desk runs list|show`: stored backtest runs listed and reopened as a user runs them; a
run shown again writes the same report sections and the JSON of what was stored."""

from __future__ import annotations

import json

import pytest

from desk import cli

BARS = "sim:BTC/USDT"


@pytest.fixture
def two_runs(tmp_path, capsys):
    """Two stored runs in run.db: a --compare ensemble and a single strategy."""
    assert cli.main(["--backtest", "--data", BARS, "--bars", "800", "--db", "run.db",
                     "--compare", "--json", "first.json"]) == 0
    assert cli.main(["--backtest", "--data", BARS, "--bars", "800", "--db", "run.db",
                     "--strategy", "rsi"]) == 0
    capsys.readouterr()
    return tmp_path / "run.db"


def test_list_shows_both_runs_newest_first(two_runs, capsys):
    assert cli.main(["runs", "list", "--db", str(two_runs)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line[:3].strip().isdigit()]
    assert [line.split()[0] for line in lines] == ["2", "1"]
    assert "rsi" in lines[0] and "ensemble" in lines[1] and "sim:BTC/USDT" in out


def test_show_prints_the_run_its_benchmark_and_its_compare_table(two_runs, capsys):
    assert cli.main(["runs", "show", "1", "--db", str(two_runs)]) == 0
    out = capsys.readouterr().out
    assert "Buy and hold" in out and "Ensemble against each strategy alone" in out
    stored = json.loads((two_runs.parent / "first.json").read_text())
    assert f"{stored['metrics']['total_return'] * 100:,.2f}%" in out


def test_show_json_holds_what_the_backtest_wrote(two_runs, capsys):
    assert cli.main(["runs", "show", "1", "--db", str(two_runs), "--json", "again.json"]) == 0
    again = json.loads((two_runs.parent / "again.json").read_text())
    first = json.loads((two_runs.parent / "first.json").read_text())
    assert again["metrics"] == first["metrics"]
    assert [t["pnl"] for t in again["trades"]] == [t["pnl"] for t in first["trades"]]
    assert [c["label"] for c in again["compare"]] == list(first["compare"])
    assert again["benchmark"]["label"].startswith("buy and hold")


def test_show_report_draws_the_stored_run_again(two_runs, capsys):
    assert cli.main(["runs", "show", "1", "--db", str(two_runs), "--report", "r.html"]) == 0
    html = (two_runs.parent / "r.html").read_text()
    for section in ("<h2>Equity</h2>", "<h2>Compared</h2>", "<h2>Monthly returns</h2>",
                    "Prices, entries and exits", "<h2>Trades</h2>"):
        assert section in html
    assert "wrote r.html" in capsys.readouterr().out


def test_an_unknown_run_is_one_line_naming_what_is_there(two_runs, capsys):
    assert cli.main(["runs", "show", "9", "--db", str(two_runs)]) == 2
    err = capsys.readouterr().err
    assert err == f"desk: {two_runs}: no stored backtest run 9 (the database holds runs 1..2)\n"


def test_no_database_is_one_line_and_creates_nothing(tmp_path, capsys):
    assert cli.main(["runs", "list", "--db", "none.db"]) == 2
    assert "none.db: no database here" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_a_bad_report_path_stops_before_the_database_is_read(two_runs, capsys):
    assert cli.main(["runs", "show", "1", "--db", str(two_runs), "--report",
                     "missing/r.html"]) == 2
    assert capsys.readouterr().err == (
        "desk: --report missing/r.html: the folder missing does not exist\n")
