"""The strategy port: signal arrays, events, stances, warm-up, input errors, import cost."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import DataError
from engine.signals.strategies.base import SignalArrays, events, stance
from engine.signals.strategies.registry import STRATEGIES, create
from engine.types import Side
from tests.engine.flow_columns import flow_frame_columns


def _random_walk(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    index = pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC")
    return pd.DataFrame(
        {"open": close, "high": close * 1.004, "low": close * 0.996, "close": close,
         "volume": np.full(n, 10.0), **flow_frame_columns(n, seed)},
        index=index,
    )  # fmt: skip


signal_lists = st.lists(
    st.tuples(st.sampled_from([-1, 0, 0, 1]), st.floats(0.01, 1.0)), max_size=60
)


@settings(max_examples=80, deadline=None)
@given(signal_lists)
def test_stance_carries_the_latest_event_forward(pairs):
    side = np.array([s for s, _ in pairs], dtype=np.int8)
    confidence = np.array([c if s else 0.0 for s, c in pairs])

    held = stance(SignalArrays(side, confidence))

    current, strength = 0, 0.0
    for t in range(len(side)):
        if side[t] != 0:
            current, strength = int(side[t]), confidence[t]
        assert (held.side[t], held.confidence[t]) == (current, strength)
    assert held.side.dtype == np.int8


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=40))
def test_events_fire_only_where_a_condition_starts(rows):
    buy = np.array([r[0] for r in rows], dtype=bool)
    sell = np.array([r[1] for r in rows], dtype=bool)
    valid = np.array([r[2] for r in rows], dtype=bool)
    strength = np.linspace(0.1, 2.0, len(rows))

    out = events(buy, sell, strength, strength, valid)

    for t in range(len(rows)):
        def starts(cond, t=t):
            return bool(t > 0 and valid[t] and valid[t - 1] and cond[t] and not cond[t - 1])

        b, s = starts(buy), starts(sell)
        expected = 0 if b == s else (1 if b else -1)
        assert out.side[t] == expected
        assert out.confidence[t] == (min(strength[t], 1.0) if expected else 0.0)


def test_signal_arrays_need_equal_lengths():
    with pytest.raises(ValueError, match="one length"):
        SignalArrays(np.zeros(3, dtype=np.int8), np.zeros(4))


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("seed", [1, 2])
def test_no_signal_before_warmup_and_some_after(name, seed):
    strategy = create(name)
    frame = _random_walk(1500, seed)

    out = strategy.compute(frame)

    assert not out.side[: strategy.warmup].any()
    assert out.side[strategy.warmup :].any()


def test_warmup_is_exact_for_a_cross_at_the_first_possible_bar():
    # slow = 4 and the ATR(14) gate: the first bar with both averages on it and the bar
    # before is 14. A step up at bar 14 crosses right there.
    close = np.r_[np.full(14, 10.0), np.full(6, 12.0)]
    frame = _random_walk(20, 0).assign(open=close, high=close + 1, low=close - 1, close=close)
    strategy = create("sma_cross", fast=2, slow=4)

    out = strategy.compute(frame)

    assert strategy.warmup == 14 and out.side[14] == 1


def test_missing_columns_are_named():
    frame = _random_walk(50, 0).drop(columns=["high", "volume"])

    with pytest.raises(DataError, match="lacks column\\(s\\) high, volume"):
        create("breakout").compute(frame)


def test_latest_of_an_empty_frame_is_hold():
    assert create("rsi").latest(_random_walk(0, 0)) == (Side.HOLD, 0.0)


def test_importing_the_registry_stays_light():
    code = (
        "import sys, engine.signals.strategies.registry; "
        "heavy = {'pandas', 'scipy', 'textual', 'rich'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
