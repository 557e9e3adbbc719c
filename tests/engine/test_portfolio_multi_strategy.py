"""The strategy x asset allocation: streams computed by hand, the optimum by cvxpy."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.multi_strategy import allocate, allocation_weights, stream
from tests.engine.portfolio_builders import sp500_prices, synthetic_inputs


class _Script:
    """A strategy whose signals are given: BUY at bar 2, SELL at bar 5."""

    def signals(self, prices):
        from engine.signals.strategies.base import SignalArrays

        side = np.zeros(len(prices.close), dtype=np.int8)
        side[2], side[5] = 1, -1
        return SignalArrays(side, np.abs(side).astype(float))


def test_a_stream_earns_the_next_bars_return_while_long_net_of_costs():
    close = np.array([100, 101, 102, 104, 103, 105, 106, 107.0])
    got = stream(_Script(), close, cost=0.001)
    asset = close[1:] / close[:-1] - 1
    # Long from the close of bar 2 to the close of bar 5: earns the steps 2->3, 3->4 and
    # 4->5 (stream entries 2, 3, 4); each change of position costs on the step after it:
    # the entry on 2->3, the exit on 5->6.
    expected = np.zeros(7)
    expected[2:5] = asset[2:5]
    expected[2] -= 0.001
    expected[5] -= 0.001
    np.testing.assert_allclose(got, expected, atol=1e-15)


@pytest.mark.parametrize(("risk_aversion", "diversification"), [(1.0, 0.0), (2.0, 0.1),
                                                                  (5.0, 1.0)])
def test_allocation_weights_agree_with_cvxpy(risk_aversion, diversification):
    inputs = synthetic_inputs(9, 12)
    ours, _ = allocation_weights(inputs.mu, inputs.cov, risk_aversion=risk_aversion,
                                 diversification=diversification, max_weight=0.3)
    x = cp.Variable(12)
    cp.Problem(cp.Maximize(inputs.mu @ x - risk_aversion / 2 * cp.quad_form(
        x, cp.psd_wrap(inputs.cov)) + diversification * (1 - cp.sum_squares(x))),
        [cp.sum(x) == 1, x >= 0, x <= 0.3]).solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(ours, x.value, atol=1e-5)


def test_matrix_on_real_prices_sums_to_one_within_the_cap():
    result = allocate(sp500_prices().iloc[:, :6], ["sma_cross", "momentum"], max_weight=0.25)
    assert result.weights.shape == (2, 6)
    assert result.weights.sum() == pytest.approx(1.0) and result.weights.max() <= 0.25 + 1e-12
    assert 0 < result.diversification < 1


def test_more_diversification_spreads_the_matrix():
    prices = sp500_prices().iloc[:, :6]
    tight = allocate(prices, ["sma_cross", "momentum"], diversification=0.0, max_weight=1.0)
    wide = allocate(prices, ["sma_cross", "momentum"], diversification=5.0, max_weight=1.0)
    assert wide.diversification > tight.diversification


def test_unknown_strategy_and_infeasible_cap_are_one_line():
    prices = sp500_prices().iloc[:, :2]
    with pytest.raises(PortfolioInputError, match="max_weight: 0.2 x 2 assets"):
        allocate(prices, ["sma_cross"], max_weight=0.2)
