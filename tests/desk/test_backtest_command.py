"""`desk --backtest` refuses a database it cannot write before the run, says when the data is
too short for any strategy to trade or the size is above the position limit, and sums
its risk denials by rule id."""

from __future__ import annotations

import json
import os

import pytest

from desk import cli
from desk.commands import backtest as command

HEADER = "date,open,high,low,close,volume\n"


def _bars(count: int) -> str:
    rows = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{100 + i % 5},{106 + i % 5},"
            f"{99 + i % 5},{101 + i % 5},10\n" for i in range(count)]
    return HEADER + "".join(rows)


@pytest.fixture
def no_run(monkeypatch):
    """The run must never start."""

    def refuse(*args, **kwargs):
        raise AssertionError("the backtest ran")

    monkeypatch.setattr("engine.backtest.job.run_job", refuse)


def test_a_file_shorter_than_the_warm_up_warns_in_one_line(tmp_path, capsys):
    (tmp_path / "one.csv").write_text(_bars(1))

    code = cli.main(["--backtest", "--data", "one.csv", "--db", "run.db"])

    err = capsys.readouterr().err
    assert code == 0
    assert err == ("desk: warning: one.csv: 1 bar per symbol, but the strategies need more"
                   " than 15 to warm up: no trade is possible\n")


def test_the_warm_up_is_that_of_the_strategies_run(tmp_path, capsys):
    (tmp_path / "short.csv").write_text(_bars(40))

    code = cli.main(["--backtest", "--data", "short.csv", "--db", "run.db",
                     "--strategy", "sma_cross:fast=10,slow=60"])

    assert code == 0
    assert "need more than 60 to warm up" in capsys.readouterr().err


def test_enough_bars_no_warning(tmp_path, capsys):
    (tmp_path / "long.csv").write_text(_bars(40))

    code = cli.main(["--backtest", "--data", "long.csv", "--db", "run.db"])

    assert code == 0
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_database_stops_before_the_run(tmp_path, capsys, no_run):
    (tmp_path / "bars.csv").write_text(_bars(40))
    db = tmp_path / "ro" / "desk.db"
    db.parent.mkdir()
    db.write_bytes(b"")
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        code = cli.main(["--backtest", "--data", "bars.csv", "--db", str(db)])
    finally:
        db.parent.chmod(0o755)

    assert code == 2
    assert capsys.readouterr().err == (
        f"desk: {db}: the database is read-only: the run could not be stored\n")


