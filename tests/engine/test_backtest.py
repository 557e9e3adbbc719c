"""The backtest against a second, independent computation: a plain bar-by-bar loop."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import numpy as np
import pytest

from engine.backtest.run import BacktestSpec, run_backtest
from engine.data.sources import load_source
from engine.signals.ensemble import EnsembleManager
from engine.signals.pipeline import plan_symbol
from engine.signals.strategies.base import stance
from engine.signals.strategies.registry import create
from engine.trading.risk import RiskLimits
from engine.types import Side

LOOSE = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                   min_order_notional=Decimal(0))


def _spec(strategy, **changes) -> BacktestSpec:
    values = dict(strategies={strategy.id: strategy}, ensemble=None, cash=Decimal(100_000),
                  fee=Decimal("0.001"), slippage_bps=Decimal(5), size=0.5, allow_short=False,
                  risk_limits=LOOSE, regime=False, stops=False, label=strategy.id)
    values.update(changes)
    return BacktestSpec(**values)


def _reference(frame, side: np.ndarray, *, cash: float, fee: float, slip: float, size: float,
               allow_short: bool) -> np.ndarray:
    """Equity per bar from a plain loop over every bar: decide on a close, fill at the next
    open. Written without any of the engine's code."""
    o, c = frame["open"].to_numpy(), frame["close"].to_numpy()
    qty, pending, equity = 0.0, None, []
    for t in range(len(c)):
        if pending is not None:
            delta = pending - qty
            price = o[t] * (1 + slip if delta > 0 else 1 - slip)
            cash -= delta * price + abs(delta) * price * fee
            qty, pending = pending, None
        if t == len(c) - 1 and qty:
            cash += qty * c[t] - abs(qty) * c[t] * fee
            qty = 0.0
        equity.append(cash + qty * c[t])
        prev = side[t - 1] if t else 0
        if side[t] != prev and side[t] != 0 and t < len(c) - 1:
            value = cash + qty * c[t]
            target = float(Decimal(repr(float(value * size / c[t]))).quantize(
                Decimal("1e-8"), rounding=ROUND_DOWN))
            if side[t] > 0 and qty <= 0:
                pending = target
            elif side[t] < 0 and qty > 0:
                pending = -target if allow_short else 0.0
            elif side[t] < 0 and qty == 0 and allow_short:
                pending = -target
    return np.array(equity)


@pytest.mark.parametrize("name", ["sma_cross", "rsi", "breakout"])
def test_equity_matches_a_plain_loop_on_real_data(name):
    frame = load_source("arch:sp500").frames["SP500"]
    strategy = create(name)
    result = run_backtest({"SP500": frame}, _spec(strategy))
    held = stance(strategy.compute(frame)).side
    expected = _reference(frame, held, cash=100_000, fee=0.001, slip=0.0005, size=0.5,
                          allow_short=False)
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-9)
    assert result.trades, "the strategy should trade on 20 years of data"


def test_shorts_follow_sells_when_allowed():
    frame = load_source("sim:BTC/USDT", bars=3000, seed=3, freq="1h").frames["BTC/USDT"]
    strategy = create("ema_cross")
    result = run_backtest({"BTC/USDT": frame}, _spec(strategy, allow_short=True))
    held = stance(strategy.compute(frame)).side
    expected = _reference(frame, held, cash=100_000, fee=0.001, slip=0.0005, size=0.5,
                          allow_short=True)
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-9)
    assert {t.side for t in result.trades} == {"long", "short"}


def test_trade_pnl_adds_up_to_the_equity_change():
    frame = load_source("sim:ETH/USDT", bars=4000, seed=11, freq="1h").frames["ETH/USDT"]
    result = run_backtest({"ETH/USDT": frame}, _spec(create("sma_cross"), regime=True,
                                                        stops=True))
    total = sum(t.pnl for t in result.trades)
    assert result.stats["stops_hit"] > 0
    assert float(total) == pytest.approx(result.equity.iloc[-1] - 100_000, abs=1e-6)


def test_a_position_limit_below_the_size_denies_every_entry():
    frame = load_source("arch:sp500").frames["SP500"]
    tight = RiskLimits(max_position_pct=0.05, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                       min_order_notional=Decimal(0))
    result = run_backtest({"SP500": frame}, _spec(create("sma_cross"), risk_limits=tight))
    assert result.trades == []
    assert result.stats["orders_filled"] == 0
    assert result.stats["orders_denied"] > 0
    # Grouped by rule id: one entry, counting every denial, with one example message.
    reasons = result.stats["deny_reasons"]
    assert list(reasons) == ["max_position"]
    assert reasons["max_position"]["count"] == result.stats["orders_denied"]
    assert "above 5.00% of equity" in reasons["max_position"]["example"]
    assert result.equity.iloc[-1] == 100_000


def test_no_look_ahead_a_shorter_history_gives_the_same_past():
    """Cutting the data at bar k must not change any decision before k: equity agrees up to
    the bar before the cut (the last bar differs only by the final close-out)."""
    frames = load_source("sim:BTC/USDT,ETH/USDT", bars=3000, seed=5, freq="1h").frames
    spec = BacktestSpec(
        strategies={"sma_cross": create("sma_cross"), "breakout": create("breakout")},
        ensemble=EnsembleManager("weighted_vote", [("sma_cross", 1.0), ("breakout", 1.0)],
                                 confidence_threshold=0.1, vote_ratio=0.5),
        cash=Decimal(100_000), fee=Decimal("0.001"), slippage_bps=Decimal(5),
        size=0.2, allow_short=False, risk_limits=RiskLimits(), regime=True, stops=True,
    )
    full = run_backtest(frames, spec)
    k = 2200
    cut = run_backtest({s: f.iloc[:k] for s, f in frames.items()}, spec)
    np.testing.assert_allclose(cut.equity.to_numpy()[: k - 1], full.equity.to_numpy()[: k - 1],
                               rtol=1e-12)


def test_recorded_ensemble_decisions_are_the_decisions_traded():
    """Each recorded decision (votes, weights, confidence) names the side the vectorized
    ensemble took at that bar, regime tilt included."""
    frames = load_source("sim:BTC/USDT", bars=4000, seed=9, freq="1h").frames
    ensemble = EnsembleManager("weighted_vote", [("sma_cross", 1.0), ("rsi", 1.0),
                                                 ("mean_reversion", 1.0)],
                               confidence_threshold=0.1, vote_ratio=0.5)
    strategies = {sid: create(sid) for sid in ("sma_cross", "rsi", "mean_reversion")}
    spec = _spec(create("sma_cross"), strategies=strategies, ensemble=ensemble, regime=True,
                 regime_window=500)
    result = run_backtest(frames, spec)
    plan = plan_symbol(frames["BTC/USDT"], strategies, ensemble, regime_window=500)
    assert plan.weights is not None  # sideways bars tilt the weights here
    index = {ts.isoformat(): t for t, ts in enumerate(frames["BTC/USDT"].index)}
    assert len(result.decisions) > 10
    for payload in result.decisions:
        t = index[payload["ts"]]
        assert payload["decision"] == Side(int(plan.decision[t])).name
        assert payload["weights"]["rsi"] == pytest.approx(plan.weights[1, t])
