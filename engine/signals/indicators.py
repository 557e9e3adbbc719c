"""Causal, vectorized technical indicators: numpy arrays in, float64 arrays out.

Every function returns arrays as long as its input, NaN during warm-up, and the value at
bar t depends only on bars <= t (so a backtest over a whole history and a live run over the
history up to now agree bit for bit).

Two kinds of computation, with two NaN rules:

* Windowed indicators (SMA, rolling σ, z-score, Bollinger, Donchian, momentum) are pure
  functions of the last `n` bars, computed over a sliding-window view. A window holding a
  NaN gives NaN; the NaN never reaches windows that do not contain it.
* Recursive indicators (EMA, Wilder's smoothing, RSI, ATR, ADX) run their recursion over
  the finite inputs only: a NaN bar gets a NaN output and the recursion carries its state
  across it (leading NaNs, e.g. the warm-up of an indicator being smoothed, are simply
  skipped). The seed is the simple mean of the first `n` finite values, so the first value
  appears on the n-th finite input.

No SciPy on import or on the common path: `scipy.signal` alone costs about a second to
import, longer than a whole small backtest.

Conventions chosen, each as its author defines it:

* EMA: alpha = 2/(n+1), seeded with the SMA of the first n values (StockCharts' and most
  books' definition), not pandas' default seed of the first value.
* Wilder's smoothing (RSI, ATR, ADX): alpha = 1/n, seeded with the simple mean of the first
  n values (Wilder, New Concepts in Technical Trading Systems, 1978).
* RSI when both average gain and loss are 0 (a flat market) is 50; when only the average
  loss is 0 it is 100.
* ATR's first true range is the first bar's high - low (StockCharts), so ATR starts at bar
  n-1. ADX's directional movement needs a previous bar, so its true ranges start at bar 1:
  +DI/-DI start at bar n and ADX at bar 2n-1.
* Bollinger bands use the population standard deviation (ddof=0), as Bollinger defines.
* Momentum is the n-bar rate of change as a fraction: close[t] / close[t-n] - 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class MACD(NamedTuple):
    line: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


class Bollinger(NamedTuple):
    mid: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    width: np.ndarray  # (upper - lower) / mid


class ADX(NamedTuple):
    adx: np.ndarray
    plus_di: np.ndarray
    minus_di: np.ndarray


class Donchian(NamedTuple):
    upper: np.ndarray  # highest high of the last n bars, current bar included
    lower: np.ndarray  # lowest low of the last n bars, current bar included


# ---------------------------------------------------------------------------- helpers


def _series(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _period(n: object, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays differ in length: {lengths}")


def _windows(x: np.ndarray, n: int) -> np.ndarray | None:
    """The sliding windows ending at bars n-1..len-1, or None if there are none."""
    if len(x) < n:
        return None
    return sliding_window_view(x, n)


def _nan_like(x: np.ndarray) -> np.ndarray:
    return np.full(len(x), np.nan)


# Rows per block when reducing sliding windows: keeps numpy's temporaries in cache
# (about 3x faster than one pass over a million windows, and bit-identical).
_BLOCK = 8192


def _window_std(x: np.ndarray, n: int) -> np.ndarray:
    """Population σ of each full window (two-pass, so a constant window gives exactly 0)."""
    w = _windows(x, n)
    if w is None:
        return np.empty(0)
    out = np.empty(len(w))
    for start in range(0, len(w), _BLOCK):
        out[start : start + _BLOCK] = w[start : start + _BLOCK].std(axis=1)
    return out


def _sliding_max(x: np.ndarray, n: int) -> np.ndarray:
    """Max of each full window of n values of x (no NaN in x), O(len) in numpy.

    van Herk / Gil-Werman: cut x into blocks of n; a window spans at most two blocks, so its
    max is the max of a running max from the right in the first block and a running max
    from the left in the second. Maxima are exact, so this equals the direct definition.
    """
    blocks = -(-len(x) // n)
    padded = np.full(blocks * n, -np.inf)
    padded[: len(x)] = x
    grid = padded.reshape(blocks, n)
    from_left = np.maximum.accumulate(grid, axis=1).ravel()
    from_right = np.maximum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.maximum(from_right[: len(x) - n + 1], from_left[n - 1 : len(x)])


def _rolling_extreme(x: np.ndarray, n: int, highest: bool) -> np.ndarray:
    """Max (or min) of the last n values; NaN for the warm-up and for windows with a NaN."""
    out = _nan_like(x)
    if len(x) < n:
        return out
    missing = np.isnan(x)
    if highest:
        out[n - 1 :] = _sliding_max(np.where(missing, -np.inf, x), n)
    else:
        # min(x) = -max(-x), and negation is exact.
        out[n - 1 :] = -_sliding_max(np.where(missing, -np.inf, -x), n)
    holes = np.concatenate(([0], np.cumsum(missing)))
    out[n - 1 :][holes[n:] - holes[:-n] > 0] = np.nan
    return out


def _recursive_mean(x: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """y = (1-alpha)·y[-1] + alpha·x over the finite values of x, seeded with their first-n mean.

    The recursion runs in pandas' compiled exponential mean (adjust=False is exactly this
    recursion), one step after another from the seed: a value never depends on how many
    bars follow it. A live desk recomputes its window at every bar, so the loop must be
    compiled: a Python loop over a few thousand bars cost about 1 ms per indicator a bar.
    """
    out = _nan_like(x)
    idx = np.flatnonzero(np.isfinite(x))
    if len(idx) < n:
        return out
    v = x[idx]
    y = np.empty(len(v))
    y[: n - 1] = np.nan
    seed = float(v[:n].mean())
    y[n - 1] = seed
    if len(v) > n:
        y[n:] = _exponential_mean(seed, v[n:], alpha)
    out[idx] = y
    return out


def _exponential_mean(state: float, v: np.ndarray, alpha: float) -> np.ndarray:
    """The recursion continued from `state` over v, in pandas' compiled loop."""
    x = np.concatenate(([state], v))
    loop = _compiled_ewm()
    if loop is not None:
        return loop(x, alpha)[1:]
    return _series_ewm(x, alpha)[1:]


