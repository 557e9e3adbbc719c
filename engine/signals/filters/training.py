"""`desk train`: cross-validate a filter's model on history, fit it on all of it, store it.

Kinds and their `--model` names:
    direction   "lightgbm", "random_forest", "logistic": up / down / neutral classifier
    volatility  "garch": GARCH(1,1) (with the LightGBM regressor of realized volatility
                scored beside it in the report)
                "vol_lightgbm", "vol_random_forest": a regressor of the log realized
                variance of the next `forecast_horizon` bars (`realized`), from
                `features.volatility_features` (with GARCH scored beside it); stored as
                [filters.volatility] type "lightgbm" / "random_forest", with the lookback
                and forecast horizon it was trained for
    volume      "volume": LightGBM classifier of the next bar's surge

The report has one row per fold and one overall (the out-of-fold predictions of every fold
pooled), each score beside its naive baseline (`metrics`). Folds are `cv.time_series_folds`:
expanding, with a gap of `horizon` rows so no training label reaches into a test row.
The model stored is then fitted on every usable row; its record names the data range and
the data's SHA-256, the CV scores and the model file's SHA-256.

`select_features` K (direction models): each fold keeps the top K of the model's features by
mutual information with the forward return (`select`), ranked on that fold's training rows
only, so the scores stay out of sample; the stored model ranks on every row, and its file
and record name the K features it was fitted on, which the backtest and the live desk then
compute for it (`backtest.load_stored_models`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.errors import DataError
from engine.signals.filters import classify, garch, metrics, realized, target
from engine.signals.filters.cv import time_series_folds
from engine.signals.filters.features import (
    Bars,
    direction_feature_names,
    direction_features,
    finite_rows,
    log_returns,
    volatility_feature_names,
    volatility_features,
)
from engine.signals.filters.select import FeatureSelectionError, check_k, select_features
from engine.signals.filters.volume import surge_target

MODEL_CHOICES = ("lightgbm", "random_forest", "logistic", "garch", "vol_lightgbm",
                 "vol_random_forest", "volume")
KIND_OF = {"lightgbm": "direction", "random_forest": "direction", "logistic": "direction",
           "garch": "volatility", "vol_lightgbm": "volatility",
           "vol_random_forest": "volatility", "volume": "volume"}
# The type a `--model` is stored as, where it is not its own name: the configuration's
# [filters.volatility] type, which the backtest and the live desk look the model up by.
STORED_TYPE = {"vol_lightgbm": "lightgbm", "vol_random_forest": "random_forest"}
DEFAULT_FOLDS = 5
MAX_HORIZON = 10_000  # as desk.toml's horizon keys


@dataclass(frozen=True)
class TrainOptions:
    data: str
    model: str
    symbol: str | None = None
    horizon: int | None = None
    start: str | None = None
    end: str | None = None
    folds: int = DEFAULT_FOLDS
    select_features: int | None = None  # K: top K features by mutual information


@dataclass
class TrainOutcome:
    name: str
    kind: str
    model_type: str
    symbol: str
    source: str
    report: dict  # {"folds": [...], "overall": {...}, "rows": n}
    data_range: tuple[str, str]
    data_sha256: str
    file_path: Path
    file_sha256: str
    model_id: int
    features: tuple[str, ...]


def stored_type(model: str) -> str:
    """The model type a `--model` name is stored as."""
    return STORED_TYPE.get(model, model)


def train_name(kind: str, model_type: str) -> str:
    """The `--model` name that stores a `kind` model of `model_type` (the inverse of
    `stored_type`)."""
    for name, of in KIND_OF.items():
        if of == kind and stored_type(name) == model_type:
            return name
    return model_type


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """`desk features rank`'s target, close[t + h] / close[t] - 1 (NaN for the last h)."""
    from engine.optimize.features import forward_returns as forward

    return forward(np.asarray(close, dtype=np.float64), horizon)


def data_sha256(frame) -> str:
    """SHA-256 of the bars a model saw: times (int64 ns) and OHLCV (float64), in order."""
    digest = hashlib.sha256()
    digest.update(np.asarray(frame.index.asi8, dtype=np.int64).tobytes())
    for column in ("open", "high", "low", "close", "volume"):
        digest.update(frame[column].to_numpy(dtype=np.float64).tobytes())
    return digest.hexdigest()


