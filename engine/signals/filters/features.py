"""Causal features of every bar, from the engine's indicators and the regime model.

Row t uses bars <= t only (every indicator in `engine.signals.indicators` is causal, and
the regime probabilities at t come from a model fitted on returns up to its fit bar <= t).
Rows whose features are not all known yet (warm-up) hold NaN; models train and predict on
the finite rows only.

Direction features (names in `direction_feature_names`):
    ret_k        log return over the last k bars, k in RETURN_LAGS up to `lookback`
    rsi          RSI(14) / 100 - 0.5
    macd         MACD histogram (12, 26, 9) / close
    bb_width     Bollinger width (20, 2)
    atr          ATR(14) / close
    vol_z        z-score of volume against the last `lookback` bars
    rv           realized volatility: population sigma of 1-bar log returns over `lookback`
    p_bull, p_bear, p_sideways   the regime model's label probabilities (when given)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals import indicators as ind

RETURN_LAGS = (1, 2, 3, 5, 10, 20, 50)
REGIME_NAMES = ("p_bull", "p_bear", "p_sideways")


@dataclass(frozen=True, slots=True)
class Bars:
    """OHLCV arrays of one symbol (float64, equal length)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @classmethod
    def of(cls, frame) -> Bars:
        """From a bar frame with open/high/low/close/volume columns."""
        return cls(*(frame[c].to_numpy(dtype=np.float64) for c in
                     ("open", "high", "low", "close", "volume")))

    def __len__(self) -> int:
        return len(self.close)

    def slice(self, lo: int, hi: int) -> Bars:
        return Bars(self.open[lo:hi], self.high[lo:hi], self.low[lo:hi], self.close[lo:hi],
                    self.volume[lo:hi])


def log_returns(close: np.ndarray) -> np.ndarray:
    """r[t] = log(close[t] / close[t-1]); r[0] = NaN."""
    out = np.full(len(close), np.nan)
    out[1:] = np.diff(np.log(close))
    return out


