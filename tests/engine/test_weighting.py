"""Per-bar ensemble weights: the walk-forward against a from-scratch recomputation, and
the sideways tilt toward mean reversion."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals.ensemble import EnsembleManager
from engine.signals.weighting import SIDEWAYS_TILT, bar_weights, virtual_trade_return

IDS = ["sma_cross", "rsi", "breakout"]
LABELS = ("bull", "bear", "sideways")


def _manager(dynamic: bool) -> EnsembleManager:
    return EnsembleManager("weighted_vote", [(i, w) for i, w in zip(IDS, (1.0, 2.0, 1.0),
                                                                      strict=True)],
                           dynamic_weights=dynamic, min_trades=2)


def _stances(draw_sides: list[list[int]]) -> np.ndarray:
    """Forward-filled stances from raw events (0 = no new event)."""
    out = []
    for events in draw_sides:
        held, row = 0, []
        for e in events:
            held = e or held
            row.append(held)
        out.append(row)
    return np.array(out, dtype=np.int8)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_walk_forward_weights_equal_a_recomputation_at_every_bar(data):
    n = data.draw(st.integers(20, 60))
    events = [data.draw(st.lists(st.sampled_from([0, 0, 0, 1, -1]), min_size=n, max_size=n))
              for _ in IDS]
    sides = _stances(events)
    close = np.cumprod(1 + np.array(data.draw(st.lists(
        st.floats(-0.05, 0.05), min_size=n, max_size=n)))) * 100
    weights = bar_weights(_manager(True), IDS, sides, close, None, LABELS)
    for t in range(n):
        fresh = _manager(True)  # replay every trade closed at or before t, by hand
        for row, side in enumerate(sides):
            entry = None
            for i in range(1, t + 1):
                if side[i] != side[i - 1]:
                    if entry is not None:
                        fresh.record_trade(IDS[row], virtual_trade_return(
                            int(side[entry]), close[entry], close[i]))
                    entry = i if side[i] != 0 else None
        expected = fresh.weights()
        np.testing.assert_allclose(weights[:, t], [expected[i] for i in IDS], rtol=1e-12)


def test_sideways_bars_double_the_mean_reverting_weights_only():
    sides = np.ones((3, 6), dtype=np.int8)
    regime = np.array([-1, 0, 1, 2, 2, 0], dtype=np.int8)  # unknown bull bear side side bull
    weights = bar_weights(_manager(False), IDS, sides, np.full(6, 100.0), regime, LABELS)
    np.testing.assert_array_equal(weights[0], [1, 1, 1, 1, 1, 1])  # sma_cross: no tilt
    np.testing.assert_array_equal(weights[1], [2, 2, 2, 2 * SIDEWAYS_TILT, 2 * SIDEWAYS_TILT, 2])
    np.testing.assert_array_equal(weights[2], [1, 1, 1, 1, 1, 1])


def test_static_weights_without_sideways_bars_need_no_matrix():
    sides = np.ones((3, 4), dtype=np.int8)
    regime = np.array([0, 1, 0, 1], dtype=np.int8)
    assert bar_weights(_manager(False), IDS, sides, np.full(4, 1.0), regime, LABELS) is None


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_combine_with_bar_weights_decides_each_bar_as_decide_does(data):
    from engine.types import Side

    n = data.draw(st.integers(1, 30))
    mode = data.draw(st.sampled_from(["majority_vote", "weighted_vote", "confidence_average"]))
    manager = EnsembleManager(mode, [(i, 1.0) for i in IDS], confidence_threshold=0.3,
                              vote_ratio=0.5)
    sides = np.array([data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n,
                                         max_size=n)) for _ in IDS], dtype=np.int8)
    confs = np.where(sides != 0, np.array([data.draw(st.lists(
        st.floats(0, 1), min_size=n, max_size=n)) for _ in IDS]), 0.0)
    weights = np.array([data.draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))
                        for _ in IDS])
    combined = manager.combine(sides, confs, bar_weights=weights)
    for t in range(n):
        one = manager.decide("X", None, {i: (Side(int(sides[r, t])), float(confs[r, t]))
                                         for r, i in enumerate(IDS)},
                             weights={i: float(weights[r, t]) for r, i in enumerate(IDS)})
        assert int(one.decision) == int(combined.decision[t])
        assert one.confidence == combined.confidence[t]