def regime_probabilities(close: np.ndarray, engine_cfg) -> np.ndarray | None:
    """The regime model's per-bar label probabilities, as the backtest computes them."""
    if not engine_cfg.regime or len(close) <= engine_cfg.regime_window:
        return None
    from engine.signals.regime.policy import RegimePolicy

    policy = RegimePolicy(engine_cfg.regime_window, engine_cfg.regime_refit_every,
                          engine_cfg.regime_states)
    return policy.run(close).probabilities


def train(cfg, options: TrainOptions, *,
          progress: Callable[[int, int], None] | None = None) -> TrainOutcome:
    """Cross-validate, fit and store one model (module doc)."""
    from engine.data.sources import load_source

    if options.model not in MODEL_CHOICES:
        raise DataError(f"--model {options.model}: expected one of {', '.join(MODEL_CHOICES)}")
    kind = KIND_OF[options.model]
    if options.horizon is not None and not 1 <= options.horizon <= MAX_HORIZON:
        # The bound [filters.direction] horizon and [filters.volatility] forecast_horizon
        # have in desk.toml; 0 used to mean "the configured one", a negative a traceback.
        raise DataError(f"--horizon {options.horizon}: expected a whole number of bars"
                        f" from 1 to {MAX_HORIZON:,}")
    if options.select_features is not None:
        # Refused before any data is loaded: a bad K costs the user nothing.
        if kind != "direction":
            raise FeatureSelectionError(
                f"--select-features applies to the direction models"
                f" ({', '.join(classify.KINDS)}),"
                f" not --model {options.model}")
        check_k(options.select_features,
                direction_feature_names(cfg.filters.direction.lookback, cfg.engine.regime))
    market = load_source(options.data, start=options.start, end=options.end)
    symbol = options.symbol or market.symbols[0]
    if symbol not in market.frames:
        raise DataError(f"{market.source}: no symbol {symbol} (has {', '.join(market.symbols)})")
    frame = market.frames[symbol]
    bars = Bars.of(frame)
    tick = _ticker(progress, options.folds + 1)
    if kind == "direction":
        direction = cfg.filters.direction
        if options.horizon is not None:
            direction = replace(direction, horizon=options.horizon)
        report, fitted, names, params = _train_direction(
            bars, direction, options.model, regime_probabilities(bars.close, cfg.engine),
            options.folds, tick, options.select_features)
    elif kind == "volatility":
        vol = cfg.filters.volatility
        if options.horizon is not None:
            vol = replace(vol, forecast_horizon=options.horizon)
        report, fitted, names, params = _train_volatility(bars, vol, options.folds, tick,
                                                          stored_type(options.model))
    else:
        report, fitted, names, params = _train_volume(
            bars, cfg.filters.volume, regime_probabilities(bars.close, cfg.engine),
            options.folds, tick)
    return _store(cfg, market.source, symbol, frame, kind, stored_type(options.model), fitted,
                  names, params, report)


def _ticker(progress, total):
    state = {"done": 0}

    def tick():
        state["done"] += 1
        if progress:
            progress(state["done"], total)
    return tick


# -- direction ---------------------------------------------------------------------------


def _train_direction(bars, cfg, model_type, regime_probs, folds, tick, select=None):
    x = direction_features(bars, cfg.lookback, regime_probs)
    y = target.direction_target(bars.close, cfg.horizon, cfg.dead_band, cfg.lookback)
    rows = np.flatnonzero(finite_rows(x) & y.known)
    _enough(rows, folds, cfg.horizon)
    names = direction_feature_names(cfg.lookback, regime_probs is not None)
    # A row's forward return looks as far ahead as its label: known wherever the label is.
    forward = forward_returns(bars.close, cfg.horizon)[rows] if select else None
    selection = Selection(select, names, forward) if select else None
    report = _classifier_cv(x[rows], y.label[rows], target.CLASSES, target.CLASS_NAMES,
                            model_type, folds, cfg.horizon, tick, selection=selection)
    # The stored model ranks every row: its CV above ranked each fold's training rows only.
    columns = selection.columns(x[rows], np.arange(len(rows))) if selection else None
    fitted = classify.fit_classifier(model_type, _take(x[rows], columns), y.label[rows],
                                     gap=cfg.horizon)
    tick()
    params = {"horizon": cfg.horizon, "dead_band": cfg.dead_band, "lookback": cfg.lookback}
    chosen = names if columns is None else tuple(names[i] for i in columns)
    if selection:
        params |= {"select_features": select, "candidates": list(names)}
        report["features"] = list(chosen)
    return report, fitted, chosen, params


