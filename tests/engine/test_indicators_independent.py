"""Indicators against two independent computations: pandas, and plain-Python loops written
straight from the textbook definitions (Wilder 1978 for RSI/ATR/ADX, in his running-sum
form for ADX; Appel for MACD; Bollinger for the bands)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.signals import indicators as ind


def _ohlc(n: int = 300, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    high = close * (1.0 + rng.uniform(0.0, 0.01, n))
    low = close * (1.0 - rng.uniform(0.0, 0.01, n))
    return high, low, close


def _sma_seeded_ewm(x: pd.Series, n: int, alpha: float) -> np.ndarray:
    """pandas' recursive ewm, fed the SMA of the first n values as its first value."""
    seeded = pd.concat([pd.Series([x.iloc[:n].mean()]), x.iloc[n:]], ignore_index=True)
    out = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return np.concatenate([np.full(n - 1, np.nan), out])


# ------------------------------------------------------------------------- pandas


@pytest.mark.parametrize("n", [1, 5, 20])
def test_sma_std_zscore_match_pandas_rolling(n):
    _, _, close = _ohlc()
    s = pd.Series(close)
    mean, std = s.rolling(n).mean(), s.rolling(n).std(ddof=0)

    np.testing.assert_allclose(ind.sma(close, n), mean, rtol=1e-12)
    np.testing.assert_allclose(ind.rolling_std(close, n), std, rtol=1e-9, atol=1e-12)
    if n > 1:
        np.testing.assert_allclose(ind.zscore(close, n), (s - mean) / std, rtol=1e-8)


@pytest.mark.parametrize("n", [3, 12, 26])
def test_ema_matches_pandas_ewm_with_sma_seed(n):
    _, _, close = _ohlc()

    expected = _sma_seeded_ewm(pd.Series(close), n, 2.0 / (n + 1))

    np.testing.assert_allclose(ind.ema(close, n), expected, rtol=1e-12)


def test_macd_matches_pandas_ewm():
    _, _, close = _ohlc()
    s = pd.Series(close)

    line = _sma_seeded_ewm(s, 12, 2 / 13) - _sma_seeded_ewm(s, 26, 2 / 27)
    signal = np.full(len(close), np.nan)
    signal[25:] = _sma_seeded_ewm(pd.Series(line[25:]), 9, 2 / 10)
    got = ind.macd(close)

    np.testing.assert_allclose(got.line, line, rtol=1e-12)
    np.testing.assert_allclose(got.signal, signal, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.histogram, line - signal, rtol=1e-8, atol=1e-12)
    assert np.isnan(got.signal[:33]).all() and not np.isnan(got.signal[33])


def test_bollinger_and_donchian_match_pandas_rolling():
    high, low, close = _ohlc()
    s = pd.Series(close)
    mid, sd = s.rolling(20).mean(), s.rolling(20).std(ddof=0)

    bands = ind.bollinger(close, 20, 2.5)
    channel = ind.donchian(high, low, 20)

    np.testing.assert_allclose(bands.upper, mid + 2.5 * sd, rtol=1e-12)
    np.testing.assert_allclose(bands.lower, mid - 2.5 * sd, rtol=1e-12)
    np.testing.assert_allclose(bands.width, 5.0 * sd / mid, rtol=1e-9)
    np.testing.assert_array_equal(channel.upper, pd.Series(high).rolling(20).max())
    np.testing.assert_array_equal(channel.lower, pd.Series(low).rolling(20).min())


def test_momentum_matches_pandas_pct_change():
    _, _, close = _ohlc()
    for n in (5, 10, 20):
        expected = pd.Series(close).pct_change(n)
        np.testing.assert_allclose(ind.momentum(close, n), expected, rtol=1e-12)


# ------------------------------------------------------------- textbook loops


