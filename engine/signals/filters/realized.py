"""Realized volatility: the target every volatility forecast is scored against, the
persistence baseline, and the ML regressor of it.

    realized[t]    = mean(r[t+1]**2, ..., r[t+h]**2)   per-bar variance of the next h bars
    persistence[t] = mean(r[t-h+1]**2, ..., r[t]**2)   the last h bars ("yesterday's")

with r the 1-bar log returns. realized[t] is known only at bar t + h.
The regressor (LightGBM or a random forest) predicts log realized variance from
`features.volatility_features`; its forecast is exp of the prediction.
"""

from __future__ import annotations

import numpy as np

from engine.signals import indicators as ind
from engine.signals.filters.classify import SEED, default_threads
from engine.signals.filters.features import log_returns

REGRESSORS = ("lightgbm", "random_forest")
VARIANCE_FLOOR = 1e-12


def realized_variance(close: np.ndarray, horizon: int) -> np.ndarray:
    r2 = log_returns(close) ** 2
    n = len(close)
    out = np.full(n, np.nan)
    if n > horizon:
        out[:-horizon] = ind.sma(r2[1:], horizon)[horizon - 1:]
    return out


def persistence_variance(close: np.ndarray, horizon: int) -> np.ndarray:
    r2 = log_returns(close) ** 2
    out = np.full(len(close), np.nan)
    if len(close) > horizon:
        out[1:] = ind.sma(r2[1:], horizon)
    return out


def make_regressor(kind: str, *, threads: int | None = None):
    """An unfitted regressor; `threads` None: `classify.default_threads(kind)` (one for
    LightGBM, whose OpenMP threads spin-wait on a busy machine)."""
    threads = default_threads(kind) if threads is None else threads
    if kind == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, min_samples_leaf=50, max_depth=8,
                                     random_state=SEED, n_jobs=threads)
    if kind == "lightgbm":
        from lightgbm import LGBMRegressor

        return LGBMRegressor(n_estimators=100, learning_rate=0.05, num_leaves=15,
                             min_child_samples=50, subsample=0.8, subsample_freq=1,
                             random_state=SEED, n_jobs=threads, verbose=-1)
    raise ValueError(f"unknown regressor {kind!r}; expected one of {', '.join(REGRESSORS)}")


def fit_regressor(kind: str, x: np.ndarray, variance: np.ndarray, *,
                  threads: int | None = None):
    model = make_regressor(kind, threads=threads)
    model.fit(x, np.log(np.maximum(variance, VARIANCE_FLOOR)))
    return model


def predict_variance(model, x: np.ndarray) -> np.ndarray:
    if not len(x):
        return np.empty(0)
    return np.exp(model.predict(x))
