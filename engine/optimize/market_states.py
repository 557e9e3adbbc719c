"""Market states for the Q-learning selector: regime x trend bucket x volatility bucket.

- regime: the regime policy's causal label (unknown before the first fit, then bull,
  bear, sideways: `engine.signals.regime.labels.LABELS`), the label the backtest trades on;
- trend: close / SMA(trend_period) - 1, cut at the terciles of the training bars
  (down, flat, up);
- volatility: σ of log returns over the last vol_period bars, cut at the training
  terciles (low, mid, high).

The tercile edges come from the training bars only and are kept with the policy, so a
later bar is bucketed by what was known when the policy was trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals.regime.labels import LABELS

TREND_NAMES = ("down", "flat", "up")
VOL_NAMES = ("low", "mid", "high")
REGIME_NAMES = ("unknown", *LABELS)
N_STATES = len(REGIME_NAMES) * 3 * 3


@dataclass(frozen=True)
class StateEdges:
    trend: tuple[float, float]
    vol: tuple[float, float]


def features(close: np.ndarray, trend_period: int, vol_period: int) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Per-bar trend and volatility (NaN while warming up), causal."""
    from engine.signals.indicators import rolling_std, sma

    trend = close / sma(close, trend_period) - 1.0
    log_returns = np.concatenate(([np.nan], np.diff(np.log(close))))
    return trend, rolling_std(log_returns, vol_period)


def fit_edges(trend: np.ndarray, vol: np.ndarray) -> StateEdges:
    t = trend[np.isfinite(trend)]
    v = vol[np.isfinite(vol)]
    if not len(t) or not len(v):
        raise ValueError("too few bars to bucket trend and volatility")
    return StateEdges(tuple(float(x) for x in np.quantile(t, [1 / 3, 2 / 3])),
                      tuple(float(x) for x in np.quantile(v, [1 / 3, 2 / 3])))


def encode(regime: np.ndarray, trend: np.ndarray, vol: np.ndarray,
           edges: StateEdges) -> np.ndarray:
    """State index per bar: (regime + 1) x 9 + trend bucket x 3 + vol bucket. A bar whose
    trend or volatility is still warming up counts as flat / mid."""
    t = np.where(np.isfinite(trend), np.searchsorted(edges.trend, trend, side="right"), 1)
    v = np.where(np.isfinite(vol), np.searchsorted(edges.vol, vol, side="right"), 1)
    return ((np.asarray(regime, dtype=np.int64) + 1) * 9 + t * 3 + v).astype(np.int64)


def describe(state: int) -> str:
    regime, rest = divmod(int(state), 9)
    trend, vol = divmod(rest, 3)
    return f"{REGIME_NAMES[regime]}/{TREND_NAMES[trend]}/{VOL_NAMES[vol]}"