def _series_ewm(x: np.ndarray, alpha: float) -> np.ndarray:
    import pandas as pd

    return pd.Series(x).ewm(alpha=alpha, adjust=False).mean().to_numpy()


_COMPILED_EWM: list = []  # [the direct call, or None when it does not match pandas']


def _compiled_ewm():
    """The loop `Series.ewm(alpha=..., adjust=False).mean()` runs, called directly.

    A live desk recomputes each recursion over its window at every judged bar; building a
    Series and its ewm object cost about ten times the loop itself over a few hundred bars.
    The loop is pandas' internal function, so it is used only after it gave the public
    route's answer bit for bit on a probe (a NaN, a constant run, a sign change); on any
    other pandas it is None and the public route is taken."""
    if not _COMPILED_EWM:
        _COMPILED_EWM.append(_probe_compiled_ewm())
    return _COMPILED_EWM[0]


def _probe_compiled_ewm():
    try:
        from pandas._libs.window.aggregations import ewm
    except ImportError:
        return None

    def loop(x: np.ndarray, alpha: float) -> np.ndarray:
        bounds = np.array([0], dtype=np.int64), np.array([len(x)], dtype=np.int64)
        # pandas' center of mass for `alpha`, and its min_periods of 1
        return ewm(x, *bounds, 1, (1.0 - alpha) / alpha, False, False, None, True)

    probe = np.array([0.25, 1.0, np.nan, 1.0, 1.0, -3.5, 2.0 / 3.0, 1e-9, 7.0])
    try:
        ok = all(np.array_equal(loop(probe, a), _series_ewm(probe, a), equal_nan=True)
                 for a in (1.0 / 14.0, 2.0 / 13.0, 2.0 / 27.0, 0.2, 1.0))
    except (TypeError, ValueError):
        return None
    return loop if ok else None


def _ratio(num: np.ndarray, den: np.ndarray, where_zero: float) -> np.ndarray:
    """num / den, `where_zero` where den == 0, NaN where either is NaN."""
    out = np.full(len(num), np.nan)
    ok = np.isfinite(num) & np.isfinite(den)
    nonzero = ok & (den != 0)
    np.divide(num, den, out=out, where=nonzero)
    out[ok & (den == 0)] = where_zero
    return out


# ------------------------------------------------------------------------- averages


def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average of the last n values (NaN for the first n-1 bars)."""
    x, n = _series(x, "x"), _period(n)
    out = _nan_like(x)
    w = _windows(x, n)
    if w is not None:
        out[n - 1 :] = w.sum(axis=1) / n
    return out


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average, alpha = 2/(n+1), seeded with the SMA of the first n values."""
    x, n = _series(x, "x"), _period(n)
    return _recursive_mean(x, n, 2.0 / (n + 1))


def wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing: alpha = 1/n, seeded with the simple mean of the first n values."""
    x, n = _series(x, "x"), _period(n)
    return _recursive_mean(x, n, 1.0 / n)


def rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    """Population (ddof=0) standard deviation of the last n values."""
    x, n = _series(x, "x"), _period(n)
    out = _nan_like(x)
    out[n - 1 :] = _window_std(x, n)
    return out


def zscore(x: np.ndarray, n: int) -> np.ndarray:
    """(x - SMA) / population σ over the last n values; 0 when the window is constant."""
    x, n = _series(x, "x"), _period(n)
    return _ratio(x - sma(x, n), rolling_std(x, n), where_zero=0.0)


# ------------------------------------------------------------------------ oscillators


def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    """Wilder's Relative Strength Index in [0, 100]; first value at bar n."""
    close, n = _series(close, "close"), _period(n)
    out = _nan_like(close)
    if len(close) < 2:
        return out
    change = np.diff(close)
    gain = np.maximum(change, 0.0)  # NaN stays NaN, so gains and losses share one mask
    loss = np.maximum(-change, 0.0)
    avg_gain = _recursive_mean(gain, n, 1.0 / n)
    avg_loss = _recursive_mean(loss, n, 1.0 / n)
    # 100·G/(G+L) is 100 - 100/(1+RS) without dividing by a zero average loss.
    out[1:] = _ratio(100.0 * avg_gain, avg_gain + avg_loss, where_zero=50.0)
    return out


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> MACD:
    """MACD line (EMA fast - EMA slow), its signal line (EMA of the line) and histogram."""
    close = _series(close, "close")
    fast, slow, signal = _period(fast, "fast"), _period(slow, "slow"), _period(signal, "signal")
    line = ema(close, fast) - ema(close, slow)
    sig = _recursive_mean(line, signal, 2.0 / (signal + 1))
    return MACD(line, sig, line - sig)


def momentum(close: np.ndarray, n: int) -> np.ndarray:
    """n-bar rate of change as a fraction: close[t] / close[t-n] - 1."""
    close, n = _series(close, "close"), _period(n)
    out = _nan_like(close)
    if len(close) > n:
        out[n:] = _ratio(close[n:], close[:-n], where_zero=np.nan) - 1.0
    return out


# ------------------------------------------------------------------ bands and ranges


def bollinger(close: np.ndarray, n: int = 20, k: float = 2.0) -> Bollinger:
    """Bollinger bands: SMA(n) ± k population σ, and band width (upper - lower) / mid."""
    close, n = _series(close, "close"), _period(n)
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    mid = sma(close, n)
    spread = k * rolling_std(close, n)
    upper, lower = mid + spread, mid - spread
    return Bollinger(mid, upper, lower, _ratio(upper - lower, mid, where_zero=np.nan))


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(high, previous close) - min(low, previous close); bar 0 has only high - low."""
    high, low, close = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=high, low=low, close=close)
    tr = high - low
    if len(tr) > 1:
        prev = close[:-1]
        tr[1:] = np.maximum(high[1:], prev) - np.minimum(low[1:], prev)
    return tr


ATR_PERIOD = 14  # the desk's ATR: strategy confidences, the regime's stop widths


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = ATR_PERIOD) -> np.ndarray:
    """Wilder's Average True Range; first value at bar n-1."""
    return _recursive_mean(true_range(high, low, close), _period(n), 1.0 / n)


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 14) -> ADX:
    """Wilder's Average Directional Index with +DI and -DI, all in [0, 100]."""
    high, low, close = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=high, low=low, close=close)
    n = _period(n)
    nan = _nan_like(close)
    if len(close) < 2:
        return ADX(nan, nan.copy(), nan.copy())
    up = np.diff(high)
    down = -np.diff(low)
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    tr = true_range(high, low, close)[1:]
    # One mask for all three, so their recursions advance on the same bars.
    bad = ~(np.isfinite(up) & np.isfinite(down) & np.isfinite(tr))
    for arr in (plus_dm, minus_dm, tr):
        arr[bad] = np.nan
    alpha = 1.0 / n
    sm_tr = _recursive_mean(tr, n, alpha)
    plus_di = _ratio(100.0 * _recursive_mean(plus_dm, n, alpha), sm_tr, where_zero=0.0)
    minus_di = _ratio(100.0 * _recursive_mean(minus_dm, n, alpha), sm_tr, where_zero=0.0)
    dx = _ratio(100.0 * np.abs(plus_di - minus_di), plus_di + minus_di, where_zero=0.0)
    pad = np.array([np.nan])
    return ADX(
        np.concatenate([pad, _recursive_mean(dx, n, alpha)]),
        np.concatenate([pad, plus_di]),
        np.concatenate([pad, minus_di]),
    )


def donchian(high: np.ndarray, low: np.ndarray, n: int) -> Donchian:
    """Highest high and lowest low of the last n bars, the current bar included."""
    high, low, n = _series(high, "high"), _series(low, "low"), _period(n)
    _same_length(high=high, low=low)
    return Donchian(_rolling_extreme(high, n, True), _rolling_extreme(low, n, False))
