"""Stylized facts of real markets, measured on the simulated market's output.

One long daily run of three symbols is shared by the tests (a module fixture): 30,000
bars is enough for every statistic below to sit several standard errors from its bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.sim import REGIME_NAMES, SimMarket

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
N = 30_000


@pytest.fixture(scope="module")
def run():
    market = SimMarket(SYMBOLS, seed=2024, freq="1D")
    frames = market.history(N)
    returns = {s: np.diff(np.log(frames[s]["close"].to_numpy())) for s in SYMBOLS}
    # Return t (close t-1 -> close t) was drawn in the regime of bar t.
    return market, returns, market.regimes[1:]


def autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float(np.dot(x[lag:], x[:-lag]) / np.dot(x, x))


def excess_kurtosis(x: np.ndarray) -> float:
    z = (x - x.mean()) / x.std()
    return float(np.mean(z**4) - 3.0)


def test_returns_are_fat_tailed(run):
    from scipy.stats import kurtosis

    _, returns, _ = run
    for r in returns.values():
        # Two computations of the same statistic agree; the value is clearly > 0
        # (its standard error for a normal sample of this size is about 0.03).
        assert excess_kurtosis(r) == pytest.approx(kurtosis(r), rel=1e-9)
        assert excess_kurtosis(r) > 1.0


def test_volatility_clusters_but_returns_do_not_predict_returns(run):
    _, returns, _ = run
    for r in returns.values():
        assert autocorrelation(np.abs(r), 1) > 0.1
        assert autocorrelation(np.abs(r), 10) > 0.05
        # Within three standard errors of zero. The plain 1/sqrt(N) error understates it
        # for fat-tailed, clustered returns: use the heteroskedasticity-robust one.
        x = r - r.mean()
        robust_se = np.sqrt(np.sum(x[1:] ** 2 * x[:-1] ** 2)) / np.sum(x**2)
        assert abs(autocorrelation(r, 1)) < 3 * robust_se


def test_realized_correlation_matches_the_configured_one(run):
    market, returns, _ = run
    realized = np.corrcoef([returns[s] for s in SYMBOLS])
    np.testing.assert_allclose(realized, market.correlation, atol=0.03)
    assert market.correlation[0, 1] == pytest.approx(0.81, abs=0.01)


def test_mean_return_orders_bull_above_sideways_above_bear(run):
    _, returns, regimes = run
    bull, bear, sideways = (REGIME_NAMES.index(n) for n in ("bull", "bear", "sideways"))
    for r in returns.values():
        means = {g: r[regimes == g].mean() for g in (bull, bear, sideways)}
        errors = {g: r[regimes == g].std() / np.sqrt(np.count_nonzero(regimes == g)) for g in means}
        assert means[bull] - 2 * errors[bull] > means[sideways] + 2 * errors[sideways]
        assert means[sideways] - 2 * errors[sideways] > means[bear] + 2 * errors[bear]


def test_volume_rises_with_the_size_of_the_move(run):
    market, returns, _ = run
    frames = market.history(N)
    for s, r in returns.items():
        volume = frames[s]["volume"].to_numpy()[1:]
        big = np.abs(r) > np.quantile(np.abs(r), 0.9)
        small = np.abs(r) < np.quantile(np.abs(r), 0.1)
        assert np.median(volume[big]) > 1.5 * np.median(volume[small])