def lag_return(close: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    if len(close) > k:
        out[k:] = np.log(close[k:] / close[:-k])
    return out


def volume_zscore(volume: np.ndarray, lookback: int) -> np.ndarray:
    """(v[t] - mean) / sigma of the `lookback` bars before t (bar t itself excluded, so a
    surge does not dilute its own baseline); 0 when that window is constant."""
    n = len(volume)
    out = np.full(n, np.nan)
    if n <= lookback:
        return out
    mean = ind.sma(volume, lookback)[lookback - 1:-1]
    sigma = ind.rolling_std(volume, lookback)[lookback - 1:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (volume[lookback:] - mean) / sigma, 0.0)
    out[lookback:] = z
    return out


def realized_vol(close: np.ndarray, window: int) -> np.ndarray:
    """Population sigma of the last `window` 1-bar log returns."""
    r = log_returns(close)
    out = np.full(len(close), np.nan)
    if len(close) > window:
        out[window:] = ind.rolling_std(r[1:], window)[window - 1:]
    return out


# The newest bar's value of a windowed feature, from its last window alone: the same numpy
# reductions over the same values as the sliding-window versions above, so the same bits
# (a test holds them equal), without their per-call views, masks and full-length arrays.


def _mean_at_end(x: np.ndarray, n: int) -> float:
    return float(x[-n:].sum() / n) if len(x) >= n else np.nan  # ind.sma's last value


def _std_at_end(x: np.ndarray, n: int) -> float:
    return float(x[-n:].std()) if len(x) >= n else np.nan  # ind.rolling_std's last value


def volume_zscore_at_end(volume: np.ndarray, lookback: int) -> float:
    """`volume_zscore(volume, lookback)[-1]`."""
    if len(volume) <= lookback:
        return np.nan
    before = volume[:-1]
    sigma = _std_at_end(before, lookback)
    if not sigma > 0:  # constant (or NaN) window: 0, as volume_zscore's np.where gives
        return 0.0
    return float((volume[-1] - _mean_at_end(before, lookback)) / sigma)


def realized_vol_at_end(close: np.ndarray, window: int) -> float:
    """`realized_vol(close, window)[-1]`."""
    if len(close) <= window:
        return np.nan
    return _std_at_end(np.diff(np.log(close[-(window + 1):])), window)


def bollinger_width_at_end(close: np.ndarray, n: int, k: float) -> float:
    """`ind.bollinger(close, n, k).width[-1]`: (upper - lower) / mid, NaN when mid is 0."""
    mid = _mean_at_end(close, n)
    spread = k * _std_at_end(close, n)
    width = (mid + spread) - (mid - spread)
    if not (np.isfinite(width) and np.isfinite(mid)) or mid == 0:
        return np.nan
    return float(width / mid)


def direction_feature_names(lookback: int, with_regime: bool) -> tuple[str, ...]:
    lags = tuple(f"ret_{k}" for k in RETURN_LAGS if k <= lookback)
    base = (*lags, "rsi", "macd", "bb_width", "atr", "vol_z", "rv")
    return base + (REGIME_NAMES if with_regime else ())


def direction_features(bars: Bars, lookback: int,
                       regime_probs: np.ndarray | None = None) -> np.ndarray:
    """(n, k) float64 feature matrix in `direction_feature_names` order."""
    close = bars.close
    columns = [lag_return(close, k) for k in RETURN_LAGS if k <= lookback]
    columns.append(ind.rsi(close, 14) / 100.0 - 0.5)
    columns.append(ind.macd(close).histogram / close)
    columns.append(ind.bollinger(close, 20, 2.0).width)
    columns.append(ind.atr(bars.high, bars.low, close, ind.ATR_PERIOD) / close)
    columns.append(volume_zscore(bars.volume, lookback))
    columns.append(realized_vol(close, lookback))
    matrix = np.column_stack(columns)
    if regime_probs is not None:
        matrix = np.hstack([matrix, np.asarray(regime_probs, dtype=np.float64)])
    return matrix


def direction_features_at_end(bars: Bars, lookback: int,
                              regime_row: np.ndarray | None = None) -> np.ndarray:
    """The last row of `direction_features(bars, lookback, ...)`, bit for bit, at a
    fraction of its cost (a live desk judges only its newest bar). `regime_row`: the
    regime probabilities at the last bar, or None.

    A windowed feature is its function over the last window alone (the same code on the
    same values); a recursive one (RSI, MACD, ATR) still runs over all of `bars`, as its
    value depends on where the recursion was seeded."""
    close = bars.close
    row = [lag_return(close[-(k + 1):], k)[-1] for k in RETURN_LAGS if k <= lookback]
    row.append(ind.rsi(close, 14)[-1] / 100.0 - 0.5)
    row.append(ind.macd(close).histogram[-1] / close[-1])
    row.append(bollinger_width_at_end(close, 20, 2.0))
    row.append(ind.atr(bars.high, bars.low, close, ind.ATR_PERIOD)[-1] / close[-1])
    row.append(volume_zscore_at_end(bars.volume, lookback))
    row.append(realized_vol_at_end(close, lookback))
    if regime_row is not None:
        row.extend(np.asarray(regime_row, dtype=np.float64).tolist())
    return np.array([row], dtype=np.float64)


def volatility_feature_names(lookback: int) -> tuple[str, ...]:
    windows = sorted({1, 5, 20, lookback})
    return (*(f"log_rv_{w}" for w in windows), "atr", "bb_width", "ret_1")


def volatility_features(bars: Bars, lookback: int) -> np.ndarray:
    """Features of the realized-volatility regressor: log realized variance over several
    windows (1, 5, 20 and `lookback` bars), ATR / close, Bollinger width, the last return."""
    close = bars.close
    r = log_returns(close)
    columns = []
    for w in sorted({1, 5, 20, lookback}):
        var = np.full(len(close), np.nan)
        if len(close) > w:
            var[w:] = ind.sma(r[1:] ** 2, w)[w - 1:]
        columns.append(np.log(np.maximum(var, 1e-12)))
    columns.append(ind.atr(bars.high, bars.low, close, ind.ATR_PERIOD) / close)
    columns.append(ind.bollinger(close, 20, 2.0).width)
    columns.append(r)
    return np.column_stack(columns)


def model_columns(matrix: np.ndarray, columns: tuple[int, ...] | None) -> np.ndarray:
    """The columns a stored model was fitted on (None: all of them). Columns past the
    matrix's last are the regime probabilities of a run without a regime model: unknown
    (NaN), so those rows get no prediction."""
    if columns is None:
        return matrix
    short = max(columns, default=-1) + 1 - matrix.shape[1]
    if short > 0:
        matrix = np.hstack([matrix, np.full((len(matrix), short), np.nan)])
    return matrix[:, list(columns)]


def finite_rows(matrix: np.ndarray) -> np.ndarray:
    """Bool mask of rows whose every feature is known."""
    return np.isfinite(matrix).all(axis=1)


def volatility_features_at_end(bars: Bars, lookback: int) -> np.ndarray:
    """The last row of `volatility_features(bars, lookback)`, bit for bit (a live desk
    predicts only its newest bar). The windowed features come from their last window alone;
    ATR's recursion still runs over all of `bars`, as its value depends on its seed."""
    close = bars.close
    row = []
    for w in sorted({1, 5, 20, lookback}):
        var = _mean_at_end(np.diff(np.log(close[-(w + 1):])) ** 2, w) \
            if len(close) > w else np.nan
        row.append(np.log(np.maximum(var, 1e-12)))
    row.append(ind.atr(bars.high, bars.low, close, ind.ATR_PERIOD)[-1] / close[-1])
    row.append(bollinger_width_at_end(close, 20, 2.0))
    row.append(log_returns(close[-2:])[-1])
    return np.array([row], dtype=np.float64)