def test_an_unwritable_database_stops_before_the_run(tmp_path, capsys, monkeypatch, no_run):
    """As above, for any user: the permission answer is the operating system's."""
    (tmp_path / "bars.csv").write_text(_bars(40))
    db = tmp_path / "desk.db"
    db.write_bytes(b"")
    real_access = os.access
    monkeypatch.setattr(command.os, "access",
                        lambda path, mode: False if str(path) == str(db) else
                        real_access(path, mode))

    code = cli.main(["--backtest", "--data", "bars.csv", "--db", str(db)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"desk: {db}: the database is read-only: the run could not be stored\n")
    assert db.read_bytes() == b""


def test_an_unwritable_directory_for_a_new_database_stops_before_the_run(
    tmp_path, capsys, monkeypatch, no_run
):
    (tmp_path / "bars.csv").write_text(_bars(40))
    db = tmp_path / "new" / "deeper" / "desk.db"
    real_access = os.access
    monkeypatch.setattr(command.os, "access",
                        lambda path, mode: False if str(path) == str(tmp_path) else
                        real_access(path, mode))

    code = cli.main(["--backtest", "--data", "bars.csv", "--db", str(db)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"desk: {db}: the database's directory {tmp_path} is read-only:"
        " the run could not be stored\n")
    assert not (tmp_path / "new").exists()


# -- a size the position limit can never let through -------------------------------------

SIZE_WARNING = ("desk: warning: [engine] size (0.5) is above [risk] max_position_pct (0.3):"
                " every entry will be denied\n")


def _desk_toml(tmp_path, size: float | None = None, regime: bool = False) -> None:
    engine = f"regime = {'true' if regime else 'false'}\n"
    if size is not None:
        engine += f"size = {size}\n"
    (tmp_path / "desk.toml").write_text(f"[engine]\n{engine}\n[risk]\nmax_position_pct = 0.3\n")


def test_a_size_above_the_position_limit_warns_before_the_run(tmp_path, capsys, monkeypatch):
    """`--size` above `[risk] max_position_pct`: one line naming both keys, on stderr, before
    the run starts (a spy on the run reads what was printed by then)."""
    (tmp_path / "bars.csv").write_text(_bars(40))
    _desk_toml(tmp_path)
    from engine.backtest import job

    real_run, before_run = job.run_job, []

    def spy(*args, **kwargs):
        before_run.append(capsys.readouterr().err)
        return real_run(*args, **kwargs)

    monkeypatch.setattr("engine.backtest.job.run_job", spy)

    code = cli.main(["--backtest", "--data", "bars.csv", "--db", "run.db", "--size", "0.5"])

    assert code == 0
    assert before_run == [SIZE_WARNING]
    assert capsys.readouterr().err == ""  # said once


def test_the_configured_size_warns_too_and_the_regime_softens_the_claim(tmp_path, capsys):
    (tmp_path / "bars.csv").write_text(_bars(40))
    _desk_toml(tmp_path, size=0.5, regime=True)

    code = cli.main(["--backtest", "--data", "bars.csv", "--db", "run.db"])

    assert code == 0
    assert capsys.readouterr().err == (
        "desk: warning: [engine] size (0.5) is above [risk] max_position_pct (0.3): every"
        " entry not scaled down by the regime will be denied\n")


def test_a_size_at_the_position_limit_does_not_warn(tmp_path, capsys):
    (tmp_path / "bars.csv").write_text(_bars(40))
    _desk_toml(tmp_path, size=0.3)

    assert cli.main(["--backtest", "--data", "bars.csv", "--db", "run.db"]) == 0
    assert capsys.readouterr().err == ""


# -- denials grouped by rule id -----------------------------------------------------------


def test_denials_are_summed_by_rule_id_in_the_summary_and_the_json(tmp_path, capsys):
    _desk_toml(tmp_path)

    code = cli.main(["--backtest", "--data", "sim:BTC/USDT", "--bars", "3000", "--db", "run.db",
                     "--size", "0.5", "--json", "out.json"])

    assert code == 0
    stats = json.loads((tmp_path / "out.json").read_text())["stats"]
    denied = stats["orders_denied"]
    assert denied > 1 and stats["orders_filled"] == 0
    reasons = stats["deny_reasons"]
    # Half of equity breaks the 30% position limit on every entry. The default config's
    # other caps at 30% (compliance position, concentration) and its book volatility limit
    # may deny the same orders: an order counts under every rule it breaks.
    assert reasons["max_position"]["count"] == denied
    assert set(reasons) <= {"max_position", "compliance_position", "max_concentration",
                            "max_portfolio_volatility"}
    assert all(r["count"] <= denied for r in reasons.values())
    example = reasons["max_position"]["example"]
    assert example.startswith("BTC/USDT position would be ") and "above 30.00% of equity" in example
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"denied by risk: max_position {denied:,} (e.g. {example})")
               for line in lines)


def test_the_deny_line_lists_each_rule_with_its_count_and_example():
    line = command.deny_line({
        "max_position": {"count": 1600, "example": "X position would be 5.00, above ..."},
        "max_daily_loss": {"count": 7, "example": "day P&L -51.00 below ..."},
    })
    assert line == ("denied by risk: max_position 1,600 (e.g. X position would be 5.00, above"
                    " ...), max_daily_loss 7 (e.g. day P&L -51.00 below ...)")
    assert command.deny_line({}) == ""
