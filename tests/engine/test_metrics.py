"""Metrics against closed forms and against a second, independent computation."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from engine.trading.metrics import compute_metrics, max_drawdown


def test_constant_growth_has_zero_volatility_and_known_cagr():
    index = pd.date_range("2021-01-01", periods=366, freq="D")  # exactly 365 days
    equity = 1000.0 * 1.0005 ** np.arange(366)
    m = compute_metrics(equity, index, [], exposure=1.0)
    years = 365 / 365.25
    assert m["total_return"] == pytest.approx(1.0005**365 - 1, rel=1e-12)
    assert m["annualized_return"] == pytest.approx((1.0005**365) ** (1 / years) - 1, rel=1e-12)
    assert m["periods_per_year"] == pytest.approx(365.25)
    assert m["volatility"] == pytest.approx(0.0, abs=1e-12)
    assert m["sharpe"] is None and m["sortino"] is None  # no risk: ratios undefined
    assert m["max_drawdown"] == 0.0 and m["calmar"] is None
    assert m["var_95"] == pytest.approx(-0.0005)  # the worst bar is still a gain
    assert m["expected_shortfall_95"] == pytest.approx(-0.0005)
    json.dumps(m, allow_nan=False)


def test_one_known_drawdown_and_calmar():
    index = pd.date_range("2020-01-01", periods=5, freq="D")
    equity = np.array([100.0, 120.0, 90.0, 110.0, 130.0])
    m = compute_metrics(equity, index, [], exposure=0.5)
    assert m["max_drawdown"] == pytest.approx(0.25)  # 120 -> 90
    years = 4 / 365.25
    cagr = 1.3 ** (1 / years) - 1
    assert m["annualized_return"] == pytest.approx(cagr)
    assert m["calmar"] == pytest.approx(cagr / 0.25)
    assert m["total_return"] == pytest.approx(0.3)
    assert m["exposure"] == 0.5


def quantile_by_hand(values: list[float], p: float) -> float:
    """Linear interpolation between order statistics (Hyndman-Fan type 7)."""
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def test_ratios_and_tail_risk_match_pandas_scipy_and_a_plain_loop():
    rng = np.random.default_rng(42)
    index = pd.bdate_range("2022-01-03", periods=600)
    equity = 10_000 * np.cumprod(1 + rng.normal(0.0004, 0.012, 600))
    m = compute_metrics(equity, index, [], exposure=1.0, periods_per_year=252,
                        risk_free_rate=0.0)

    r = pd.Series(equity).pct_change().dropna()
    assert m["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(252), rel=1e-9)
    assert m["volatility"] == pytest.approx(r.std() * math.sqrt(252), rel=1e-9)

    returns = r.tolist()
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in returns) / len(returns))
    mean = sum(returns) / len(returns)
    assert m["sortino"] == pytest.approx(mean / downside * math.sqrt(252), rel=1e-9)

    q = quantile_by_hand(returns, 0.05)
    assert m["var_95"] == pytest.approx(-q, rel=1e-12)
    assert m["var_95"] == pytest.approx(-stats.scoreatpercentile(returns, 5), rel=1e-12)
    tail = [x for x in returns if x <= q]
    assert m["expected_shortfall_95"] == pytest.approx(-sum(tail) / len(tail), rel=1e-12)

    peak, worst = -math.inf, 0.0
    for v in equity:
        peak = max(peak, v)
        worst = max(worst, 1 - v / peak)
    assert m["max_drawdown"] == pytest.approx(worst, rel=1e-12)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.date_range("2022-01-01", "2024-01-01", freq="h"), 24 * 365.25),
        (pd.date_range("2022-01-01", "2024-01-01", freq="D"), 365.25),
        (pd.date_range("2022-01-01", periods=1001, freq="7D"), 365.25 / 7),
    ],
)
def test_periods_per_year_inferred_from_the_index_span(index, expected):
    equity = np.linspace(100.0, 120.0, len(index))
    m = compute_metrics(equity, index, [], exposure=0.0)
    assert m["periods_per_year"] == pytest.approx(expected)


@dataclass
class T:
    pnl: Decimal
    return_pct: float


def test_trade_statistics_from_objects_and_dicts():
    trades = [T(Decimal("10"), 1.0), T(Decimal("-5"), -0.5), {"pnl": "20", "return_pct": 2.0},
              {"pnl": "-5", "return_pct": -0.5}, T(Decimal("0"), 0.0)]
    index = pd.date_range("2020-01-01", periods=3, freq="D")
    m = compute_metrics(np.array([1.0, 2.0, 3.0]), index, trades, exposure=0.2)
    assert m["num_trades"] == 5
    assert m["win_rate"] == pytest.approx(0.4)
    assert m["profit_factor"] == pytest.approx(3.0)  # 30 / 10
    assert m["avg_trade"] == pytest.approx(4.0)
    assert m["avg_trade_return_pct"] == pytest.approx(0.4)
    assert (m["best_trade"], m["worst_trade"]) == (20.0, -5.0)


def test_no_losses_no_trades_and_tiny_inputs_stay_valid_json():
    index = pd.date_range("2020-01-01", periods=3, freq="D")
    winners = compute_metrics(np.array([1.0, 1.0, 1.0]), index,
                              [{"pnl": 1, "return_pct": 1}], exposure=0)
    assert winners["profit_factor"] is None and winners["win_rate"] == 1.0
    none = compute_metrics(np.array([5.0]), index[:1], [], exposure=0)
    assert none["num_trades"] == 0 and none["win_rate"] is None and none["sharpe"] is None
    for m in (winners, none):
        json.dumps(m, allow_nan=False)
    with pytest.raises(ValueError):
        compute_metrics(np.array([1.0, np.nan]), index[:2], [], exposure=0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=2, max_size=60))
def test_drawdown_and_tail_invariants(values):
    equity = np.array(values)
    index = pd.date_range("2020-01-01", periods=len(values), freq="D")
    m = compute_metrics(equity, index, [], exposure=0)
    peak, worst = values[0], 0.0
    for v in values:
        peak = max(peak, v)
        worst = max(worst, (peak - v) / peak)
    assert m["max_drawdown"] == pytest.approx(worst, abs=1e-12)
    assert 0 <= m["max_drawdown"] < 1
    assert m["expected_shortfall_95"] >= m["var_95"] - 1e-15  # the tail is beyond its edge
    json.dumps(m, allow_nan=False)


def test_max_drawdown_helper_on_a_rising_curve_is_zero():
    assert max_drawdown(np.arange(1.0, 10.0)) == 0.0


def test_sharpe_and_sortino_subtract_the_risk_free_rate_compounded_to_one_bar():
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2022-01-03", periods=800)
    equity = 10_000 * np.cumprod(1 + rng.normal(0.0005, 0.01, 800))
    m = compute_metrics(equity, index, [], exposure=1.0, periods_per_year=252,
                        risk_free_rate=0.02)
    r = pd.Series(equity).pct_change().dropna()
    rf = 1.02 ** (1 / 252) - 1  # 2% a year, compounded down to one day
    excess = r - rf
    assert m["risk_free_rate"] == 0.02
    assert m["sharpe"] == pytest.approx(excess.mean() / r.std() * math.sqrt(252), rel=1e-9)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / len(excess))
    assert m["sortino"] == pytest.approx(excess.mean() / downside * math.sqrt(252), rel=1e-9)
    # The default is the documented 2%: the same figures without naming it.
    default = compute_metrics(equity, index, [], exposure=1.0, periods_per_year=252)
    assert default["sharpe"] == m["sharpe"]
    assert m["var_label"] == "VaR 95% historical (1 bar)"


def test_a_backtest_takes_the_risk_free_rate_from_the_configuration():
    from engine.backtest.job import build_spec
    from engine.config.schema import config_from_dict

    assert build_spec(config_from_dict({})).risk_free_rate == 0.02
    assert build_spec(config_from_dict({"metrics": {"risk_free_rate": 0.05}})
                      ).risk_free_rate == 0.05
