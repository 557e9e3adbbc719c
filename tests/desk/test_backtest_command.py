"""`desk --backtest` refuses a database it cannot write before the run, and says when the
data is too short for any strategy to trade."""

from __future__ import annotations

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
