"""Optimizers against answers known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.portfolio.kelly import (
    growth_optimal_weights,
    kelly_from_moments,
    kelly_from_odds,
    kelly_size,
)
from engine.portfolio.max_sharpe import max_sharpe_weights
from engine.portfolio.min_volatility import min_volatility_weights
from engine.portfolio.result import risk_contributions
from engine.portfolio.risk_parity import risk_parity_weights


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, n))
    return (a @ a.T / n + np.eye(n) * 0.5) * 0.04


@settings(deadline=None)
@given(vol1=st.floats(0.05, 0.8), vol2=st.floats(0.05, 0.8), rho=st.floats(-0.9, 0.9))
def test_two_asset_minimum_variance_is_the_textbook_formula(vol1, vol2, rho):
    # w1 = (σ2² - σ12) / (σ1² + σ2² - 2σ12), when it lies in [0, 1].
    cov12 = rho * vol1 * vol2
    cov = np.array([[vol1**2, cov12], [cov12, vol2**2]])
    expected = (vol2**2 - cov12) / (vol1**2 + vol2**2 - 2 * cov12)
    weights, _, _ = min_volatility_weights(cov, max_weight=1.0)
    assert weights[0] == pytest.approx(float(np.clip(expected, 0, 1)), abs=2e-6)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 12), rf=st.floats(0.0, 0.05))
def test_unbounded_max_sharpe_is_inverse_covariance_times_excess_normalized(seed, n, rf):
    # Choose the answer first: with μ - rf = Σ w* c for positive w*, the tangency portfolio
    # Σ⁻¹(μ - rf) / 1'Σ⁻¹(μ - rf) is w*, inside the long-only bounds.
    rng = np.random.default_rng(seed)
    cov = _spd(rng, n)
    target = rng.dirichlet(np.ones(n)) + 0.02
    target /= target.sum()
    mu = rf + cov @ target * rng.uniform(1.0, 5.0)
    closed = np.linalg.solve(cov, mu - rf)
    closed /= closed.sum()
    weights, _, _ = max_sharpe_weights(mu, cov, rf=rf, max_weight=1.0)
    np.testing.assert_allclose(weights, closed, atol=2e-6)


@settings(max_examples=60, deadline=None)
@given(vols=st.lists(st.floats(0.01, 2.0), min_size=2, max_size=30))
def test_risk_parity_on_a_diagonal_covariance_is_inverse_volatility(vols):
    vols = np.array(vols)
    weights, _, _ = risk_parity_weights(np.diag(vols**2))
    expected = (1 / vols) / (1 / vols).sum()
    np.testing.assert_allclose(weights, expected, rtol=1e-7, atol=1e-10)


def test_risk_contributions_add_up_to_one():
    rng = np.random.default_rng(3)
    cov = _spd(rng, 6)
    w = rng.dirichlet(np.ones(6))
    assert risk_contributions(w, cov).sum() == pytest.approx(1.0, abs=1e-12)


def test_kelly_for_one_bet_from_odds_and_from_moments():
    assert kelly_from_odds(0.6, 1.0) == pytest.approx(0.2)
    assert kelly_from_odds(0.5, 2.0) == pytest.approx(0.25)
    # A coin paying ±1 with p = 0.6: mean 0.2, variance 1 - 0.04; μ/σ² is the continuous
    # approximation, close to but above the discrete 0.2.
    assert kelly_from_moments(0.2, 0.96) == pytest.approx(0.2 / 0.96)
    assert kelly_from_moments(0.08, 0.04, rf=0.02) == pytest.approx(1.5)


def test_kelly_size_is_fractional_floored_and_capped():
    assert kelly_size(0.4, fraction=0.5) == pytest.approx(0.2)
    assert kelly_size(-0.3) == 0.0
    assert kelly_size(1.7, cap=0.25) == 0.25


def test_growth_optimal_portfolio_of_a_bet_and_cash_is_the_kelly_fraction():
    # An asset that gains 50% in 60% of bars and loses 50% in the rest, beside cash: the
    # log-optimal share is f* = p / loss - q / gain = 0.6 / 0.5 - 0.4 / 0.5 = 0.4, which is
    # kelly_from_odds(0.6, 1) / 0.5.
    bet = np.r_[np.full(60, 0.5), np.full(40, -0.5)]
    returns = np.column_stack([bet, np.zeros(100)])
    weights, _, _ = growth_optimal_weights(returns, max_weight=1.0)
    assert weights[0] == pytest.approx(kelly_from_odds(0.6, 1.0) / 0.5, abs=1e-6)
