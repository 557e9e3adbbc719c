"""Executors in backtests are journaled in memory: a TWAP backtest writes no file."""

from __future__ import annotations

import tempfile
from decimal import Decimal

from engine.backtest.run import BacktestSpec, run_backtest
from engine.config.schema import (
    DcaExecution,
    ExecutionConfig,
    SmartExecution,
    TwapExecution,
    VwapExecution,
)
from engine.data.sources import load_source
from engine.signals.strategies.registry import create
from engine.trading.risk import RiskLimits

LOOSE = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                   min_order_notional=Decimal(0))


def twap() -> ExecutionConfig:
    return ExecutionConfig(
        mode="twap", catch_up="run",
        smart=SmartExecution(Decimal("10000"), 5, 2.0, "market"),
        twap=TwapExecution(180.0, 3, "market"),
        vwap=VwapExecution(180.0, 3, 60.0, "market"),
        dca=DcaExecution(60.0, 3, "market"),
    )


def test_a_twap_backtest_runs_its_sessions_without_a_temporary_database(monkeypatch, tmp_path):
    def no_scratch_files(*_args, **_kwargs):
        raise AssertionError("a backtest must not create temporary files")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_scratch_files)
    monkeypatch.setattr(tempfile, "mkdtemp", no_scratch_files)
    monkeypatch.chdir(tmp_path)
    frame = load_source("sim:BTC/USDT", bars=1500, seed=3, freq="1h").frames["BTC/USDT"]
    strategy = create("sma_cross")
    spec = BacktestSpec(
        strategies={strategy.id: strategy}, ensemble=None, cash=Decimal(100_000),
        fee=Decimal("0.001"), slippage_bps=Decimal(5), size=0.5, allow_short=False,
        risk_limits=LOOSE, regime=False, stops=False, label="twap", execution=twap(),
    )
    result = run_backtest({"BTC/USDT": frame}, spec)
    assert result.trades, "the run must trade for the test to mean anything"
    quality = result.stats["execution"]
    assert quality["mode"] == "twap" and quality["sessions"] >= 2
    assert quality["avg_shortfall_bps"] is not None
    assert list(tmp_path.iterdir()) == []
