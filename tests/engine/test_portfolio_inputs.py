"""Inputs from prices: conventions, periods per year, and one-line errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import estimate_inputs, periods_per_year
from engine.portfolio.optimize import OptimizeSettings, optimize_prices
from tests.engine.portfolio_builders import sp500_prices


def _prices(n_assets: int, rows: int, freq: str = "B") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    index = pd.date_range("2024-01-01", periods=rows, freq=freq, tz="UTC")
    steps = 1 + rng.normal(0.0005, 0.01, size=(rows, n_assets))
    return pd.DataFrame(100 * np.cumprod(steps, axis=0), index=index,
                        columns=[f"S{i}" for i in range(n_assets)])


@pytest.mark.parametrize(("freq", "expected"), [
    ("B", 252.0), ("D", 365.0), ("h", 8760.0), ("15min", 35040.0), ("W", 52.0),
    ("MS", 12.0), ("QS", 4.0),
])
def test_periods_per_year_follow_the_bar_spacing(freq, expected):
    index = pd.date_range("2020-01-01", periods=300, freq=freq, tz="UTC")
    assert periods_per_year(index) == pytest.approx(expected)


def test_expected_returns_are_annualized_arithmetic_means_of_pct_change():
    prices = sp500_prices()
    inputs = estimate_inputs(prices, cov="sample")
    simple = prices.pct_change().dropna()
    np.testing.assert_allclose(inputs.mu, simple.mean().to_numpy() * 252, rtol=1e-12)
    np.testing.assert_allclose(inputs.cov, simple.cov().to_numpy() * 252, rtol=1e-10)


def test_ledoit_wolf_is_scikit_learns_estimate_annualized():
    from sklearn.covariance import LedoitWolf

    prices = sp500_prices()
    inputs = estimate_inputs(prices, cov="ledoit_wolf")
    simple = prices.pct_change().dropna().to_numpy()
    np.testing.assert_allclose(inputs.cov, LedoitWolf().fit(simple).covariance_ * 252,
                               rtol=1e-12)


def test_assets_listed_later_start_the_common_window():
    prices = _prices(3, 60)
    prices.iloc[:10, 1] = np.nan
    assert len(estimate_inputs(prices).returns) == 49


@pytest.mark.parametrize(("prices", "settings", "message"), [
    (_prices(1, 60), {}, "need at least 2 assets, got 1"),
    (_prices(3, 15), {"max_weight": 0.5}, "too few rows: 15 prices give 14 returns"),
    (_prices(4, 60).assign(S2=np.nan), {}, "column S2 has no prices (all NaN)"),
    (_prices(4, 60), {"max_weight": 0.2}, "max_weight: 0.2 x 4 assets = 0.8 < 1"),
    (_prices(4, 60), {"method": "best"}, "method: expected one of max_sharpe"),
])
def test_bad_input_is_one_line_naming_the_problem(prices, settings, message):
    with pytest.raises(PortfolioInputError) as caught:
        optimize_prices(prices, OptimizeSettings(**settings), source="p.csv")
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert caught.value.exit_code == 2


def test_a_gap_inside_a_column_names_the_column_and_the_time():
    prices = _prices(4, 60)
    prices.iloc[30, 3] = np.nan
    with pytest.raises(PortfolioInputError, match=r"p.csv: column S3 has a missing .* at 2024"):
        optimize_prices(prices, OptimizeSettings(max_weight=0.5), source="p.csv")


def test_risk_parity_refuses_a_cap_it_cannot_respect():
    prices = _prices(4, 200)
    prices["S0"] = 100.0 * np.cumprod(np.r_[1.0, np.full(199, 1.0001)])  # almost riskless
    prices.iloc[::2, 0] *= 1.00001
    with pytest.raises(PortfolioInputError, match="risk_parity: equal risk contributions need"):
        optimize_prices(prices, OptimizeSettings(method="risk_parity", max_weight=0.3))


@pytest.mark.parametrize(("freq", "expected"), [
    ("B", 1.0), ("D", 1.0), ("h", 24.0), ("15min", 96.0), ("W", 1 / 7),
])
def test_bars_per_day_follow_the_bar_spacing(freq, expected):
    from engine.portfolio.inputs import bars_per_day

    index = pd.date_range("2020-01-01", periods=300, freq=freq, tz="UTC")
    assert bars_per_day(index) == pytest.approx(expected)
