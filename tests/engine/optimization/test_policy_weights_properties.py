"""Invariants of the weights a Q-learning policy sets, by property."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.optimize import market_states as ms
from engine.optimize.policy import QPolicy
from engine.optimize.qlearn_run import action_weights


def _policy(base: list[float], kind: str, bounds) -> QPolicy:
    ids = tuple(f"s{i}" for i in range(len(base)))
    vectors = action_weights(len(ids), kind)
    return QPolicy(run_id=1, ids=ids, actions=tuple(f"a{i}" for i in range(len(vectors))),
                   vectors=vectors, greedy=np.full(ms.N_STATES, -1),
                   edges=ms.StateEdges((-0.01, 0.01), (0.01, 0.02)), symbol_edges={},
                   trend_period=20, vol_period=10, base=dict(zip(ids, base, strict=True)),
                   bounds=bounds)


weights = st.lists(st.floats(0.1, 10.0), min_size=2, max_size=8)


@settings(max_examples=200, deadline=None)
@given(base=weights, kind=st.sampled_from(["strategies", "weights"]),
       lo=st.floats(0.05, 1.0), hi=st.floats(1.0, 5.0), data=st.data())
def test_bounded_policy_weights_keep_the_total_and_the_bounds(base, kind, lo, hi, data):
    policy = _policy(base, kind, (lo, hi))
    action = data.draw(st.integers(0, len(policy.vectors) - 1))
    w = policy.weights_of(action)
    b = np.array(base)
    assert abs(w.sum() - b.sum()) <= 1e-9 * b.sum()
    assert np.all(w >= lo * b - 1e-12) and np.all(w <= hi * b + 1e-12)
    # The action's own strategy never ends up below another's share of its base.
    if kind == "strategies":
        assert w[action] / b[action] >= (w / b).max() - 1e-9


@settings(max_examples=200, deadline=None)
@given(base=weights, kind=st.sampled_from(["strategies", "weights"]), data=st.data())
def test_unbounded_policy_weights_are_the_action_vector_at_the_base_total(base, kind, data):
    policy = _policy(base, kind, None)
    action = data.draw(st.integers(-1, len(policy.vectors) - 1))
    w = policy.weights_of(action)
    if action < 0:  # a state the training never visited: the base weights
        assert w.tolist() == base
    else:
        np.testing.assert_allclose(w, policy.vectors[action] * sum(base), rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(40, 300))
def test_the_live_state_of_a_bar_is_the_backtest_state_of_that_bar(seed, n):
    """`state_at` over a bar window equals `bar_states` over the whole series, bar for bar:
    each state reads only its own trailing closes."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    regime = rng.integers(-1, 3, n)
    policy = _policy([1.0, 1.0], "strategies", None)
    whole = policy.bar_states(close, regime)
    for t in range(policy.lookback - 1, n):
        window = close[max(0, t - 599):t + 1]  # the live desk's window ends at bar t
        assert policy.state_at(window, int(regime[t])) == whole[t]
