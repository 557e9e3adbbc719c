"""Per-bar predictions of each filter over a whole frame, honestly out of sample.

Walk-forward (`walk_forward`): a model is fitted at bar f = train_window and every
`retrain_every` bars after it, on the trailing `train_window` bars, using only labels known
at bar f's close (row t's label looks `horizon` bars ahead, so rows t <= f - horizon). It
predicts bars f .. f + retrain_every - 1. Bars before the first fit have no prediction.

Stored (`stored`): one model from `desk train` predicts every bar; the caller has checked
that its training range does not overlap the frame's (`modelfile.check_no_overlap`).

`at`: the bars whose prediction is wanted (None: every bar). The layer judges only the bars
where the ensemble changes its mind to a side, about 2% of a minute series, so it predicts
those alone, and a walk-forward window whose bars hold none of them is not fitted at all:
predicting every bar of a million cost 10 s of the layer's 62 s, for verdicts nobody read.
A prediction at a wanted bar is the same whatever else is wanted; other bars stay unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from engine.signals.filters import classify, fitpool, garch, realized, target
from engine.signals.filters.features import (
    Bars,
    direction_features,
    finite_rows,
    log_returns,
    model_columns,
    volatility_features,
)
from engine.signals.filters.volume import surge, surge_target

# Bars of labelled history a walk-forward fit needs at the least.
MIN_TRAIN_ROWS = 100


@dataclass
class FilterPredictions:
    """One filter's per-bar output; `known` is False where no model had been fitted."""

    name: str  # "direction" | "volatility" | "volume"
    model: str  # the model's type
    value: np.ndarray  # direction: class in target.CLASSES; volatility: forecast sigma;
    # volume: z-score
    probability: np.ndarray  # of the predicted class / of "high" / of a surge
    flag: np.ndarray  # bool: volatility "high", volume "surge" (direction: unused)
    known: np.ndarray  # bool
    fits: list[int] = field(default_factory=list)  # bars a model was fitted at


def fit_bars(n: int, train_window: int, retrain_every: int) -> range:
    return range(train_window, n, retrain_every)


def wanted_mask(n: int, at: np.ndarray | None) -> np.ndarray:
    """(n,) bool: the bars in `at`, or every bar when `at` is None."""
    if at is None:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(at, dtype=np.int64)] = True
    return mask


def direction_walk_forward(bars: Bars, cfg, regime_probs, *, train_window: int,
                           retrain_every: int,
                           at: np.ndarray | None = None) -> FilterPredictions:
    x = direction_features(bars, cfg.lookback, regime_probs)
    y = direction_target(bars, cfg)
    usable = finite_rows(x)
    n = len(bars)
    predicted = usable & wanted_mask(n, at)
    out = _empty("direction", cfg.type, n)
    fit = partial(_fit_classifier, cfg.type, x, y.label, cfg.horizon)
    for f, model in _refits(fit, predicted, usable & y.known, cfg.horizon, train_window,
                            retrain_every):
        _direction_segment(out, model, x, predicted, f, min(f + retrain_every, n))
        out.fits.append(f)
    return out


def _refits(fit, predicted: np.ndarray, labelled: np.ndarray, horizon: int,
            train_window: int, retrain_every: int) -> list[tuple[int, object]]:
    """(bar, model) of every walk-forward fit with a wanted bar to predict: `fit` of the
    labelled rows of its trailing window (module doc), the fits side by side (`fitpool`)."""
    jobs = []
    for f in fit_bars(len(predicted), train_window, retrain_every):
        if not predicted[f:f + retrain_every].any():
            continue
        lo, hi = f - train_window, target.labelled_until(f, horizon)
        rows = np.flatnonzero(labelled[lo:hi]) + lo
        if len(rows) >= MIN_TRAIN_ROWS:
            jobs.append((f, rows))
    models = fitpool.fit_each(fit, [rows for _, rows in jobs])
    return [(f, model) for (f, _), model in zip(jobs, models, strict=True)]


def _fit_classifier(kind: str, x: np.ndarray, label: np.ndarray, gap: int,
                    rows: np.ndarray):
    return classify.fit_classifier(kind, x[rows], label[rows], gap=gap, threads=1)


def direction_stored(bars: Bars, cfg, regime_probs, model, at: np.ndarray | None = None,
                     columns: tuple[int, ...] | None = None) -> FilterPredictions:
    """`columns`: the features the model was fitted on (`layer.StoredModel.columns`)."""
    x = model_columns(direction_features(bars, cfg.lookback, regime_probs), columns)
    out = _empty("direction", cfg.type, len(bars))
    _direction_segment(out, model, x, finite_rows(x) & wanted_mask(len(bars), at), 0,
                       len(bars))
    return out


def _direction_segment(out: FilterPredictions, model, x, predicted, lo: int, hi: int) -> None:
    rows = np.flatnonzero(predicted[lo:hi]) + lo
    proba = classify.class_probabilities(model, x[rows], target.CLASSES)
    best = np.argmax(proba, axis=1)
    out.value[rows] = np.asarray(target.CLASSES)[best]
    out.probability[rows] = proba[np.arange(len(rows)), best]
    out.known[rows] = True


def direction_target(bars: Bars, cfg) -> target.DirectionTarget:
    return target.direction_target(bars.close, cfg.horizon, cfg.dead_band, cfg.lookback)


