"""Feature ranking by mutual information with forward returns.

Candidates: each indicator of `engine.signals.indicators` at several lengths, as a
scale-free number (close / SMA - 1, RSI, n-bar momentum, z-score, σ of log returns,
ATR / close, Bollinger width, volume z-score). The target is the forward return over
`horizon` bars, close[t + h] / close[t] - 1: feature values use bars <= t only.

Mutual information is scikit-learn's `mutual_info_regression` (the Kraskov k-nearest-
neighbour estimator, in nats; seeded, since it jitters ties). Each feature's entropy is
scipy's `differential_entropy` (Vasicek's spacing estimator, in nats). A feature with high
MI tells more about the next move; the entropy says how spread its values are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

LENGTHS = (5, 10, 20, 50, 100)


@dataclass(frozen=True)
class FeatureScore:
    name: str
    mutual_information: float  # nats
    entropy: float  # nats
    rows: int


def candidate_features(frame, lengths=LENGTHS) -> dict[str, np.ndarray]:
    from engine.signals import indicators as ind

    close = frame["close"].to_numpy(dtype=np.float64)
    high = frame["high"].to_numpy(dtype=np.float64)
    low = frame["low"].to_numpy(dtype=np.float64)
    volume = frame["volume"].to_numpy(dtype=np.float64)
    log_returns = np.concatenate(([np.nan], np.diff(np.log(close))))
    out: dict[str, np.ndarray] = {}
    for n in lengths:
        out[f"sma_gap_{n}"] = close / ind.sma(close, n) - 1.0
        out[f"rsi_{n}"] = ind.rsi(close, n)
        out[f"momentum_{n}"] = ind.momentum(close, n)
        out[f"zscore_{n}"] = ind.zscore(close, n)
        out[f"volatility_{n}"] = ind.rolling_std(log_returns, n)
        out[f"atr_ratio_{n}"] = ind.atr(high, low, close, n) / close
        out[f"bollinger_width_{n}"] = ind.bollinger(close, n).width
        if np.nanstd(volume) > 0:
            out[f"volume_z_{n}"] = ind.zscore(volume, n)
    return out


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    out[:-horizon] = close[horizon:] / close[:-horizon] - 1.0
    return out


def mutual_information(x: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """MI (nats) of each column of `x` with `y` (module doc): the one estimator of the
    ranking, shared with `desk train --select-features`."""
    from sklearn.feature_selection import mutual_info_regression

    return mutual_info_regression(x, y, n_neighbors=3, random_state=seed)


def rank_features(frames: Mapping[str, object], horizon: int = 1, *, seed: int = 0,
                  lengths=LENGTHS) -> list[FeatureScore]:
    """Features ranked by MI with the forward return (highest first); several symbols'
    rows are pooled."""
    from scipy.stats import differential_entropy

    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 bar, got {horizon}")
    columns: dict[str, list[np.ndarray]] = {}
    targets = []
    for frame in frames.values():
        features = candidate_features(frame, lengths)
        for name, values in features.items():
            columns.setdefault(name, []).append(values)
        targets.append(forward_returns(frame["close"].to_numpy(dtype=np.float64), horizon))
    names = [n for n, parts in columns.items() if len(parts) == len(targets)]
    x = np.column_stack([np.concatenate(columns[n]) for n in names])
    y = np.concatenate(targets)
    keep = np.isfinite(x).all(axis=1) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(y) < 50:
        raise ValueError(f"{len(y)} rows with every feature and a forward return: too few "
                         "(the longest length and the horizon need more bars)")
    mi = mutual_information(x, y, seed)
    scores = [FeatureScore(n, float(m), float(differential_entropy(x[:, i])), len(y))
              for i, (n, m) in enumerate(zip(names, mi, strict=True))]
    return sorted(scores, key=lambda s: (-s.mutual_information, s.name))
