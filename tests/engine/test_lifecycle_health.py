"""Retirement: ACTIVE -> DEGRADED -> SUSPENDED -> back, by the documented rules, on a
scripted trade sequence and on a real arch:sp500 backtest with an inverted momentum rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from engine.lifecycle.book import LifecycleBook, status_changes
from engine.lifecycle.health import Health, RetirementSettings, Status, assess
from engine.signals.ensemble import EnsembleManager
from engine.types import Side

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ON = RetirementSettings(enabled=True, window=10, min_trades=4, suspend_after=2,
                        recovery_trades=3, cooldown_hours=48, retire_after_days=0)


def _feed(health: Health, values, start: datetime, settings=ON, step=timedelta(hours=6)):
    changes = []
    for i, v in enumerate(values):
        change = health.record(v, start + i * step, settings)
        if change:
            changes.append(change)
    return changes


def test_the_checks_and_the_unhealthy_verdict():
    good = assess([0.02, -0.01, 0.03, 0.01], ON)
    assert good["healthy"] and good["failed"] == []
    bad = assess([-0.02, -0.01, 0.005, -0.03], ON)
    assert set(bad["failed"]) == {"expectancy", "profit_factor", "win_rate"}
    assert not bad["healthy"]
    assert bad["profit_factor"] == 0.005 / 0.06


def test_active_degraded_suspended_and_back():
    h = Health()
    losing = [-0.02, -0.01, 0.005, -0.03] * 2
    changes = _feed(h, losing, T0)
    assert [(old, new) for old, new, _, _ in changes] == [
        (Status.ACTIVE, Status.DEGRADED), (Status.DEGRADED, Status.SUSPENDED)]
    suspended_at = T0 + 5 * timedelta(hours=6)
    assert h.status is Status.SUSPENDED and h.since == suspended_at
    # Healthy shadow trades inside the cool-down change nothing ...
    assert _feed(h, [0.02, 0.01, 0.03], suspended_at + timedelta(hours=1),
                 step=timedelta(hours=1)) == []
    # ... after it they bring the strategy back to DEGRADED, then ACTIVE.
    changes = _feed(h, [0.02, 0.01, 0.03, 0.02, 0.01, 0.02, 0.01],
                    suspended_at + timedelta(hours=49))
    assert [(old, new) for old, new, _, _ in changes] == [
        (Status.SUSPENDED, Status.DEGRADED), (Status.DEGRADED, Status.ACTIVE)]


def test_retired_after_the_configured_time_suspended_and_only_by_hand_back():
    settings = RetirementSettings(enabled=True, window=10, min_trades=4, suspend_after=1,
                                  recovery_trades=3, cooldown_hours=10_000,
                                  retire_after_days=30)
    h = Health()
    _feed(h, [-0.02, -0.01, 0.005, -0.03] * 2, T0, settings)
    assert h.status is Status.SUSPENDED
    changes = _feed(h, [0.01] * 3, T0 + timedelta(days=31), settings)
    assert changes[-1][1] is Status.RETIRED
    assert _feed(h, [0.05] * 20, T0 + timedelta(days=60), settings) == []
    assert h.status is Status.RETIRED
    h.force(Status.ACTIVE, T0 + timedelta(days=90), "reviewed")
    assert h.status is Status.ACTIVE


def test_a_suspended_strategy_has_weight_zero_and_no_vote():
    book = LifecycleBook(base={"a": 1.0, "b": 1.0, "c": 1.0}, retirement=ON)
    ensemble = EnsembleManager("weighted_vote", [("a", 1.0), ("b", 1.0), ("c", 1.0)],
                               0.0, 0.5, lifecycle=book)
    book.set_status("a", Status.SUSPENDED, "test", T0)
    assert ensemble.weights() == {"a": 0.0, "b": 1.0, "c": 1.0}
    votes = {"a": (Side.BUY, 1.0), "b": (Side.BUY, 1.0), "c": (Side.SELL, 1.0)}
    decision = ensemble.decide("X", T0, votes)
    assert decision.decision is Side.HOLD  # 1 vs 1 once a is out
    assert "a" not in decision.contributors
    # The vectorised path agrees.
    sides = np.array([[1], [1], [-1]])
    arrays = ensemble.combine(sides, np.ones((3, 1)), weights=ensemble.weights())
    assert arrays.decision[0] == 0
    book.set_status("a", Status.DEGRADED, "test", T0)
    assert ensemble.weights()["a"] == 0.5
    entries = status_changes(book.log.drain())
    assert [(e["old"], e["new"], e["actor"]) for e in entries] == [
        ("ACTIVE", "SUSPENDED", "user"), ("SUSPENDED", "DEGRADED", "user")]


def test_all_suspended_means_hold_in_every_mode():
    for mode in ("majority_vote", "weighted_vote", "confidence_average"):
        book = LifecycleBook(base={"a": 1.0, "b": 1.0}, retirement=ON)
        ensemble = EnsembleManager(mode, [("a", 1.0), ("b", 1.0)], 0.0, 0.5, lifecycle=book)
        for sid in "ab":
            book.set_status(sid, Status.SUSPENDED, "test", T0)
        decision = ensemble.decide("X", T0, {"a": (Side.BUY, 1.0), "b": (Side.BUY, 1.0)})
        assert decision.decision is Side.HOLD
        arrays = ensemble.combine(np.array([[1], [1]]), np.ones((2, 1)),
                                  weights=ensemble.weights())
        assert arrays.decision[0] == 0


def test_an_inverted_momentum_rule_is_suspended_on_real_data_and_recovers():
    """On the S&P 500 since 1999, momentum with its sides swapped loses: the lifecycle
    degrades it, suspends it (weight 0 from then on), and its shadow trades bring it
    back later. Audit entries record every step with its metrics."""
    import pandas as pd

    from engine.signals.pipeline import plan_symbol
    from tests.engine.lifecycle_runs import sp500_frames, sp500_spec

    # A desk that shorts: both sides of the inverted rule are its record (a long-only desk
    # reads SELL as flat and measures the long trades alone).
    overrides = (("strategies.retirement", "enabled", True), ("engine", "allow_short", True))
    spec = sp500_spec(overrides, inverted=True)
    frame = next(iter(sp500_frames().values()))
    plan = plan_symbol(frame, spec.strategies, spec.ensemble, regime_window=None)
    entries = status_changes(spec.ensemble.lifecycle.log.drain())
    momentum = [e for e in entries if e["strategy"] == "momentum"]
    path = [e["new"] for e in momentum]
    assert path[:3] == ["DEGRADED", "SUSPENDED", "DEGRADED"], path
    suspended, recovered = momentum[1], momentum[2]
    assert suspended["actor"] == "engine" and suspended["metrics"]["failed"]
    assert suspended["metrics"]["expectancy"] < 0
    assert "recovered" in recovered["reason"]
    # Its weight is 0 from the bar after the suspension until the bar it recovers.
    row = list(spec.strategies).index("momentum")
    times = frame.index
    start = times.searchsorted(pd.Timestamp(suspended["ts"]))
    stop = times.searchsorted(pd.Timestamp(recovered["ts"]))
    assert stop > start + 10
    assert np.all(plan.weights[row, start:stop] == 0.0)
    assert plan.weights[row, stop] > 0.0
    assert plan.weights[row, start - 1] > 0.0


def test_an_undated_or_naive_suspension_counts_from_the_next_trade():
    """A status set without a time (or with a naive one) must not break the cool-down
    arithmetic against the market's aware times."""
    for since in (datetime.min, datetime(2024, 1, 1)):
        h = Health()
        h.force(Status.SUSPENDED, since, "by hand")
        assert _feed(h, [0.02] * 3, T0) == []
        changes = _feed(h, [0.02] * 3, T0 + timedelta(days=3))
        assert changes and changes[0][1] is Status.DEGRADED
