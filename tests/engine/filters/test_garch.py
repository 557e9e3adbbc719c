"""Our GARCH forecast is arch's forecast of the same fitted model."""

from __future__ import annotations

import numpy as np
import pytest
from arch import arch_model
from scipy.stats import chi2

from engine.data.datasets import load_dataset
from engine.signals.filters.garch import SCALE, fit_garch, high_probability


@pytest.fixture(scope="module")
def returns():
    _, frame = load_dataset("sp500")
    return np.diff(np.log(frame["close"].to_numpy()))


@pytest.mark.parametrize("dist", ["normal", "t"])
def test_forecast_at_the_fit_end_equals_arch(returns, dist):
    r = returns[:3000]
    model = fit_garch(r, dist)
    res = arch_model(r * SCALE, mean="Constant", vol="GARCH", p=1, q=1,
                     dist="t" if dist == "t" else "normal", rescale=False).fit(disp="off")
    np.testing.assert_allclose([model.mu, model.omega, model.alpha, model.beta],
                               res.params.iloc[:4].to_numpy(), rtol=1e-12)
    theirs = res.forecast(horizon=10, reindex=False).variance.to_numpy()[0]
    np.testing.assert_allclose(model.forecast_at_fit_end(10), theirs, rtol=1e-10)


def test_forecasts_after_the_fit_equal_arch_with_the_same_parameters(returns):
    """Continuing the recursion over later returns equals arch's fixed-parameter model
    run over the whole series (same start, so the same backcast)."""
    fit_part, later = returns[:2500], returns[2500:2800]
    model = fit_garch(fit_part)
    ours = model.next_variances(later)  # sigma2[t+1 | t] for the fit end and each later bar
    fixed = arch_model(np.concatenate([fit_part, later]) * SCALE, mean="Constant",
                       vol="GARCH", p=1, q=1, rescale=False).fix(
        [model.mu, model.omega, model.alpha, model.beta])
    for k in (0, 1, 57, 299):
        end = 2500 + k  # bars 0 .. end-1 seen
        theirs = fixed.forecast(horizon=5, start=end - 1, reindex=False).variance.to_numpy()
        mean_ours = model.horizon_mean(ours[k:k + 1], 5)[0] * SCALE ** 2
        np.testing.assert_allclose(mean_ours, theirs[0].mean(), rtol=1e-9)


def test_high_probability_is_the_chi_square_tail():
    variance = np.array([1e-4, 4e-4, 9e-4])
    h, threshold = 5, 0.02
    expected = chi2.sf(h * threshold ** 2 / variance, h)
    np.testing.assert_allclose(high_probability(variance, threshold, h), expected, rtol=1e-12)


def test_resuming_the_recursion_equals_running_it_whole(returns):
    """The live desk steps the recursion between judgements; the same numbers result."""
    model = fit_garch(returns[:2000])
    later = returns[2000:2300]
    whole = model.next_variances(later)
    state = whole[100]  # sigma2 after the first 100 later returns
    np.testing.assert_allclose(model.next_from(state, later[100:250]), whole[250], rtol=1e-13)


def test_minute_returns_are_fitted_at_the_optimum_of_rescaled_data():
    """Minute returns in percent are too small for arch's optimizer: without its rescaling
    the fit stopped near the starting values. The model keeps arch's rescaling, so its
    likelihood is the optimum's and its forecast is arch's on the rescaled returns."""
    from engine.data.sources import load_source

    close = load_source("sim:BTC/USDT", bars=10_001, seed=7,
                        freq="1min").frames["BTC/USDT"]["close"].to_numpy()
    r = np.diff(np.log(close))
    model = fit_garch(r)
    assert model.scale > SCALE  # arch rescaled the percent returns
    res = arch_model(r * SCALE, mean="Constant", vol="GARCH", p=1, q=1,
                     rescale=True).fit(disp="off")
    assert res.scale * SCALE == model.scale
    theirs = res.forecast(horizon=5, reindex=False).variance.to_numpy()[0]
    np.testing.assert_allclose(model.forecast_at_fit_end(5), theirs, rtol=1e-10)
    unscaled = arch_model(r * SCALE, mean="Constant", vol="GARCH", p=1, q=1,
                          rescale=False).fit(disp="off", show_warning=False)
    # Log-likelihoods of the returns themselves (the Jacobian of each scaling added).
    ours = model.loglikelihood + len(r) * np.log(model.scale)
    stopped_early = unscaled.loglikelihood + len(r) * np.log(SCALE)
    assert ours > stopped_early + 10
    # In return units the forecast does not depend on the scale the fit ran at.
    per_bar = model.forecast_after(r[-3:], 5)
    assert np.all((per_bar > 1e-9) & (per_bar < 1e-5))
