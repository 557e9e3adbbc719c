"""[metrics] risk_free_rate reaches every figure an optimization or a portfolio backtest
reports, not only the backtest's own metrics."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from engine.config.schema import config_from_dict
from engine.optimize.run import OptimizeRequest, optimize

RATE = 0.07  # not the packaged 0.02
DATA = ["--data", "sim:BTC/USDT", "--bars", "1200", "--seed", "3"]


def _sharpe_by_hand(equity, rate: float, ppy: float | None = None) -> float:
    """engine.trading.metrics' definition: per-bar excess over (1 + rate)^(1/ppy) - 1, with
    `ppy` bars a year (by default: bars over the calendar span)."""
    values = equity.to_numpy(dtype=np.float64)
    r = values[1:] / values[:-1] - 1.0
    if ppy is None:
        years = (equity.index[-1] - equity.index[0]).total_seconds() / (365.25 * 86400)
        ppy = (len(values) - 1) / years
    rf = (1.0 + rate) ** (1.0 / ppy) - 1.0
    return float((r.mean() - rf) / r.std(ddof=1) * math.sqrt(ppy))


def test_the_reported_fitness_equals_a_rerun_at_the_configured_rate(tmp_path):
    from desk.cli import main

    config = tmp_path / "desk.toml"
    config.write_text(f"[metrics]\nrisk_free_rate = {RATE}\n")
    common = ["--config", str(config), "--db", str(tmp_path / "desk.db"), *DATA]
    assert main(["optimize", *common, "--strategy", "sma_cross", "--param", "fast=3:20",
                 "--param", "slow=21:60", "--method", "random", "--trials", "4",
                 "--workers", "1", "--json", str(tmp_path / "opt.json")]) == 0
    best = json.loads((tmp_path / "opt.json").read_text())["best"]
    spec = "sma_cross:" + ",".join(f"{k}={v}" for k, v in best["params"].items())
    assert main(["--backtest", *common, "--strategy", spec, "--json",
                 str(tmp_path / "bt.json")]) == 0
    rerun = json.loads((tmp_path / "bt.json").read_text())["metrics"]
    assert best["metrics"] == rerun and best["fitness"] == rerun["sharpe"]
    assert rerun["risk_free_rate"] == RATE


def test_walk_forward_windows_and_the_stitched_curve_use_the_configured_rate(tmp_path):
    cfg = config_from_dict({
        "store": {"path": str(tmp_path / "desk.db")}, "metrics": {"risk_free_rate": RATE},
        "optimization": {"sensitivity_points": 0, "wfo": {
            "unit": "bars", "train": 300, "test": 200, "min_observations": 100,
            "inner_method": "random"}}})
    outcome = optimize(cfg, OptimizeRequest(
        data="sim:BTC/USDT", bars=1200, seed=3, strategy="sma_cross",
        params=("fast=3:20", "slow=21:60"), method="wfo", trials=2, workers=1))
    doc = outcome.document()
    for window in doc["windows"]:
        assert window["in_sample"]["risk_free_rate"] == RATE
        assert window["out_of_sample"]["risk_free_rate"] == RATE
    stitched = doc["out_of_sample"]["metrics"]
    assert stitched["risk_free_rate"] == RATE
    by_hand = _sharpe_by_hand(outcome.extras["_equity"], RATE)
    assert stitched["sharpe"] == pytest.approx(by_hand, rel=1e-9)
    assert abs(by_hand - _sharpe_by_hand(outcome.extras["_equity"], 0.02)) > 1e-3


def test_the_portfolio_backtest_reads_the_rate_of_its_settings():
    from engine.portfolio.backtest import run_portfolio_backtest
    from engine.portfolio.inputs import periods_per_year
    from tests.engine.portfolio_builders import sp500_prices
    from tests.engine.test_portfolio_backtest import _settings

    prices = sp500_prices().iloc[:400, :4]
    base = _settings()
    settings = dataclasses.replace(base, rules=dataclasses.replace(base.rules, rf=RATE))
    result = run_portfolio_backtest(prices, settings)
    assert result.summary["risk_free_rate"] == RATE
    ppy = periods_per_year(prices.index)  # the portfolio book's own year of bars
    assert result.summary["sharpe"] == pytest.approx(
        _sharpe_by_hand(result.equity, RATE, ppy), rel=1e-9)


def test_the_report_benchmark_uses_the_run_rate():
    """The buy-and-hold beside a run in its report: Sharpe on the run's own footing."""
    import pandas as pd

    from engine.backtest.report_data import buy_and_hold, report_data
    from tests.engine.test_report_data import frame

    closes = 100.0 * np.exp(np.cumsum(np.random.default_rng(4).normal(3e-4, 0.01, 300)))
    frames = {"A": frame(closes)}
    benchmark = report_data(frames, 10_000.0, risk_free_rate=RATE)["benchmark"]["metrics"]
    assert benchmark["risk_free_rate"] == RATE
    curve = buy_and_hold(frames, 10_000.0)
    assert isinstance(curve, pd.Series)
    assert benchmark["sharpe"] == pytest.approx(_sharpe_by_hand(curve, RATE), rel=1e-9)