@dataclass(frozen=True)
class Selection:
    """Top `k` of the candidate `names` by mutual information with `forward` (the rows'
    forward returns), ranked on the rows it is asked about."""

    k: int
    names: tuple[str, ...]
    forward: np.ndarray

    def columns(self, x: np.ndarray, train_rows: np.ndarray) -> tuple[int, ...]:
        return select_features(x[train_rows], self.forward[train_rows], self.names, self.k)


def _take(x: np.ndarray, columns: tuple[int, ...] | None) -> np.ndarray:
    """The model's columns of `x` (None: every column)."""
    return x if columns is None else x[:, list(columns)]


def _classifier_cv(x, y, classes, names, model_type, folds, gap, tick, *,
                   selection: Selection | None = None) -> dict:
    """Fold reports and the pooled report. With `selection`, each fold's model sees only
    the features ranked best on that fold's own training rows."""
    fold_rows, pooled_y, pooled_p, pooled_b = [], [], [], []
    for number, (train_rows, test_rows) in enumerate(time_series_folds(len(y), folds, gap),
                                                    start=1):
        columns = selection.columns(x, train_rows) if selection else None
        model = classify.fit_classifier(model_type, _take(x[train_rows], columns),
                                        y[train_rows], gap=gap)
        proba = classify.class_probabilities(model, _take(x[test_rows], columns), classes)
        base = metrics.baseline_proba(y[train_rows], len(test_rows), classes)
        fold_rows.append({
            "fold": number, "train_rows": [int(train_rows[0]), int(train_rows[-1])],
            "test_rows": [int(test_rows[0]), int(test_rows[-1])],
            "model": metrics.classification_scores(y[test_rows], proba, classes, names),
            "baseline": metrics.classification_scores(y[test_rows], base, classes, names),
        })
        if columns is not None:
            fold_rows[-1]["features"] = [selection.names[i] for i in columns]
        pooled_y.append(y[test_rows])
        pooled_p.append(proba)
        pooled_b.append(base)
        tick()
    all_y = np.concatenate(pooled_y)
    overall = {
        "model": metrics.classification_scores(all_y, np.vstack(pooled_p), classes, names),
        "baseline": metrics.classification_scores(all_y, np.vstack(pooled_b), classes, names),
    }
    return {"folds": fold_rows, "overall": overall, "rows": int(len(y)),
            "baseline_kind": "majority class of the training fold"}


# -- volatility --------------------------------------------------------------------------


def _train_volatility(bars, cfg, folds, tick, model_type="garch"):
    """CV of `model_type` ("garch" or a `realized.REGRESSORS` kind) beside the persistence
    baseline and the other kind of forecast (GARCH beside a regressor, the LightGBM
    regressor beside GARCH), then the model fitted on every usable row."""
    h = cfg.forecast_horizon
    r = log_returns(bars.close)
    realized_var = realized.realized_variance(bars.close, h)
    persistence = realized.persistence_variance(bars.close, h)
    x = volatility_features(bars, cfg.lookback)
    rows = np.flatnonzero(finite_rows(x) & np.isfinite(realized_var) & np.isfinite(persistence)
                          & (persistence > 0))
    _enough(rows, folds, h)
    beside = ("regressor", "lightgbm") if model_type == "garch" else ("garch", "garch")
    forecasters = {"model": model_type, beside[0]: beside[1]}
    fold_rows = []
    pooled = {key: [] for key in (*forecasters, "baseline", "realized")}
    for number, (train_idx, test_idx) in enumerate(time_series_folds(len(rows), folds, h),
                                                   start=1):
        train_rows, test_rows = rows[train_idx], rows[test_idx]
        actual = realized_var[test_rows]
        forecasts = {key: _fold_forecast(kind, r, x, realized_var, rows, train_rows,
                                         test_rows, cfg)
                     for key, kind in forecasters.items()}
        forecasts["baseline"] = persistence[test_rows]
        fold_rows.append({
            "fold": number, "train_rows": [int(train_idx[0]), int(train_idx[-1])],
            "test_rows": [int(test_idx[0]), int(test_idx[-1])],
            **{key: metrics.volatility_scores(actual, forecasts[key])
               for key in ("model", "baseline", beside[0])},
        })
        for key, forecast in forecasts.items():
            pooled[key].append(forecast)
        pooled["realized"].append(actual)
        tick()
    actual = np.concatenate(pooled["realized"])
    overall = {k: metrics.volatility_scores(actual, np.concatenate(pooled[k]))
               for k in ("model", "baseline", beside[0])}
    report = {"folds": fold_rows, "overall": overall, "rows": int(len(rows)),
              "baseline_kind": f"realized variance of the last {h} bars (persistence)",
              f"{beside[0]}_kind": _FORECASTER_KIND[beside[1]],
              "model_kind": _FORECASTER_KIND[model_type]}
    if model_type == "garch":
        fitted = garch.fit_garch(r[int(rows[0]):int(rows[-1]) + 1], cfg.distribution)
        params = {"forecast_horizon": h, "distribution": cfg.distribution,
                  "threshold": cfg.threshold, **fitted.params()}
        names = ("returns",)
    else:
        fitted = realized.fit_regressor(model_type, x[rows], realized_var[rows])
        # The backtest and the live desk refuse it under another lookback or horizon.
        params = {"lookback": cfg.lookback, "forecast_horizon": h, "threshold": cfg.threshold}
        names = volatility_feature_names(cfg.lookback)
    tick()
    return report, fitted, names, params


