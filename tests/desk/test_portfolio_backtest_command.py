"""`desk --backtest --portfolio`: a threshold-rebalanced risk-parity book over 12 assets of
real prices, with its summary, JSON, stored run and report."""

from __future__ import annotations

import json
import sqlite3
from xml.etree import ElementTree

from desk.cli import main
from tests.engine.portfolio_builders import SP500_TAIL

CONFIG = """
[portfolio.rotation]
top_n = 12
[portfolio.rebalancing]
window = 120
[portfolio.allocation]
max_assets = 12
"""


def test_risk_parity_threshold_book_runs_with_a_report(tmp_path, capsys):
    config = tmp_path / "desk.toml"
    config.write_text(CONFIG)
    out, report = tmp_path / "p.json", tmp_path / "p.html"
    code = main(["--config", str(config), "--db", str(tmp_path / "d.db"), "--backtest",
                 "--portfolio", "--data", str(SP500_TAIL), "--scheme", "risk_parity",
                 "--rebalance", "threshold", "--json", str(out), "--report", str(report)])
    assert code == 0
    printed = capsys.readouterr().out
    for label in ("Turnover", "Costs", "Rebalances", "Hedge steps in", "Average holdings"):
        assert label in printed
    document = json.loads(out.read_text())
    metrics = document["metrics"]
    assert metrics["rebalances"] > 0 and 10 < metrics["average_holdings"] <= 12
    assert {"turnover", "costs", "hedges"} <= set(metrics)
    html = report.read_text()
    charts = [html[i: html.index("</svg>", i) + 6] for i in range(len(html))
              if html.startswith("<svg", i)]
    assert len(charts) == 3  # equity, stacked weights, drift
    for chart in charts:
        ElementTree.fromstring(chart)
    assert "<script" not in html
    run = sqlite3.connect(tmp_path / "d.db").execute(
        "SELECT id, data_source FROM backtest_runs").fetchall()
    assert run == [(document["run_id"], str(SP500_TAIL))]
    # The run's trades and targets are a virtual portfolio that exports like any other.
    exported = tmp_path / "book.json"
    name = f"backtest-{document['run_id']}"
    assert main(["--db", str(tmp_path / "d.db"), "portfolio", "export", name, "--out",
                 str(exported)]) == 0
    book = json.loads(exported.read_text())
    assert len(book["trades"]) > metrics["rebalances"] and book["allocations"]
    # Float round-off of the book can leave dust on a closed position: ignore under 1e-9.
    held = {p["symbol"] for p in book["positions"] if float(p["qty"]) > 1e-9}
    assert held == {a for a, w in document["final_weights"].items() if w > 0}


def test_no_data_is_one_line(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "d.db"), "--backtest", "--portfolio"]) == 2
    assert capsys.readouterr().err == "desk: --backtest --portfolio needs --data PRICES\n"
