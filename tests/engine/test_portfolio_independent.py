"""The optimizers on real prices (20 S&P 500 stocks, 1,000 days) against independent
solvers: cvxpy (Clarabel, an interior-point method) and PyPortfolioOpt. Those libraries
are used here and in benchmarks only, never at run time."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from engine.portfolio.inputs import estimate_inputs
from engine.portfolio.optimize import OptimizeSettings, optimize_inputs
from tests.engine.portfolio_builders import sp500_prices

TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
# Interior-point and active-set answers agree to about this on these data.
AGREE = 1e-6


@pytest.fixture(scope="module")
def inputs():
    return estimate_inputs(sp500_prices(), cov="ledoit_wolf")


def _ours(inputs, **settings):
    return optimize_inputs(inputs, OptimizeSettings(**settings)).weights


def test_max_sharpe_agrees_with_cvxpy_and_pyportfolioopt(inputs):
    from pypfopt import EfficientFrontier

    ours = _ours(inputs, method="max_sharpe", max_weight=0.3, rf=0.02)
    y, kappa = cp.Variable(inputs.n), cp.Variable()
    cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(inputs.cov))),
               [(inputs.mu - 0.02) @ y == 1, cp.sum(y) == kappa, y >= 0,
                y <= 0.3 * kappa]).solve(solver=cp.CLARABEL, **TIGHT)
    np.testing.assert_allclose(ours, y.value / kappa.value, atol=AGREE)
    frontier = EfficientFrontier(inputs.mu, inputs.cov, weight_bounds=(0, 0.3))
    theirs = np.array(list(frontier.max_sharpe(risk_free_rate=0.02).values()))
    np.testing.assert_allclose(ours, theirs, atol=AGREE)


def test_min_volatility_agrees_with_cvxpy(inputs):
    ours = _ours(inputs, method="min_vol", max_weight=0.3)
    w = cp.Variable(inputs.n)
    cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(inputs.cov))),
               [cp.sum(w) == 1, w >= 0, w <= 0.3]).solve(solver=cp.CLARABEL, **TIGHT)
    np.testing.assert_allclose(ours, w.value, atol=AGREE)


@pytest.mark.parametrize("risk_aversion", [0.5, 2.0, 10.0])
def test_mean_variance_agrees_with_pyportfolioopt_quadratic_utility(inputs, risk_aversion):
    from pypfopt import EfficientFrontier

    ours = _ours(inputs, method="mean_variance", max_weight=0.3, risk_aversion=risk_aversion)
    frontier = EfficientFrontier(inputs.mu, inputs.cov, weight_bounds=(0, 0.3),
                                 solver="CLARABEL")
    theirs = frontier.max_quadratic_utility(risk_aversion=risk_aversion)
    np.testing.assert_allclose(ours, np.array(list(theirs.values())), atol=1e-5)


def test_min_cvar_agrees_with_cvxpy(inputs):
    ours = optimize_inputs(inputs, OptimizeSettings(method="min_cvar", max_weight=0.3))
    w = cp.Variable(inputs.n)
    losses = -inputs.returns @ w
    cvar = cp.Problem(cp.Minimize(cp.cvar(losses, 0.95)),  # the mean of the worst 5%
                      [cp.sum(w) == 1, w >= 0, w <= 0.3])
    cvar.solve(solver=cp.CLARABEL, **TIGHT)
    # An LP can have ties between optima; the objective is unique.
    assert ours.cvar_95 == pytest.approx(cvar.value, rel=1e-7)


def test_kelly_agrees_with_cvxpy_log_growth(inputs):
    ours = _ours(inputs, method="kelly", max_weight=0.3)
    w = cp.Variable(inputs.n)
    cp.Problem(cp.Maximize(cp.sum(cp.log(1 + inputs.returns @ w))),
               [cp.sum(w) == 1, w >= 0, w <= 0.3]).solve(solver=cp.CLARABEL)
    # The exponential cone is solved less tightly than a quadratic program.
    np.testing.assert_allclose(ours, w.value, atol=1e-5)


def test_risk_parity_agrees_with_cvxpy_log_barrier(inputs):
    ours = _ours(inputs, method="risk_parity", max_weight=0.3)
    y = cp.Variable(inputs.n)
    cp.Problem(cp.Minimize(0.5 * cp.quad_form(y, cp.psd_wrap(inputs.cov))
                           - cp.sum(cp.log(y)) / inputs.n)).solve(solver=cp.CLARABEL, **TIGHT)
    np.testing.assert_allclose(ours, y.value / y.value.sum(), atol=AGREE)