_FORECASTER_KIND = {"garch": "GARCH(1,1) recursion from the training fold's fit",
                    "lightgbm": "lightgbm regressor of log realized variance",
                    "random_forest": "random_forest regressor of log realized variance"}


def _fold_forecast(kind, r, x, realized_var, rows, train_rows, test_rows, cfg) -> np.ndarray:
    """The per-bar variance forecast of a fold's test rows by a `kind` model fitted on its
    training rows."""
    h = cfg.forecast_horizon
    if kind == "garch":
        # GARCH sees the returns of the training rows' bars; its forecast at a test bar uses
        # returns up to that bar only (the recursion continues through the gap).
        fit_end = int(train_rows[-1])
        model = garch.fit_garch(r[int(rows[0]):fit_end + 1], cfg.distribution)
        path = model.forecast_after(r[fit_end + 1:int(test_rows[-1]) + 1], h)
        return path[test_rows - fit_end - 1]
    regressor = realized.fit_regressor(kind, x[train_rows], realized_var[train_rows])
    return realized.predict_variance(regressor, x[test_rows])


# -- volume ------------------------------------------------------------------------------


def _train_volume(bars, cfg, regime_probs, folds, tick):
    x = direction_features(bars, cfg.lookback, regime_probs)
    label, known = surge_target(bars.volume, cfg.lookback, cfg.threshold)
    rows = np.flatnonzero(finite_rows(x) & known)
    _enough(rows, folds, 1)
    names = {0: "calm", 1: "surge"}
    report = _classifier_cv(x[rows], label[rows], (0, 1), names, "lightgbm", folds, 1, tick)
    fitted = classify.fit_classifier("lightgbm", x[rows], label[rows], gap=1)
    tick()
    params = {"lookback": cfg.lookback, "threshold": cfg.threshold}
    return report, fitted, direction_feature_names(cfg.lookback, regime_probs is not None), \
        params


def _enough(rows, folds, gap) -> None:
    if len(rows) < 10 * (folds + 1) + gap:
        raise DataError(f"only {len(rows)} usable rows after the features' warm-up: too few"
                        f" for {folds} folds")


# -- storing -----------------------------------------------------------------------------


def _store(cfg, source, symbol, frame, kind, model_type, fitted, names, params, report):
    from engine.adapters.sqlite.models import record_model
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.paths import data_home
    from engine.signals.filters.modelfile import save_model_file

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{kind}-{model_type}-{re.sub(r'[^A-Za-z0-9]+', '_', symbol)}-{stamp}"
    path = data_home() / "models" / f"{name}.joblib"
    data_range = (frame.index[0].isoformat(), frame.index[-1].isoformat())
    data_hash = data_sha256(frame)
    payload = {"kind": kind, "type": model_type, "model": fitted, "features": list(names),
               "params": params}
    file_hash = save_model_file(payload, path)
    row = {"name": name, "kind": kind, "model_type": model_type, "symbol": symbol,
           "data_source": source, "features_json": json.dumps(list(names)),
           "params_json": json.dumps(params, sort_keys=True), "data_start": data_range[0],
           "data_end": data_range[1], "data_sha256": data_hash,
           "cv_json": json.dumps(report["overall"], sort_keys=True), "file_path": str(path),
           "file_sha256": file_hash}
    audit = {k: v for k, v in row.items() if not k.endswith("_json")}
    audit |= {"features": list(names), "params": params, "cv": report["overall"]}
    store = open_store(cfg)
    try:
        model_id = record_model(store, row, audit)
    except BaseException:
        path.unlink(missing_ok=True)  # a model no record names would be trusted by nobody
        raise
    finally:
        store.close()
    return TrainOutcome(name, kind, model_type, symbol, source, report, data_range,
                        data_hash, path, file_hash, model_id, tuple(names))
