"""The Student-t fit by differential evolution against scipy.stats.t.fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine.optimize.mle import fit_student_t


@pytest.mark.parametrize(("df", "seed"), [(3.0, 1), (5.0, 2), (12.0, 3)])
def test_de_fit_equals_scipy_fit(df, seed):
    rng = np.random.default_rng(seed)
    returns = stats.t.rvs(df, loc=0.0005, scale=0.01, size=3000, random_state=rng)
    ours = fit_student_t(returns, seed=seed)
    df_s, loc_s, scale_s = stats.t.fit(returns)
    theirs = float(np.sum(stats.t.logpdf(returns, df_s, loc=loc_s, scale=scale_s)))
    # The same maximum: the likelihoods agree to 1e-6 (ours never below scipy's by more),
    # and so do the parameters, to the flatness of the likelihood in each.
    assert ours.log_likelihood >= theirs - 1e-6
    assert ours.df == pytest.approx(df_s, rel=1e-3)
    assert ours.loc == pytest.approx(loc_s, abs=1e-6)
    assert ours.scale == pytest.approx(scale_s, rel=1e-4)


def test_real_sp500_returns_fit_like_scipy():
    """Real daily returns (S&P 500 via the arch package's dataset): fat tails, df ~ 3."""
    from engine.data.sources import load_source

    close = next(iter(load_source("arch:sp500").frames.values()))["close"].to_numpy()
    returns = np.diff(np.log(close))
    ours = fit_student_t(returns)
    df_s, loc_s, scale_s = stats.t.fit(returns)
    theirs = float(np.sum(stats.t.logpdf(returns, df_s, loc=loc_s, scale=scale_s)))
    assert ours.log_likelihood >= theirs - 1e-6
    assert ours.df == pytest.approx(df_s, rel=1e-3)
    assert 2 < ours.df < 5


def test_too_few_returns_is_refused():
    with pytest.raises(ValueError, match="at least 10"):
        fit_student_t(np.arange(5.0))