def volatility_walk_forward(bars: Bars, cfg, *, train_window: int, retrain_every: int,
                            at: np.ndarray | None = None) -> FilterPredictions:
    n = len(bars)
    out = _empty("volatility", cfg.type, n)
    r = log_returns(bars.close)
    wanted = wanted_mask(n, at)
    if cfg.type == "garch":
        for f in fit_bars(n, train_window, retrain_every):
            end = min(f + retrain_every, n)
            if not wanted[f:end].any():
                continue
            window = r[max(f - train_window + 1, 1):f + 1]
            model = garch.fit_garch(window[np.isfinite(window)], cfg.distribution)
            variance = model.forecast_after(r[f + 1:end], cfg.forecast_horizon)
            one = model.horizon_mean(model.next_variances(np.empty(0))[:1],
                                     cfg.forecast_horizon)
            # The recursion runs through every bar of the segment (each forecast needs the
            # one before); only the wanted bars are set.
            _volatility_segment(out, np.concatenate([one, variance])[: end - f], f, end, cfg,
                                wanted)
            out.fits.append(f)
        return out
    x = volatility_features(bars, cfg.lookback)
    y = realized.realized_variance(bars.close, cfg.forecast_horizon)
    usable = finite_rows(x)
    predicted = usable & wanted
    fit = partial(_fit_regressor, cfg.type, x, y)
    for f, model in _refits(fit, predicted, usable & np.isfinite(y), cfg.forecast_horizon,
                            train_window, retrain_every):
        _regressor_segment(out, model, x, predicted, f, min(f + retrain_every, n), cfg)
        out.fits.append(f)
    return out


def _fit_regressor(kind: str, x: np.ndarray, variance: np.ndarray, rows: np.ndarray):
    return realized.fit_regressor(kind, x[rows], variance[rows], threads=1)


def volatility_stored(bars: Bars, cfg, model, start: int = 0,
                      at: np.ndarray | None = None) -> FilterPredictions:
    """`start`: the first bar after the model's training range (GARCH continues its
    recursion from there; bars before it get no forecast)."""
    n = len(bars)
    out = _empty("volatility", cfg.type, n)
    wanted = wanted_mask(n, at)
    if isinstance(model, garch.GarchModel):
        r = log_returns(bars.close)
        returns = np.nan_to_num(r[start:], nan=0.0)
        _volatility_segment(out, model.forecast_after(returns, cfg.forecast_horizon), start,
                            n, cfg, wanted)
        return out
    x = volatility_features(bars, cfg.lookback)
    _regressor_segment(out, model, x, finite_rows(x) & wanted, 0, n, cfg)
    return out


def _regressor_segment(out, model, x, predicted, lo, hi, cfg) -> None:
    rows = np.flatnonzero(predicted[lo:hi]) + lo
    variance = realized.predict_variance(model, x[rows])
    set_volatility(out, rows, variance, cfg)


def _volatility_segment(out, variance, lo, hi, cfg, wanted) -> None:
    keep = np.flatnonzero(wanted[lo:hi])
    set_volatility(out, keep + lo, variance[: hi - lo][keep], cfg)


def set_volatility(out: FilterPredictions, rows: np.ndarray, variance: np.ndarray,
                   cfg) -> None:
    """A volatility verdict at `rows` from per-bar variance forecasts (return units): the
    forecast sigma, P(high) and the high flag against `threshold`. One rule for the
    backtest's segments and the live desk's newest bar."""
    out.value[rows] = np.sqrt(variance)
    out.probability[rows] = garch.high_probability(variance, cfg.threshold,
                                                   cfg.forecast_horizon)
    out.flag[rows] = np.sqrt(variance) > cfg.threshold
    out.known[rows] = True


def volume_zscore_predictions(bars: Bars, cfg) -> FilterPredictions:
    """The z-score rule needs no fit: exact, probability 1 where the z-score exists."""
    z, is_surge = surge(bars.volume, cfg.lookback, cfg.threshold)
    known = np.isfinite(z)
    return FilterPredictions("volume", "zscore", z, known.astype(np.float64), is_surge,
                             known)


def volume_walk_forward(bars: Bars, cfg, regime_probs, *, train_window: int,
                        retrain_every: int, at: np.ndarray | None = None) -> FilterPredictions:
    """The classifier: P(next bar is a surge) from the direction features."""
    if cfg.type == "zscore":
        return volume_zscore_predictions(bars, cfg)
    x = direction_features(bars, cfg.lookback, regime_probs)
    label, labelled = surge_target(bars.volume, cfg.lookback, cfg.threshold)
    usable = finite_rows(x)
    n = len(bars)
    predicted = usable & wanted_mask(n, at)
    out = volume_zscore_predictions(bars, cfg)
    out.model = cfg.type
    out.known[:] = False
    fit = partial(_fit_classifier, cfg.type, x, label, 1)
    for f, model in _refits(fit, predicted, usable & labelled, 1, train_window,
                            retrain_every):
        _surge_segment(out, model, x, predicted, f, min(f + retrain_every, n))
        out.fits.append(f)
    return out


def volume_stored(bars: Bars, cfg, regime_probs, model, at: np.ndarray | None = None,
                  columns: tuple[int, ...] | None = None) -> FilterPredictions:
    x = model_columns(direction_features(bars, cfg.lookback, regime_probs), columns)
    out = volume_zscore_predictions(bars, cfg)
    out.model = cfg.type
    out.known[:] = False
    _surge_segment(out, model, x, finite_rows(x) & wanted_mask(len(bars), at), 0, len(bars))
    return out


def _surge_segment(out, model, x, predicted, lo, hi) -> None:
    rows = np.flatnonzero(predicted[lo:hi]) + lo
    p = classify.class_probabilities(model, x[rows], (0, 1))[:, 1]
    out.probability[rows] = p
    out.flag[rows] = p >= 0.5
    out.known[rows] = True


def _empty(name: str, model: str, n: int) -> FilterPredictions:
    return FilterPredictions(name, model, np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool),
                             np.zeros(n, dtype=bool))
