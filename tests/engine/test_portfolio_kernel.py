"""Portfolio mode runs on the one kernel: the live engine stepped over a replay sends the
same basket orders, at the same bars, as the backtest fed the same bars; and a basket order
that breaks a risk limit is denied before any broker sees it."""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal

import pandas as pd
import pytest

from engine.backtest.job import build_spec
from engine.backtest.portfolio_loop import run_portfolio_loop
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.live.build import build_live

SOURCE = "sim:BTC/USDT,ETH/USDT,SOL/USDT"
HISTORY = 300


def _config(tmp_path, **portfolio):
    return config_from_dict({
        "store": {"path": str(tmp_path / "desk.db")},
        "audit": {"key_path": str(tmp_path / "audit.pem")},
        "feed": {"kind": "replay", "source": SOURCE, "speed": 0, "history_bars": HISTORY},
        "engine": {"approval": "auto", "regime": False},
        "execution": {"mode": "market"},
        "risk": {"max_position_pct": 0.5, "max_correlation": 1.0,
                 "max_concentration": 1.0},
        "portfolio": {"enabled": True,
                      "rebalancing": {"scheme": "inverse_vol", "window": 120,
                                      "mode": "threshold", "threshold": 0.02,
                                      "relative_threshold": 0.05, "period_days": 2,
                                      "min_interval_days": 0.25, "max_weight": 0.5},
                      "rotation": {"top_n": 3, "lookback": 48}, **portfolio},
    })


def _live_fills(db) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT symbol, side, qty, price, ts FROM fills ORDER BY id")
        return [(s, side, Decimal(q), Decimal(p), ts[:19]) for s, side, q, p, ts in rows]


def test_the_live_engine_sends_the_backtests_baskets(tmp_path):
    cfg = _config(tmp_path)
    engine = build_live(cfg)
    engine.start()
    while engine.step():
        pass
    live_journal = list(engine.kernel.portfolio_mode.journal)
    engine.stop()
    frames = load_source(SOURCE).frames
    prices = pd.DataFrame({s: f["close"] for s, f in frames.items()})
    spec = build_spec(cfg)
    kernel, *_rest, fills = run_portfolio_loop(
        prices, spec.portfolio, risk_limits=spec.risk_limits, execution=cfg.execution,
        warmup=HISTORY, frames=frames)
    live = _live_fills(tmp_path / "desk.db")
    backtest = [(f["symbol"], f["side"], f["qty"], f["price"], f["ts"][:19]) for f in fills]
    rebalances = [e for e in live_journal if e["kind"] == "rebalance"]
    assert len(rebalances) >= 5 and len(live) >= 10
    assert [e["ts"] for e in live_journal] == [e["ts"] for e in kernel.portfolio_mode.journal]
    assert len(live) == len(backtest)
    for ours, theirs in zip(live, backtest, strict=True):
        assert ours[0::4] == theirs[0::4] and ours[1] == theirs[1]
        assert math.isclose(float(ours[2]), theirs[2], rel_tol=1e-12)
        assert math.isclose(float(ours[3]), theirs[3], rel_tol=1e-12)


def test_a_basket_order_past_a_risk_limit_is_denied_before_the_broker(tmp_path):
    from engine.trading.risk import RiskLimits

    cfg = _config(tmp_path)
    frames = load_source(SOURCE).frames
    prices = pd.DataFrame({s: f["close"] for s, f in frames.items()})
    spec = build_spec(cfg)
    # Every basket order is under the gate's minimum order notional.
    tight = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                       min_order_notional=Decimal("1000000000"))
    kernel, equity, weights, _drift, fills = run_portfolio_loop(
        prices, spec.portfolio, risk_limits=tight, warmup=HISTORY, frames=frames)
    stats = kernel.trader.stats
    assert stats.proposed > 0 and stats.denied == stats.proposed
    assert "min_notional" in stats.deny_summary()
    assert not fills and stats.submitted == 0  # nothing reached the broker
    assert weights.max() == 0.0


@pytest.mark.parametrize("approval", ["manual"])
def test_in_manual_mode_the_basket_waits_for_approval(tmp_path, approval):
    cfg = _config(tmp_path)
    frames = load_source(SOURCE).frames
    prices = pd.DataFrame({s: f["close"] for s, f in frames.items()})
    spec = build_spec(cfg)
    kernel, *_rest, fills = run_portfolio_loop(
        prices, spec.portfolio, risk_limits=spec.risk_limits, warmup=HISTORY, frames=frames,
        approval=approval)
    proposals = list(kernel.trader.proposals.values())
    # The first basket waits: nothing filled, and no second basket was decided meanwhile.
    assert not fills and proposals
    assert {p.order.strategy for p in proposals} == {"portfolio"}
    assert len({p.order.client_order_id.rsplit("-", 1)[0] for p in proposals}) == 1
    assert [e["kind"] for e in kernel.portfolio_mode.journal].count("rebalance") == 1


def test_the_kill_switch_halts_the_book_and_nothing_more_is_proposed():
    import numpy as np

    from engine.portfolio.backtest import PortfolioBacktestSettings
    from engine.portfolio.drawdown_control import DrawdownPolicy
    from engine.portfolio.hedging import HedgePolicy
    from engine.portfolio.rebalance import RebalancePolicy
    from engine.portfolio.targets import TargetRules
    from engine.trading.risk import RiskLimits
    from tests.engine.portfolio_builders import sp500_prices

    prices = sp500_prices().iloc[:400, :6].copy()
    prices.iloc[200:240] = prices.iloc[200:240].to_numpy() * np.linspace(1, 0.7, 40)[:, None]
    prices.iloc[240:] = prices.iloc[239].to_numpy()
    settings = PortfolioBacktestSettings(
        rules=TargetRules(scheme="equal", window=60, max_weight=1.0, rotation_method="momentum",
                          lookback=20, top_n=6, max_assets=6, risk_per_asset=1.0),
        rebalance=RebalancePolicy(mode="periodic", period_days=7, fee=0.0, slippage_bps=0.0),
        hedge=HedgePolicy(enabled=False),
        drawdown=DrawdownPolicy(warning=0.98, critical=0.99, warning_scale=1.0,
                                critical_scale=1.0), min_position_size=0.0)
    limits = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=0.15,
                        min_order_notional=Decimal(0))
    kernel, *_rest = run_portfolio_loop(prices, settings, risk_limits=limits)
    journal = kernel.portfolio_mode.journal
    kinds = [e["kind"] for e in journal]
    assert "halted" in kinds and kernel.gate.kill_switch
    halted_at = kinds.index("halted")
    assert "rebalance" in kinds[:halted_at] and "rebalance" not in kinds[halted_at:]
    assert kernel.trader.stats.denied == 0  # nothing was sent into the switch
