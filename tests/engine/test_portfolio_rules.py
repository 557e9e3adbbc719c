"""Rebalancing, hedging, the drawdown controller and rotation on synthetic paths that
cross their triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.portfolio.drawdown_control import (
    DrawdownPolicy,
    controller_state,
    drawdown_from_peak,
)
from engine.portfolio.hedging import HedgePolicy, MarketConditions, apply_hedge, hedge_step
from engine.portfolio.rebalance import RebalancePolicy, decide_rebalance, rebalance_orders
from engine.portfolio.rotation import momentum_by_asset, select_assets
from engine.signals.indicators import adx

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
TARGET = {"A": 0.5, "B": 0.3, "C": 0.2}


def _run(policy, current_on_day, days, **kwargs):
    """Days on which the policy rebalances, the book put back on target when it does."""
    last, done = None, []
    for day in range(days):
        now = DAY0 + timedelta(days=day)
        decision = decide_rebalance(now, last, current_on_day(day, last), TARGET, policy,
                                    equity=100_000.0, **kwargs)
        if decision.act:
            last = now
            done.append(day)
    return done


def _drifting(per_day):
    """Weights drifting away from target at `per_day` a day since the last rebalance."""
    def current(day, last):
        since = day if last is None else day - (last - DAY0).days
        gap = per_day * since
        return {"A": 0.5 + gap, "B": 0.3 - gap / 2, "C": 0.2 - gap / 2}
    return current


def test_periodic_rebalances_on_schedule():
    policy = RebalancePolicy(mode="periodic", period_days=7, min_interval_days=1)
    assert _run(policy, _drifting(0.001), 40) == [1, 8, 15, 22, 29, 36]


def test_the_first_periodic_allocation_is_at_once():
    policy = RebalancePolicy(mode="periodic", period_days=7)
    decision = decide_rebalance(DAY0, None, {}, TARGET, policy, equity=1e5)
    assert decision.act and decision.reason == "first allocation"
    assert decision.turnover == pytest.approx(1.0)


def test_threshold_rebalances_only_past_the_threshold():
    # A drifts 1% a day; the absolute threshold 5% is passed on the 6th day after each
    # rebalance (the relative one, 20% of 0.5 = 10%, later).
    policy = RebalancePolicy(mode="threshold", threshold=0.05, relative_threshold=1.0,
                             min_interval_days=0)
    days = _run(policy, _drifting(0.01), 30)
    assert days == [6, 12, 18, 24]
    exact = decide_rebalance(DAY0, None, {"A": 0.55, "B": 0.275, "C": 0.175}, TARGET, policy,
                             equity=1e5)
    assert not exact.act and exact.reason == "within thresholds"


def test_relative_threshold_catches_a_small_target():
    policy = RebalancePolicy(mode="threshold", threshold=0.05, relative_threshold=0.20)
    current = {"A": 0.53, "B": 0.31, "C": 0.16}  # C is 20% under its 0.2 target... and 0.04
    decision = decide_rebalance(DAY0, None, current, TARGET, policy, equity=1e5)
    assert not decision.act
    current = {"A": 0.53, "B": 0.32, "C": 0.15}  # 25% under
    decision = decide_rebalance(DAY0, None, current, TARGET, policy, equity=1e5)
    assert decision.act and "C drifted 25.0% of its target" in decision.reason


def test_min_interval_holds_back_a_threshold_rebalance():
    policy = RebalancePolicy(mode="threshold", threshold=0.01, min_interval_days=3)
    assert _run(policy, _drifting(0.05), 12) == [1, 4, 7, 10]


def test_a_rebalance_costing_more_than_its_tracking_benefit_is_skipped_with_the_reason():
    policy = RebalancePolicy(mode="threshold", threshold=0.05, fee=0.001, slippage_bps=5)
    current = {"A": 0.56, "B": 0.27, "C": 0.17}
    assets = ("A", "B", "C")
    calm = np.eye(3) * 1e-6  # nearly riskless assets: drifting costs next to nothing
    skipped = decide_rebalance(DAY0, None, current, TARGET, policy, equity=1e5, cov=calm,
                               assets=assets)
    assert not skipped.act and skipped.reason.startswith("skipped: cost 18.00 exceeds")
    assert skipped.cost == pytest.approx(0.0015 * 0.12 * 1e5)
    wild = np.eye(3) * 0.5
    taken = decide_rebalance(DAY0, None, current, TARGET, policy, equity=1e5, cov=wild,
                             assets=assets)
    assert taken.act and taken.benefit > taken.cost


@given(weights=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
       equity=st.floats(1e3, 1e7))
def test_rebalance_orders_take_the_book_to_target(weights, equity):
    total = sum(weights) or 1.0
    current = {a: w / total * 0.9 for a, w in zip("ABC", weights, strict=True)}
    prices = {"A": 10.0, "B": 250.0, "C": 0.5}
    orders = rebalance_orders(current, TARGET, equity=equity, prices=prices)
    after = {a: current[a] + orders.get(a, 0.0) * prices[a] / equity for a in "ABC"}
    assert after == pytest.approx(TARGET, abs=1e-9)
    sells = [q for q in orders.values() if q < 0]
    assert list(orders.values())[: len(sells)] == sells  # sells first


def test_hedge_steps_in_on_high_volatility_and_back_out_when_it_clears():
    policy = HedgePolicy(volatility_above=0.05, max_stablecoin_pct=0.30, step=0.10)
    path = [0.02, 0.06, 0.07, 0.08, 0.09, 0.03, 0.02, 0.02, 0.02]
    fraction, seen = 0.0, []
    for vol in path:
        step = hedge_step(fraction, MarketConditions(adx=30.0, daily_volatility=vol,
                                                     drawdown=0.0), policy)
        fraction = step.fraction
        seen.append((round(fraction, 10), step.action))
    assert seen == [(0.0, "hold"), (0.1, "hedge"), (0.2, "hedge"), (0.3, "hedge"),
                    (0.3, "hold"), (0.2, "unhedge"), (0.1, "unhedge"), (0.0, "unhedge"),
                    (0.0, "hold")]


def test_hedge_fires_on_a_drawdown_path_and_names_its_trigger():
    equity = np.r_[np.linspace(100, 120, 20), np.linspace(120, 100, 20)]
    peak, fraction, fired_at = 0.0, 0.0, None
    for i, value in enumerate(equity):
        peak = max(peak, value)
        step = hedge_step(fraction, MarketConditions(None, None,
                                                     drawdown_from_peak(peak, value)),
                          HedgePolicy(drawdown_above=0.10))
        if step.action == "hedge" and fired_at is None:
            fired_at, trigger = i, step.triggers[0]
        fraction = step.fraction
    assert fired_at is not None, "the drawdown passed 10% and the hedge never fired"
    assert 1 - equity[fired_at] / 120 > 0.10 >= 1 - equity[fired_at - 1] / 120
    assert trigger.startswith("drawdown 10.")


def test_hedge_fires_when_adx_says_the_market_has_no_trend():
    rng = np.random.default_rng(4)
    trend = 100 * np.exp(np.cumsum(np.full(120, 0.01)))
    chop = trend[-1] * (1 + 0.01 * np.sin(np.arange(120)) + rng.normal(0, 1e-3, 120))
    close = np.r_[trend, chop]
    index = adx(close * 1.005, close * 0.995, close, 14).adx
    policy = HedgePolicy(adx_below=15)

    def fires(value):
        return hedge_step(0.0, MarketConditions(value, None, 0.0), policy).action == "hedge"

    assert not fires(index[119]) and fires(index[-1])


def test_apply_hedge_keeps_the_fraction_in_the_quote_currency():
    hedged = apply_hedge({"A": 0.6, "B": 0.4}, 0.3)
    assert hedged == pytest.approx({"A": 0.42, "B": 0.28})
    assert apply_hedge({"A": 0.5}, 0.3) == {"A": 0.5}


def test_drawdown_controller_scales_down_then_back_up_along_an_equity_path():
    policy = DrawdownPolicy(warning=0.10, critical=0.20)
    path = [100, 104, 95, 93, 90, 85, 82, 80, 83, 90, 99, 105]
    peak, levels = 0.0, []
    level = "normal"
    for value in path:
        peak = max(peak, value)
        state = controller_state(drawdown_from_peak(peak, value), policy, level)
        level = state.level
        levels.append((state.level, state.scalar))
    # Drawdowns: 0, 0, 8.7%, 10.6%, 13.5%, 18.3%, 21.2%, 23.1%, 20.2%, 13.5%, 4.8%, 0.
    normal, warning, critical = ("normal", 1.0), ("warning", 0.75), ("critical", 0.5)
    assert levels == [normal] * 3 + [warning] * 3 + [critical] * 3 + [warning] + [normal] * 2


def test_rotation_holds_the_top_n_by_momentum():
    closes = {"A": np.array([100, 110.0]), "B": np.array([100, 130.0]),
              "C": np.array([100, 90.0]), "D": np.array([100, 105.0])}
    momentum = momentum_by_asset(closes, lookback=1)
    assert select_assets(method="momentum", top_n=2, max_assets=10, momentum=momentum) == [
        "B", "A"]
    assert select_assets(method="momentum", top_n=5, max_assets=10, momentum=momentum) == [
        "B", "A", "D", "C"]
    assert select_assets(method="momentum", top_n=5, max_assets=1, momentum=momentum) == ["B"]
    signal = {"A": 0.9, "B": 0.1, "C": 0.8, "D": 0.5}
    assert select_assets(method="both", top_n=2, max_assets=10, momentum=momentum,
                         signal=signal) == ["A", "B"]


def test_drawdown_controller_steps_back_only_past_the_recovery_margin():
    policy = DrawdownPolicy(warning=0.10, critical=0.20)
    level, seen = "normal", []
    for drawdown in (0.21, 0.19, 0.17, 0.09, 0.07, 0.10):
        level = controller_state(drawdown, policy, level).level
        seen.append(level)
    assert seen == ["critical", "critical", "warning", "warning", "normal", "warning"]


def test_a_hedge_holds_while_the_indicator_hovers_near_its_threshold():
    policy = HedgePolicy(volatility_above=0.05, step=0.10)
    fraction, actions = 0.0, []
    for vol in (0.06, 0.048, 0.049, 0.047, 0.044):  # fires, then hovers, then clears
        step = hedge_step(fraction, MarketConditions(30.0, vol, 0.0), policy)
        fraction = step.fraction
        actions.append(step.action)
    assert actions == ["hedge", "hold", "hold", "hold", "unhedge"]
