"""Ensemble voting: hand-computed cases, stance carry-forward, and combine == decide."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine.signals.ensemble import (
    EnsembleManager,
    EnsembleMode,
    performance_multiplier,
    stance,
)
from engine.types import Side

B, S, H = Side.BUY, Side.SELL, Side.HOLD
DESK_STRATEGIES = [
    ("sma_cross", 1.0),
    ("ema_cross", 1.0),
    ("rsi", 1.0),
    ("momentum", 1.5),
    ("mean_reversion", 1.0),
    ("breakout", 1.0),
]
IDS = [sid for sid, _ in DESK_STRATEGIES]
TS = datetime(2024, 1, 2, 9, 30, tzinfo=UTC)


def manager(mode: str, **kw: object) -> EnsembleManager:
    return EnsembleManager(mode, DESK_STRATEGIES, **kw)  # type: ignore[arg-type]


def signals(sides: list[Side], confs: list[float]) -> dict[str, tuple[Side, float]]:
    return {sid: (s, c) for sid, s, c in zip(IDS, sides, confs, strict=True)}


# ----- stance ------------------------------------------------------------------------


def test_stance_carries_the_latest_event_forward() -> None:
    side = np.array([0, 1, 0, 0, -1, 0, 0, 1], dtype=np.int8)
    conf = np.array([0.9, 0.6, 0.2, 0.3, 0.8, 0.1, 0.0, 0.7])
    s, c = stance(side, conf)
    assert s.dtype == np.int8
    assert s.tolist() == [0, 1, 1, 1, -1, -1, -1, 1]
    assert c.tolist() == [0.0, 0.6, 0.6, 0.6, 0.8, 0.8, 0.8, 0.7]


@settings(max_examples=40, deadline=None)
@given(
    side=hnp.arrays(np.int8, st.tuples(st.integers(1, 4), st.integers(1, 30)),
                    elements=st.sampled_from([-1, 0, 0, 1])),
    data=st.data(),
)
def test_stance_equals_a_plain_loop(side: np.ndarray, data: st.DataObject) -> None:
    conf = data.draw(hnp.arrays(np.float64, side.shape, elements=st.floats(0, 1)))
    s, c = stance(side, conf)
    for row in range(side.shape[0]):
        cur_s, cur_c = 0, 0.0
        for t in range(side.shape[1]):
            if side[row, t] != 0:
                cur_s, cur_c = int(side[row, t]), float(conf[row, t])
            assert (s[row, t], c[row, t]) == (cur_s, cur_c)


# ----- hand-computed decisions -------------------------------------------------------


def test_majority_vote_needs_the_share_and_the_confidence() -> None:
    sides = [B, B, B, S, H, H]
    confs = [0.6, 0.8, 0.7, 0.9, 0.0, 0.0]
    d = manager("majority_vote", vote_ratio=0.5).decide("BTC/USDT", TS, signals(sides, confs))
    assert d.decision is Side.BUY
    assert d.confidence == pytest.approx(0.7)  # (0.6 + 0.8 + 0.7) / 3
    assert d.contributors == ("sma_cross", "ema_cross", "rsi")
    assert d.vote_counts == {"buy": 3, "sell": 1, "hold": 2}
    assert d.total_weight == 6.5

    # 3 of 6 votes is short of a 0.6 share (3.6 votes).
    d = manager("majority_vote", vote_ratio=0.6).decide("BTC/USDT", TS, signals(sides, confs))
    assert (d.decision, d.confidence, d.contributors) == (Side.HOLD, 0.0, ())
    assert "3.6" in d.reason

    # Mean winning confidence 0.7 is below a 0.75 threshold.
    d = manager("majority_vote", confidence_threshold=0.75).decide("X", TS, signals(sides, confs))
    assert d.decision is Side.HOLD and "0.700 < 0.75" in d.reason


def test_majority_vote_tie_is_hold() -> None:
    d = manager("majority_vote", vote_ratio=0.25).decide(
        "X", TS, signals([B, B, S, S, H, H], [0.9] * 6)
    )
    assert d.decision is Side.HOLD and "tied" in d.reason


def test_weighted_vote_counts_weights() -> None:
    sides = [B, H, H, B, S, S]  # buy weight 1 + 1.5 = 2.5, sell weight 2, total 6.5
    confs = [0.6, 0.0, 0.0, 0.9, 0.7, 0.7]
    d = manager("weighted_vote", vote_ratio=0.5).decide("X", TS, signals(sides, confs))
    assert d.decision is Side.HOLD  # 2.5 < 0.5 * 6.5 = 3.25
    d = manager("weighted_vote", vote_ratio=0.35).decide("X", TS, signals(sides, confs))
    assert d.decision is Side.BUY  # 2.5 >= 2.275 and 2.5 > 2
    assert d.confidence == pytest.approx((1.0 * 0.6 + 1.5 * 0.9) / 2.5)  # 0.78
    assert d.contributors == ("sma_cross", "momentum")


def test_confidence_average_score() -> None:
    sides = [B, B, S, B, H, S]
    confs = [0.9, 0.8, 0.4, 0.6, 0.5, 0.2]
    # (0.9 + 0.8 - 0.4 + 1.5 * 0.6 + 0 - 0.2) / 6.5 = 2.0 / 6.5
    score = 2.0 / 6.5
    d = manager("confidence_average", confidence_threshold=0.3).decide("X", TS,
                                                                      signals(sides, confs))
    assert d.decision is Side.BUY
    assert d.confidence == pytest.approx(score)
    assert d.contributors == ("sma_cross", "ema_cross", "momentum")
    d = manager("confidence_average", confidence_threshold=0.31).decide("X", TS,
                                                                       signals(sides, confs))
    assert d.decision is Side.HOLD
    flipped = [Side(-int(s)) for s in sides]
    d = manager("confidence_average", confidence_threshold=0.3).decide("X", TS,
                                                                      signals(flipped, confs))
    assert d.decision is Side.SELL and d.confidence == pytest.approx(score)


def test_missing_strategies_count_as_hold() -> None:
    d = manager("majority_vote", vote_ratio=0.3).decide("X", TS, {"rsi": (B, 0.9),
                                                                  "breakout": (B, 0.7)})
    assert d.vote_counts == {"buy": 2, "sell": 0, "hold": 4}
    assert d.decision is Side.BUY and d.confidence == pytest.approx(0.8)


def test_payload_is_json_serialisable() -> None:
    d = manager("weighted_vote").decide("ETH/USDT", TS, signals([B] * 6, [0.8] * 6))
    payload = json.loads(json.dumps(d.to_payload()))
    assert payload["decision"] == "BUY"
    assert payload["ts"] == "2024-01-02T09:30:00+00:00"
    assert payload["mode"] == "weighted_vote"
    assert payload["weights"]["momentum"] == 1.5
    assert payload["vote_counts"] == {"buy": 6, "sell": 0, "hold": 0}
    assert payload["contributors"] == IDS


# ----- combine agrees with decide ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(list(EnsembleMode)),
    n_strats=st.integers(1, 7),
    threshold=st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]),
    ratio=st.sampled_from([0.2, 1 / 3, 0.5, 0.6, 1.0]),
    data=st.data(),
)
def test_combine_agrees_with_decide_on_every_bar(
    mode: EnsembleMode, n_strats: int, threshold: float, ratio: float, data: st.DataObject
) -> None:
    weights = data.draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 0.1, 3.7]),
                                 min_size=n_strats, max_size=n_strats))
    ids = [f"s{i}" for i in range(n_strats)]
    m = EnsembleManager(mode, list(zip(ids, weights, strict=True)),
                        confidence_threshold=threshold, vote_ratio=ratio)
    n = data.draw(st.integers(1, 25))
    sides = data.draw(hnp.arrays(np.int8, (n_strats, n), elements=st.sampled_from([-1, 0, 1])))
    # Coarse confidences make exact ties with thresholds likely, which is the hard part.
    confs = data.draw(hnp.arrays(np.float64, (n_strats, n),
                                 elements=st.sampled_from([0.0, 0.25, 0.5, 0.7, 0.75, 1.0])))
    out = m.combine(sides, confs)
    for t in range(n):
        d = m.decide("X", None, {ids[i]: (Side(int(sides[i, t])), confs[i, t])
                                 for i in range(n_strats)})
        assert int(out.decision[t]) == int(d.decision)
        assert out.confidence[t] == d.confidence
        assert (out.buy_votes[t], out.sell_votes[t], out.hold_votes[t]) == (
            d.vote_counts["buy"], d.vote_counts["sell"], d.vote_counts["hold"])
        assert out.total_weight == d.total_weight
        expected_buy_w = sum(w for w, s in zip(weights, sides[:, t], strict=True) if s == 1)
        assert out.buy_weight[t] == pytest.approx(expected_buy_w)


# ----- dynamic weights ---------------------------------------------------------------


def test_performance_multiplier_by_hand() -> None:
    trades = [0.02, -0.01, 0.03, -0.01, 0.02]
    # mean 0.01; deviations .01 -.02 .02 -.02 .01 -> variance 14e-4 / 4 -> std 0.0187083
    sharpe = 0.01 / math.sqrt(3.5e-4)  # 0.534522
    win_term = 2 * 0.6 - 1  # 0.2
    pf_term = 1.0  # profit factor 0.07 / 0.02 = 3.5 > 3, capped
    assert performance_multiplier(trades) == pytest.approx(1 + (sharpe + win_term + pf_term) / 3)
    # Losing strategy: mean -0.01, std 0.0187 -> -0.5345; win 0.4 -> -0.2; PF 0.02/0.07
    losing = [-x for x in trades]
    pf = math.log(0.02 / 0.07) / math.log(3)  # -1.1403 -> -1
    assert pf < -1
    assert performance_multiplier(losing) == pytest.approx(1 + (-sharpe - 0.2 - 1.0) / 3)
    # All winners, no spread: every term +1 -> 2; all losers -> floor 0.1.
    assert performance_multiplier([0.01] * 5) == 2.0
    assert performance_multiplier([-0.01] * 5) == 0.1
    # Gross profit = gross loss: mean 0 (Sharpe term 0), profit factor 1 (term 0),
    # win rate 1/3 (term -1/3).
    assert performance_multiplier([0.02, -0.01, -0.01]) == pytest.approx(1 - 1 / 9)
    # Again profit = loss (terms 0, 0) with win rate 1/5.
    trades = [0.04, -0.02, -0.02, 0.0, 0.0]
    mean, std = 0.0, math.sqrt((0.04**2 + 2 * 0.02**2) / 4)
    assert performance_multiplier(trades) == pytest.approx(
        1 + (mean / std + (2 * 0.2 - 1) + 0.0) / 3)
    trades = [0.04, -0.01, -0.01]  # PF 2, mean 0.02 / 3, win rate 1/3
    mean = 0.02 / 3
    std = math.sqrt(((0.04 - mean) ** 2 + 2 * (-0.01 - mean) ** 2) / 2)
    assert performance_multiplier(trades) == pytest.approx(
        1 + (mean / std + (2 / 3 - 1) + math.log(2) / math.log(3)) / 3)


def test_dynamic_weights_redistribute_among_strategies_with_enough_trades() -> None:
    m = EnsembleManager("weighted_vote", [("a", 1.0), ("b", 2.0), ("c", 1.5)],
                        dynamic_weights=True, performance_window=5, min_trades=3)
    for r in [0.05, 0.05, 0.05, 0.05]:  # a: perfect -> multiplier 2
        m.record_trade("a", r)
    for r in [-0.05, -0.05, -0.05]:  # b: hopeless -> multiplier 0.1
        m.record_trade("b", r)
    m.record_trade("c", 0.5)  # c: one trade only -> keeps its base weight
    w = m.weights()
    # a and b share their base total 3.0 in proportion 1*2 : 2*0.1 = 2 : 0.2
    assert w["a"] == pytest.approx(3.0 * 2.0 / 2.2)
    assert w["b"] == pytest.approx(3.0 * 0.2 / 2.2)
    assert w["c"] == 1.5
    assert sum(w.values()) == pytest.approx(4.5)


def test_performance_window_keeps_only_recent_trades() -> None:
    m = EnsembleManager("weighted_vote", [("a", 1.0), ("b", 1.0)], dynamic_weights=True,
                        performance_window=3, min_trades=3)
    for r in [-0.1, -0.1, -0.1, 0.02, 0.02, 0.02]:
        m.record_trade("a", r)
    for r in [0.01, -0.01, 0.01]:
        m.record_trade("b", r)
    # a's window holds only its three winners: multiplier 2.
    b_mult = performance_multiplier([0.01, -0.01, 0.01])
    assert m.weights()["a"] == pytest.approx(2.0 * 2.0 / (2.0 + b_mult))


def test_static_weights_ignore_trades() -> None:
    m = manager("weighted_vote")
    for _ in range(10):
        m.record_trade("rsi", -0.05)
    assert m.weights() == dict(DESK_STRATEGIES)


# ----- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("weighted_vote", []), "at least one strategy"),
        (("weighted_vote", [("a", 0.0)]), "'a': weight must be a positive number"),
        (("weighted_vote", [("a", -1.0)]), "positive"),
        (("weighted_vote", [("a", float("nan"))]), "positive"),
        (("weighted_vote", [("a", 1.0), ("a", 2.0)]), "more than once: a"),
        (("plurality", [("a", 1.0)]), "unknown ensemble mode 'plurality'"),
    ],
)
def test_bad_construction_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnsembleManager(*args)


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="vote_ratio"):
        manager("weighted_vote", vote_ratio=0.0)
    with pytest.raises(ValueError, match="confidence_threshold"):
        manager("weighted_vote", confidence_threshold=1.5)


def test_unknown_ids_and_bad_inputs_are_refused() -> None:
    m = manager("weighted_vote")
    with pytest.raises(ValueError, match="unknown strategy ids 'macd'"):
        m.decide("X", TS, {"macd": (B, 0.9)})
    with pytest.raises(ValueError, match="unknown strategy ids 'macd'"):
        m.record_trade("macd", 0.01)
    with pytest.raises(ValueError, match="confidence must be in"):
        m.decide("X", TS, {"rsi": (B, 1.2)})
    with pytest.raises(ValueError, match=r"\(6, n\)"):
        m.combine(np.zeros((5, 3), np.int8), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="-1 \\(SELL\\)"):
        m.combine(np.full((6, 3), 2, np.int8), np.zeros((6, 3)))
    with pytest.raises(ValueError, match="confidences"):
        m.combine(np.zeros((6, 3), np.int8), np.full((6, 3), np.nan))
    with pytest.raises(ValueError, match="weights must be numbers >= 0"):
        m.combine(np.zeros((6, 3), np.int8), np.zeros((6, 3)), {sid: -1.0 for sid in IDS})
