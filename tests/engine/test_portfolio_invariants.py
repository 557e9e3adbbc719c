"""Properties every method keeps (hypothesis), and optimality against random portfolios."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from engine.portfolio.bounds import cap_weights
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.min_cvar import min_cvar_weights
from engine.portfolio.optimize import METHODS, OptimizeSettings, optimize_inputs
from engine.portfolio.result import empirical_cvar
from tests.engine.portfolio_builders import synthetic_inputs

SLOW = settings(max_examples=25, deadline=None)


@SLOW
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 15), cap=st.floats(0.25, 1.0),
       method=st.sampled_from(METHODS))
def test_weights_sum_to_one_within_the_bounds(seed, n, cap, method):
    inputs = synthetic_inputs(seed, n)
    cap = max(cap, 1.0 / n)
    if method == "risk_parity":
        cap = 1.0  # a binding cap is refused for risk parity (tested below)
    try:
        result = optimize_inputs(inputs, OptimizeSettings(method=method, max_weight=cap, rf=0.0))
    except PortfolioInputError as error:
        # Max Sharpe has no answer when no feasible portfolio earns above rf: it says so.
        assert method == "max_sharpe" and "above rf" in str(error)
        reject()
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.weights.min() >= 0.0
    assert result.weights.max() <= cap + 1e-12
    assert result.risk_contributions.sum() == pytest.approx(1.0, abs=1e-9)


@SLOW
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 25))
def test_risk_parity_contributions_are_equal_to_1e_6(seed, n):
    inputs = synthetic_inputs(seed, n)
    result = optimize_inputs(inputs, OptimizeSettings(method="risk_parity", max_weight=1.0))
    assert np.ptp(result.risk_contributions) <= 1e-6
    np.testing.assert_allclose(result.risk_contributions, 1.0 / n, atol=1e-6)


def _random_feasible(rng: np.random.Generator, n: int, cap: float, count: int) -> np.ndarray:
    """Random portfolios inside the bounds: Dirichlet draws of several concentrations, the
    capped ones pushed under the cap."""
    draws = []
    for alpha in (0.1, 0.5, 1.0, 5.0):
        for raw in rng.dirichlet(np.full(n, alpha), size=count // 4):
            draws.append(cap_weights(raw, cap))
    return np.array(draws)


@SLOW
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 12), cap=st.floats(0.3, 0.6))
def test_bounded_max_sharpe_beats_every_feasible_random_portfolio(seed, n, cap):
    inputs = synthetic_inputs(seed, n, drift=0.001)
    result = optimize_inputs(inputs, OptimizeSettings(method="max_sharpe", max_weight=cap,
                                                      rf=0.0))
    others = _random_feasible(np.random.default_rng(seed), n, cap, 2000)
    assert np.all(others.sum(axis=1) == pytest.approx(1.0)) and others.max() <= cap + 1e-12
    sharpe = (others @ inputs.mu) / np.sqrt(np.einsum("ij,jk,ik->i", others, inputs.cov, others))
    assert result.sharpe >= sharpe.max() - 1e-9


@SLOW
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 10), bars=st.integers(100, 800))
def test_min_cvar_objective_is_the_empirical_cvar_of_its_weights(seed, n, bars):
    inputs = synthetic_inputs(seed, n, bars=bars)
    weights, objective, _, _ = min_cvar_weights(inputs.returns, alpha=0.95, max_weight=1.0)
    assert objective == pytest.approx(empirical_cvar(-(inputs.returns @ weights)), abs=1e-9)
    # ...and no random portfolio has a lower CVaR.
    others = _random_feasible(np.random.default_rng(seed), n, 1.0, 400)
    lowest = min(empirical_cvar(-(inputs.returns @ w)) for w in others)
    assert objective <= lowest + 1e-9


def test_empirical_cvar_is_the_mean_of_the_worst_five_percent():
    # 2,000 bars at 95%: exactly the 100 largest losses.
    losses = np.random.default_rng(11).standard_t(4, size=2000)
    assert empirical_cvar(losses) == pytest.approx(np.sort(losses)[-100:].mean(), rel=1e-12)
    # A tail that is not a whole number of bars: 1,010 bars leave 50.5 in the tail, the
    # 51st worst loss counts half.
    losses = np.random.default_rng(12).normal(size=1010)
    worst = np.sort(losses)[::-1]
    expected = (worst[:50].sum() + 0.5 * worst[50]) / 50.5
    assert empirical_cvar(losses) == pytest.approx(expected, rel=1e-9)


def test_the_frontier_runs_from_min_volatility_to_the_highest_return_below_max_sharpe():
    from engine.portfolio.frontier import efficient_frontier

    inputs = synthetic_inputs(5, 8, drift=0.001)
    settings = OptimizeSettings(method="max_sharpe", max_weight=0.4, rf=0.0)
    best = optimize_inputs(inputs, settings)
    low = optimize_inputs(inputs, OptimizeSettings(method="min_vol", max_weight=0.4))
    frontier = efficient_frontier(inputs, max_weight=0.4, rf=0.0, points=12)
    assert frontier[0].volatility == pytest.approx(low.volatility, rel=1e-9)
    assert frontier[-1].expected_return == pytest.approx(
        np.sort(inputs.mu)[::-1][:2] @ [0.4, 0.4] + np.sort(inputs.mu)[::-1][2] * 0.2)
    returns = [p.expected_return for p in frontier]
    vols = [p.volatility for p in frontier]
    assert returns == sorted(returns) and vols == sorted(vols)
    assert max(p.sharpe for p in frontier) <= best.sharpe + 1e-9
