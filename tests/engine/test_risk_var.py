"""VaR and ES: historical against numpy, normal against its closed form, Cornish-Fisher
against the normal at zero skew and kurtosis and against numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from engine.risk.var import cornish_fisher_var_es, horizon_bars, standard_set, var_es


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_historical_equals_a_direct_numpy_computation(level):
    r = np.random.default_rng(1).standard_t(4, 2000) * 0.01
    q = np.quantile(r, 1 - level)  # numpy's default: linear interpolation
    estimate = var_es(r, level, "historical")
    assert estimate.var == pytest.approx(-q, rel=1e-12)
    assert estimate.es == pytest.approx(-r[r <= q].mean(), rel=1e-12)
    assert estimate.label == f"VaR {level:.0%} historical (1 bar)"


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_parametric_normal_equals_the_closed_form(level):
    r = np.random.default_rng(2).normal(0.0003, 0.012, 1500)
    m, s = r.mean(), r.std(ddof=1)
    z = stats.norm.ppf(1 - level)
    estimate = var_es(r, level, "normal")
    assert estimate.var == pytest.approx(-(m + s * z), rel=1e-12)
    assert estimate.es == pytest.approx(-(m - s * stats.norm.pdf(z) / (1 - level)), rel=1e-12)


@given(st.floats(-0.01, 0.01), st.floats(1e-4, 0.1), st.sampled_from([0.95, 0.99]))
def test_cornish_fisher_reduces_to_the_normal_at_zero_skew_and_kurtosis(mean, std, level):
    cf = cornish_fisher_var_es(mean, std, 0.0, 0.0, level)
    z = stats.norm.ppf(1 - level)
    assert cf[0] == pytest.approx(-(mean + std * z), rel=1e-12, abs=1e-15)
    assert cf[1] == pytest.approx(-(mean - std * stats.norm.pdf(z) / (1 - level)),
                                  rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("skew", "kurt"), [(-0.8, 3.0), (0.5, 1.0), (-0.2, 0.5)])
def test_cornish_fisher_es_equals_the_tail_integral_of_its_quantile(skew, kurt):
    level = 0.95
    alpha = 1 - level

    def quantile(u):
        z = stats.norm.ppf(u)
        return (z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24
                - (2 * z**3 - 5 * z) * skew**2 / 36)

    var, es = cornish_fisher_var_es(0.0, 1.0, skew, kurt, level)
    assert var == pytest.approx(-quantile(alpha), rel=1e-12)
    integral, _ = integrate.quad(quantile, 0, alpha, limit=200)
    assert es == pytest.approx(-integral / alpha, rel=1e-7)


def test_cornish_fisher_uses_the_sample_skewness_and_kurtosis():
    r = np.random.default_rng(5).standard_t(5, 3000) * 0.01
    m, s = r.mean(), r.std(ddof=1)
    skew, kurt = stats.skew(r), stats.kurtosis(r)
    z = stats.norm.ppf(0.01)
    z_cf = (z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24
            - (2 * z**3 - 5 * z) * skew**2 / 36)
    assert var_es(r, 0.99, "cornish_fisher").var == pytest.approx(-(m + s * z_cf), rel=1e-10)


def test_horizons_scale_the_moments_or_by_the_square_root_of_time():
    r = np.random.default_rng(7).normal(0.0002, 0.01, 1000)
    bars = horizon_bars("day", bar_seconds=3600)
    assert bars == 24
    one = var_es(r, 0.95, "historical")
    day = var_es(r, 0.95, "historical", horizon="day", bars=bars)
    assert day.var == pytest.approx(one.var * math.sqrt(24))
    assert day.label == "VaR 95% historical (1 day)"
    normal_day = var_es(r, 0.95, "normal", horizon="day", bars=24)
    m, s = r.mean() * 24, r.std(ddof=1) * math.sqrt(24)
    assert normal_day.var == pytest.approx(-(m + s * stats.norm.ppf(0.05)), rel=1e-12)
    assert horizon_bars("day", bar_seconds=86_400 * 7) == 1  # a weekly bar is its own day
    assert horizon_bars("year", periods_per_year=252) == 252


def test_standard_set_has_every_method_level_and_horizon_with_distinct_labels():
    r = np.random.default_rng(8).normal(0, 0.01, 500)
    table = standard_set(r, bars_per_day=1, periods_per_year=252)
    assert len(table) == 3 * 2 * 3
    assert len({e.label for e in table}) == len(table)
    assert all(e.es >= e.var for e in table)


@settings(max_examples=50)
@given(st.lists(st.floats(-0.5, 0.5), min_size=2, max_size=300),
       st.sampled_from([0.95, 0.99]))
def test_es_is_never_below_var_for_the_historical_method(values, level):
    estimate = var_es(np.array(values), level, "historical")
    assert estimate.es >= estimate.var - 1e-12


def test_undefined_inputs_give_none_and_bad_arguments_are_refused():
    assert var_es(np.array([]), 0.95).var is None
    assert var_es(np.array([0.01]), 0.95, "normal").es is None
    with pytest.raises(ValueError, match="method"):
        var_es(np.zeros(3), 0.95, "garch")
    with pytest.raises(ValueError, match="level"):
        var_es(np.zeros(3), 0.3)
