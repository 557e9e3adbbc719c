"""`desk portfolio optimize` as a user runs it: real prices in, weights an independent
solver confirms out, a stored row with its audit entry, and one-line errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from desk.cli import main
from tests.engine.portfolio_builders import SP500_TAIL

ROOT = Path(__file__).resolve().parents[2]


def _desk(tmp_path, *argv: str) -> int:
    return main(["--db", str(tmp_path / "desk.db"), "portfolio", "optimize", *argv])


def _independent_max_sharpe(prices: pd.DataFrame, rf: float, cap: float) -> np.ndarray:
    """Tangency weights from pandas' returns, scikit-learn's Ledoit-Wolf and cvxpy."""
    returns = prices.pct_change().dropna()
    mu = returns.mean().to_numpy() * 252
    cov = LedoitWolf().fit(returns.to_numpy()).covariance_ * 252
    y, kappa = cp.Variable(len(mu)), cp.Variable()
    cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(cov))),
               [(mu - rf) @ y == 1, cp.sum(y) == kappa, y >= 0, y <= cap * kappa]
               ).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12,
                       tol_feas=1e-12)
    return y.value / kappa.value


def test_max_sharpe_on_real_prices_matches_an_independent_solver(tmp_path, capsys):
    out = tmp_path / "w.json"
    assert _desk(tmp_path, "--data", str(SP500_TAIL), "--json", str(out)) == 0
    document = json.loads(out.read_text())
    for key in ("weights", "expected_return", "volatility", "sharpe", "cvar_95",
                "risk_contributions"):
        assert key in document
    prices = pd.read_csv(SP500_TAIL, index_col="date", parse_dates=True)
    expected = _independent_max_sharpe(prices, 0.02, 0.3)
    ours = np.array([document["weights"][a] for a in prices.columns])
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    printed = capsys.readouterr().out
    top = prices.columns[int(np.argmax(expected))]
    assert top in printed and "stored as optimization #1" in printed


def test_each_result_is_stored_with_an_audit_entry(tmp_path):
    assert _desk(tmp_path, "--data", str(SP500_TAIL), "--method", "min_cvar") == 0
    assert _desk(tmp_path, "--data", str(SP500_TAIL), "--method", "risk_parity") == 0
    conn = sqlite3.connect(tmp_path / "desk.db")
    rows = conn.execute("SELECT id, method, weights_json FROM portfolio_optimizations"
                        " ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(1, "min_cvar"), (2, "risk_parity")]
    assert sum(json.loads(rows[1][2]).values()) == pytest.approx(1.0)
    audits = conn.execute("SELECT payload FROM audit_entries WHERE kind = 'portfolio.optimized'"
                          " ORDER BY seq").fetchall()
    assert [json.loads(p)["id"] for (p,) in audits] == [1, 2]


def test_frontier_is_printed_and_charted_in_a_self_contained_report(tmp_path, capsys):
    report, out = tmp_path / "r.html", tmp_path / "f.json"
    assert _desk(tmp_path, "--data", str(SP500_TAIL), "--frontier", "--points", "6",
                 "--report", str(report), "--json", str(out)) == 0
    assert "Efficient frontier" in capsys.readouterr().out
    frontier = json.loads(out.read_text())["frontier"]
    assert len(frontier) == 6
    vols = [p["volatility"] for p in frontier]
    assert vols == sorted(vols)
    best = json.loads(out.read_text())["sharpe"]
    assert max(p["sharpe"] for p in frontier) <= best + 1e-9
    html = report.read_text()
    assert "http" not in html.replace("http://www.w3.org", "") and "<script" not in html
    svg = html[html.index("<svg"): html.index("</svg>") + 6]
    assert ElementTree.fromstring(svg).tag.endswith("svg")


def test_sim_prices_and_several_ohlcv_files_are_accepted(tmp_path):
    assert _desk(tmp_path, "--data", "sim:AAA/USDT,BBB/USDT,CCC/USDT,DDD/USDT", "--bars",
                 "500", "--method", "min_vol", "--json", str(tmp_path / "s.json")) == 0
    assert set(json.loads((tmp_path / "s.json").read_text())["weights"]) == {
        "AAA/USDT", "BBB/USDT", "CCC/USDT", "DDD/USDT"}
    prices = pd.read_csv(SP500_TAIL, index_col="date")
    files = []
    for name in ("KO", "PEP", "WMT", "PG"):
        frame = pd.DataFrame({"date": prices.index, "open": prices[name], "high": prices[name],
                              "low": prices[name], "close": prices[name], "volume": 1.0})
        files.append(tmp_path / f"{name.lower()}.csv")
        frame.to_csv(files[-1], index=False)
    assert _desk(tmp_path, "--data", ",".join(map(str, files[:2])), "--data", str(files[2]),
                 "--data", str(files[3]), "--method", "equal",
                 "--json", str(tmp_path / "o.json")) == 0
    weights = json.loads((tmp_path / "o.json").read_text())["weights"]
    assert weights == {"KO": 0.25, "PEP": 0.25, "WMT": 0.25, "PG": 0.25}


@pytest.mark.parametrize(("argv", "message"), [
    (["--max-weight", "abc"], "desk: --max-weight: expected a number, got abc"),
    (["--max-weight", "0.04"], "desk: max_weight: 0.04 x 20 assets = 0.8 < 1"),
    (["--json", "missing/out.json"], "desk: --json missing/out.json: the folder missing"),
    (["--start", "2030-01-01"], "no rows between 2030-01-01 and None"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, argv, message):
    result = subprocess.run(
        [sys.executable, "-m", "desk.cli", "--db", str(tmp_path / "d.db"), "portfolio",
         "optimize", "--data", str(SP500_TAIL), *argv],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "d.db").exists()
    assert not (tmp_path / "missing").exists()
