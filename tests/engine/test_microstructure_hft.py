"""The HFT rules: each rule fires on the features it names, reversion wins, opposing
momentum rules cancel, and one function gives the same answer for a scalar reading (the
live pane and strategy) as for whole arrays (backtests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.microstructure.hft import KINDS, HftParams, hft_rules

P = HftParams(entry_z=2.0, min_confidence=0.7, reversion_z=2.5, withdrawal_recent=20,
              sustain_trades=30, sustain_imbalance=0.3)
QUIET = {"composite_z": 0.1, "confidence": 0.05, "aggressor": 0.05, "flow_run": 3.0,
         "move_z": 0.2, "since_withdrawal": 1e9}


def rule(**changes):
    side, confidence, kind = hft_rules(QUIET | changes, P)
    return int(side), float(confidence), KINDS[int(kind)]


def test_quiet_flow_holds():
    assert rule() == (0, 0.0, "")


@pytest.mark.parametrize("sign", [1, -1])
def test_imbalance_momentum_follows_the_pressure(sign):
    assert rule(composite_z=2.4 * sign, confidence=0.83) == (sign, 0.83, "imbalance")
    assert rule(composite_z=2.4 * sign, confidence=0.6)[0] == 0  # not confident enough
    assert rule(composite_z=1.9 * sign, confidence=0.9)[0] == 0  # not far enough out


@pytest.mark.parametrize("sign", [1, -1])
def test_a_maker_withdrawal_fades_the_move(sign):
    side, confidence, kind = rule(move_z=3.0 * sign, since_withdrawal=5)
    assert (side, kind) == (-sign, "reversion")
    assert confidence == pytest.approx(math.tanh(1.5))
    assert rule(move_z=3.0 * sign, since_withdrawal=21)[0] == 0  # the withdrawal is old


@pytest.mark.parametrize("sign", [1, -1])
def test_sustained_flow_is_followed(sign):
    side, confidence, kind = rule(flow_run=45 * sign, aggressor=0.4 * sign)
    assert (side, kind) == (sign, "sustained")
    assert confidence == pytest.approx(math.tanh(1.5))
    assert rule(flow_run=45 * sign, aggressor=-0.4 * sign)[0] == 0  # run and flow disagree
    assert rule(flow_run=29 * sign, aggressor=0.4 * sign)[0] == 0


def test_reversion_wins_and_opposing_momentum_cancels():
    both = {"composite_z": 3.0, "confidence": 0.9, "move_z": 3.0, "since_withdrawal": 0}
    assert rule(**both)[0::2] == (-1, "reversion")
    assert rule(composite_z=3.0, confidence=0.9, flow_run=-40, aggressor=-0.5) == (0, 0.0, "")


def test_nan_features_never_fire():
    nan = float("nan")
    assert rule(composite_z=nan, confidence=nan, move_z=nan, aggressor=nan) == (0, 0.0, "")


features = st.fixed_dictionaries({
    "composite_z": st.floats(-5, 5) | st.just(float("nan")),
    "confidence": st.floats(0, 1),
    "aggressor": st.floats(-1, 1) | st.just(float("nan")),
    "flow_run": st.integers(-80, 80).map(float),
    "move_z": st.floats(-5, 5) | st.just(float("nan")),
    "since_withdrawal": st.integers(0, 60).map(float),
})


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(features, min_size=1, max_size=40))
def test_scalars_and_arrays_agree(rows):
    arrays = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    side, confidence, kind = hft_rules(arrays, P)
    for i, row in enumerate(rows):
        s, c, k = hft_rules(row, P)
        assert (int(s), int(k)) == (int(side[i]), int(kind[i]))
        assert float(c) == float(confidence[i])
        assert 0.0 <= float(c) <= 1.0 and (float(c) == 0.0) == (int(s) == 0)