def _rsi_loop(close: list[float], n: int) -> list[float]:
    out = [math.nan] * len(close)
    gains = [max(close[i] - close[i - 1], 0.0) for i in range(1, len(close))]
    losses = [max(close[i - 1] - close[i], 0.0) for i in range(1, len(close))]
    avg_g, avg_l = sum(gains[:n]) / n, sum(losses[:n]) / n
    for i in range(n, len(close)):
        if i > n:
            avg_g = (avg_g * (n - 1) + gains[i - 1]) / n
            avg_l = (avg_l * (n - 1) + losses[i - 1]) / n
        out[i] = 100.0 if avg_l == 0 else 100.0 - 100.0 / (1.0 + avg_g / avg_l)
    return out


def _atr_loop(high, low, close, n: int) -> list[float]:
    tr = [high[0] - low[0]] + [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
        for i in range(1, len(close))
    ]
    out = [math.nan] * len(close)
    value = sum(tr[:n]) / n
    out[n - 1] = value
    for i in range(n, len(close)):
        value = (value * (n - 1) + tr[i]) / n
        out[i] = value
    return out


def _adx_loop(high, low, close, n: int):
    """Wilder's worksheet: 14-day sums of TR, +DM, -DM smoothed as sum - sum/14 + today."""
    size = len(close)
    adx, pdi, mdi = [math.nan] * size, [math.nan] * size, [math.nan] * size
    tr, pdm, mdm = [0.0] * size, [0.0] * size, [0.0] * size
    for i in range(1, size):
        tr[i] = max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
        up, down = high[i] - high[i - 1], low[i - 1] - low[i]
        pdm[i] = up if up > down and up > 0 else 0.0
        mdm[i] = down if down > up and down > 0 else 0.0
    tr_n, pdm_n, mdm_n = sum(tr[1 : n + 1]), sum(pdm[1 : n + 1]), sum(mdm[1 : n + 1])
    dx = []
    for i in range(n, size):
        if i > n:
            tr_n = tr_n - tr_n / n + tr[i]
            pdm_n = pdm_n - pdm_n / n + pdm[i]
            mdm_n = mdm_n - mdm_n / n + mdm[i]
        pdi[i], mdi[i] = 100.0 * pdm_n / tr_n, 100.0 * mdm_n / tr_n
        dx.append(100.0 * abs(pdi[i] - mdi[i]) / (pdi[i] + mdi[i]))
        if len(dx) == n:
            adx[i] = sum(dx) / n
        elif len(dx) > n:
            adx[i] = (adx[i - 1] * (n - 1) + dx[-1]) / n
    return adx, pdi, mdi


def _ema_loop(x: list[float], n: int) -> list[float]:
    alpha = 2.0 / (n + 1)
    out = [math.nan] * len(x)
    value = sum(x[:n]) / n
    out[n - 1] = value
    for i in range(n, len(x)):
        value = alpha * x[i] + (1 - alpha) * value
        out[i] = value
    return out


def test_rsi_matches_wilder_loop():
    _, _, close = _ohlc()
    for n in (2, 14, 30):
        np.testing.assert_allclose(ind.rsi(close, n), _rsi_loop(list(close), n), rtol=1e-10)


def test_atr_matches_wilder_loop():
    high, low, close = _ohlc()
    for n in (1, 14, 20):
        np.testing.assert_allclose(
            ind.atr(high, low, close, n), _atr_loop(high, low, close, n), rtol=1e-10
        )


def test_adx_matches_wilder_worksheet_loop():
    high, low, close = _ohlc()

    got = ind.adx(high, low, close, 14)
    adx, pdi, mdi = _adx_loop(list(high), list(low), list(close), 14)

    np.testing.assert_allclose(got.plus_di, pdi, rtol=1e-9)
    np.testing.assert_allclose(got.minus_di, mdi, rtol=1e-9)
    np.testing.assert_allclose(got.adx, adx, rtol=1e-9)
    assert np.isnan(got.adx[:27]).all() and not np.isnan(got.adx[27])


def test_ema_matches_textbook_loop():
    _, _, close = _ohlc()
    np.testing.assert_allclose(ind.ema(close, 10), _ema_loop(list(close), 10), rtol=1e-12)
