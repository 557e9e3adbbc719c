"""`desk montecarlo` and `desk stress` as a user runs them: on a returns file, on a real
backtest run, with bad input as one line and exit 2, and output paths checked first."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desk.cli import main

KEYS = {"initial", "final_value", "probability_of_profit", "probability_of_loss",
        "max_drawdown", "var", "cvar", "method", "model", "paths", "horizon", "seed"}


@pytest.fixture
def returns_csv(tmp_path):
    r = np.random.default_rng(0).normal(0.0004, 0.01, 600)
    path = tmp_path / "returns.csv"
    path.write_text("date,return\n" + "\n".join(
        f"2020-01-{i % 28 + 1:02d},{x:.8f}" for i, x in enumerate(r)) + "\n")
    return path


def test_montecarlo_on_a_returns_file_writes_the_documented_keys_and_is_reproducible(
        returns_csv, tmp_path, capsys):
    outs = []
    for name in ("a.json", "b.json"):
        code = main(["montecarlo", "--returns", str(returns_csv), "--method", "bootstrap",
                     "--paths", "2000", "--horizon", "100", "--seed", "7", "--capital",
                     "50000", "--json", str(tmp_path / name), "--report",
                     str(tmp_path / "mc.html")])
        assert code == 0
        outs.append(json.loads((tmp_path / name).read_text()))
    assert outs[0] == outs[1]
    document = outs[0]
    assert set(document) == KEYS
    assert document["initial"] == 50000.0 and document["paths"] == 2000
    assert set(document["final_value"]["quantiles"]) == {"1", "5", "25", "50", "75", "95",
                                                         "99"}
    html = (tmp_path / "mc.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3
    assert "Monte Carlo bootstrap" in capsys.readouterr().out


def test_a_bad_returns_row_is_one_line_naming_the_line_and_nothing_is_written(
        tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("0.01\n0.02\nabc\n")
    code = main(["montecarlo", "--returns", str(bad), "--method", "bootstrap", "--json",
                 str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "line 3" in err
    assert not (tmp_path / "out.json").exists()


def test_an_output_path_in_a_missing_folder_stops_before_the_work(returns_csv, tmp_path,
                                                                   capsys):
    code = main(["montecarlo", "--returns", str(returns_csv), "--method", "block", "--json",
                 str(tmp_path / "nope" / "out.json")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and "Monte Carlo" not in err


def test_trades_needs_a_run(returns_csv, capsys):
    assert main(["montecarlo", "--returns", str(returns_csv), "--method", "trades"]) == 2
    assert "--run ID" in capsys.readouterr().err


@pytest.fixture(scope="module")
def run_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CONFIG_HOME", str(tmp / "xdg-config"))
    mp.setenv("XDG_DATA_HOME", str(tmp / "xdg-data"))
    db = tmp / "run.db"
    assert main(["--backtest", "--data", "sim:BTC/USDT,ETH/USDT", "--bars", "2000",
                 "--freq", "1h", "--db", str(db)]) == 0
    yield db, tmp
    mp.undo()


@pytest.mark.parametrize("method", ["block", "trades"])
def test_montecarlo_on_a_stored_backtest_run(run_db, method, capsys):
    db, tmp = run_db
    out = tmp / f"{method}.json"
    assert main(["montecarlo", "--run", "1", "--method", method, "--paths", "1000",
                 "--db", str(db), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["method"] == method
    if method == "trades":
        q = document["final_value"]["quantiles"]
        assert q["1"] == q["99"]  # a reshuffle keeps the sum of the trades
    assert main(["montecarlo", "--run", "99", "--method", method, "--db", str(db)]) == 2
    assert "--run 99: no stored backtest run" in capsys.readouterr().err


@pytest.mark.parametrize("book", ["final", "peak"])
def test_stress_on_a_stored_backtest_run(run_db, book, capsys):
    db, tmp = run_db
    out = tmp / f"stress-{book}.json"
    assert main(["stress", "--run", "1", "--book", book, "--db", str(db), "--json",
                 str(out)]) == 0
    document = json.loads(out.read_text())
    names = [s["scenario"] for s in document["scenarios"]]
    assert names[:5] == ["2008 crisis", "COVID crash", "flash crash", "correction",
                         "stagflation"]
    exposure = sum(document["exposures"].values())
    for scenario in document["scenarios"]:
        assert scenario["pnl"] == pytest.approx(exposure * scenario["shock"], abs=0.02)
    assert "worst:" in capsys.readouterr().out
    if book == "peak":  # the largest book the run held is never empty for a run that traded
        assert document["exposures"] and document["scenarios"][0]["pnl"] < 0


@pytest.mark.parametrize("command", [["stress", "--live"], ["stress", "--run", "1"],
                                     ["montecarlo", "--run", "1", "--method", "block"]])
def test_a_missing_database_is_one_line_and_nothing_is_created(tmp_path, command, capsys):
    db = tmp_path / "none.db"
    assert main([*command, "--db", str(db)]) == 2
    assert "no such database" in capsys.readouterr().err
    assert not db.exists()


def test_cluster_gives_the_local_answer_through_the_command(returns_csv, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    args = ["montecarlo", "--returns", str(returns_csv), "--method", "block", "--paths",
            "2500", "--horizon", "60", "--seed", "3"]
    assert main([*args, "--json", str(tmp_path / "local.json")]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        assert main([*args, "--cluster", cluster.scheduler_address, "--json",
                     str(tmp_path / "cluster.json")]) == 0
    assert (json.loads((tmp_path / "local.json").read_text())
            == json.loads((tmp_path / "cluster.json").read_text()))


def test_a_given_block_length_spares_importing_arch(returns_csv, tmp_path):
    import subprocess
    import sys

    code = ("import sys; from desk.cli import main; "
            f"rc = main(['montecarlo', '--returns', {str(returns_csv)!r}, '--method', 'block', "
            "'--block-length', '12', '--paths', '500']); "
            "print(rc, 'arch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "0 False"
    assert main(["montecarlo", "--returns", str(returns_csv), "--method", "block",
                 "--block-length", "0.5"]) == 2
