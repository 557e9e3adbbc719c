"""Indicators over long histories: the recursions agree with a textbook loop, a value never
depends on how many bars follow it, and no indicator loads SciPy (its import costs more
than a small backtest)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals import indicators as ind

SPLIT = 4096  # a long history: a few thousand bars, as a live window holds


def _close(n: int, seed: int = 11, holes: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    if holes:
        close[rng.random(n) < 0.002] = np.nan
    return close


def _recursion_loop(x: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """The recursion straight from its definition, one finite value at a time."""
    out = np.full(len(x), np.nan)
    seen: list[float] = []
    y = None
    for t, value in enumerate(x):
        if not np.isfinite(value):
            continue
        if y is None:
            seen.append(value)
            if len(seen) == n:
                y = sum(seen) / n
                out[t] = y
            continue
        y = (1.0 - alpha) * y + alpha * value
        out[t] = y
    return out


@pytest.mark.parametrize("n", [1, 10, 26, 200])
def test_ema_and_wilder_past_the_split_match_the_loop(n):
    close = _close(3 * SPLIT + 123)
    np.testing.assert_allclose(ind.ema(close, n), _recursion_loop(close, n, 2 / (n + 1)),
                               rtol=1e-12)
    np.testing.assert_allclose(ind.wilder(close, n), _recursion_loop(close, n, 1 / n),
                               rtol=1e-12)


def test_values_around_the_split_do_not_depend_on_later_bars():
    close = _close(2 * SPLIT + 500)
    high, low = close * 1.01, close * 0.99
    full = {"ema": ind.ema(close, 10), "rsi": ind.rsi(close, 14),
            "atr": ind.atr(high, low, close, 14), "adx": ind.adx(high, low, close, 14).adx}
    for cut in (SPLIT - 1, SPLIT + 9, SPLIT + 10, SPLIT + 11, SPLIT + 40, 2 * SPLIT + 1):
        part = {"ema": ind.ema(close[:cut], 10), "rsi": ind.rsi(close[:cut], 14),
                "atr": ind.atr(high[:cut], low[:cut], close[:cut], 14),
                "adx": ind.adx(high[:cut], low[:cut], close[:cut], 14).adx}
        for name, values in part.items():
            np.testing.assert_array_equal(values, full[name][:cut], err_msg=f"{name} @ {cut}")


@pytest.mark.parametrize("n", [1, 7, 20, 64])
def test_donchian_on_a_long_history_equals_pandas_rolling(n):
    close = _close(10_007, holes=True)
    high, low = close * 1.01, close * 0.99
    got = ind.donchian(high, low, n)
    np.testing.assert_array_equal(got.upper, pd.Series(high).rolling(n).max())
    np.testing.assert_array_equal(got.lower, pd.Series(low).rolling(n).min())


def test_no_indicator_loads_scipy():
    code = (
        "import sys, numpy as np\n"
        "from engine.signals import indicators as ind\n"
        "c = 100 + np.cumsum(np.random.default_rng(1).normal(size=2000))\n"
        "h, l = c + 1, c - 1\n"
        "ind.ema(c, 10); ind.wilder(c, 14); ind.rsi(c); ind.macd(c); ind.atr(h, l, c)\n"
        "ind.adx(h, l, c); ind.donchian(h, l, 20); ind.bollinger(c); ind.zscore(c, 20)\n"
        "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1,
                       max_size=400),
       alpha=st.sampled_from([1 / 14, 2 / 13, 2 / 27, 2 / 10, 1 / 3, 1.0]))
def test_the_direct_compiled_recursion_is_pandas_ewm_bit_for_bit(values, alpha):
    """The recursions call pandas' compiled ewm loop directly (a Series per call cost ten
    times the loop over a live window); on this pandas it must be the public route."""
    loop = ind._compiled_ewm()
    assert loop is not None, "the direct loop was refused on this pandas: recursions are slow"
    x = np.array(values)
    expected = pd.Series(x).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    np.testing.assert_array_equal(loop(x, alpha), expected)
