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


def test_forgetting_ended_sessions_changes_no_trade_and_no_execution_figure(monkeypatch):
    """A backtest's store drops each ended session's rows (memory at high turnover); the
    same TWAP run with a store that keeps everything trades the same and reports the same
    shortfall and VWAP gap, and the forgetting store really is empty of ended sessions."""
    import engine.backtest.run as run_module
    from engine.adapters.memory import MemoryExecutionStore

    frame = load_source("sim:BTC/USDT", bars=1500, seed=3, freq="1h").frames["BTC/USDT"]
    strategy = create("sma_cross")
    spec = BacktestSpec(
        strategies={strategy.id: strategy}, ensemble=None, cash=Decimal(100_000),
        fee=Decimal("0.001"), slippage_bps=Decimal(5), size=0.5, allow_short=False,
        risk_limits=LOOSE, regime=False, stops=False, label="twap", execution=twap(),
    )
    stores: list[MemoryExecutionStore] = []

    def store_keeping(keep_ended: bool):
        def make(_spec):
            from contextlib import nullcontext

            stores.append(MemoryExecutionStore(keep_audit=False, keep_ended=keep_ended))
            return nullcontext(stores[-1])
        return make

    monkeypatch.setattr(run_module, "executor_store", store_keeping(False))
    forgetting = run_backtest({"BTC/USDT": frame}, spec)
    monkeypatch.setattr(run_module, "executor_store", store_keeping(True))
    keeping = run_backtest({"BTC/USDT": frame}, spec)

    assert len(forgetting.trades) >= 2
    assert forgetting.trades == keeping.trades
    assert forgetting.stats["execution"] == keeping.stats["execution"]
    ended = [sid for sid in stores[-1].session_ids()
             if stores[-1].get_session(sid)["status"] != "running"]
    assert len(ended) >= 2  # the keeping store holds them ...
    # ... the forgetting one not (the last is dropped when a next unit of work would start)
    assert not any(stores[0].get_session(sid) for sid in ended[:-1])
