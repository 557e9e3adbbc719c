"""The filters + quality layer of a backtest, from the configuration.

Walk-forward (`--walk-forward-models` or `[filters] walk_forward = true`): every model is
refitted on the trailing window as the run goes (`predict`). Otherwise each filter uses
the model `desk train` stored for the symbol, and a run whose range overlaps the model's
training range is refused, naming both ranges: a model must not judge the bars it learned.
A stored model is refused too when its features would mean something else than the
configuration's: another lookback (the same names over other windows) or, for a regressor
of realized volatility, another forecast horizon (it predicts that horizon's variance).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.signals.filters.modelfile import ModelFileError, check_no_overlap, load_model_file

if TYPE_CHECKING:
    import pandas as pd

    from engine.signals.filters.layer import SignalLayer, StoredModel


def build_layer(cfg, frames, walk_forward: bool | None = None) -> SignalLayer | None:
    """The layer the configuration asks for, or None when [filters] and [quality] are off."""
    filters = cfg.filters if cfg.filters.enabled else None
    quality = cfg.quality if cfg.quality.enabled else None
    if filters is None and quality is None:
        return None
    # Here, not at the top: a backtest with the layer off (the default) skips its modules.
    from engine.signals.filters.layer import SignalLayer

    wf = cfg.filters.walk_forward if walk_forward is None else walk_forward
    stored = {}
    if filters is not None and not wf:
        stored = load_stored_models(cfg, frames)
    return SignalLayer(filters, quality, cfg.engine.allow_short, cfg.engine.size,
                       cfg.risk.max_position_pct, wf, stored)


def needed(filters) -> list[tuple[str, object]]:
    """(filter name, its config) of the enabled filters that need a stored model."""
    out = []
    if filters.direction.enabled:
        out.append(("direction", filters.direction))
    if filters.volatility.enabled:
        out.append(("volatility", filters.volatility))
    if filters.volume.enabled and filters.volume.type != "zscore":
        out.append(("volume", filters.volume))
    return out


def load_stored_models(cfg, frames, store=None) -> dict[str, dict[str, StoredModel]]:
    """symbol -> filter -> the stored model, its file checked by SHA-256. `frames` maps each
    symbol to its backtest frame (the overlap is refused) or to None (live: no check).
    `store`: an open store to read (default: open the configured one)."""
    from engine.adapters.sqlite.models import stored_model
    from engine.adapters.sqlite.open import open_store
    from engine.signals.filters.layer import StoredModel

    own = store is None
    store = open_store(cfg) if own else store
    try:
        out: dict[str, dict[str, StoredModel]] = {}
        for symbol, frame in frames.items():
            out[symbol] = {}
            for name, sub in needed(cfg.filters):
                model_type = sub.type if name != "volume" else "volume"
                row = stored_model(store, name=sub.model or None, kind=name,
                                   model_type=model_type, symbol=symbol)
                if row is None:
                    raise ModelFileError(_missing(name, sub, model_type, symbol))
                first_after = 0
                if frame is not None:
                    run_range = (frame.index[0].isoformat(), frame.index[-1].isoformat())
                    check_no_overlap(row["name"], (row["data_start"], row["data_end"]),
                                     run_range)
                    first_after = first_bar_after(frame.index, row["data_end"])
                payload = load_model_file(Path(row["file_path"]), row["file_sha256"])
                columns = _model_columns(row, payload, name, sub, cfg)
                out[symbol][name] = StoredModel(row["name"], for_prediction(payload["model"]),
                                                first_after, columns,
                                                trained_until=row["data_end"])
        return out
    finally:
        if own:
            store.close()


def for_prediction(model: object) -> object:
    """The model, predicting on one thread. A random forest fitted on two (`desk train`'s
    default) adds its trees' predictions in the order its threads finish, so the same row's
    prediction changed in its last bit from call to call, and the live desk's differed from
    the backtest's; one thread adds them in tree order, at the cost of a few judged rows."""
    if hasattr(model, "estimators_") and getattr(model, "n_jobs", None) not in (None, 1):
        model.set_params(n_jobs=1)
    return model


def first_bar_after(index: pd.DatetimeIndex, trained_until: str) -> int:
    """Position in `index` (a frame's times) of the first bar after a model's training
    range, which ended at `trained_until` (ISO 8601): len(index) when none is after it."""
    return int(index.searchsorted(_ts(trained_until), side="right"))


def _missing(name: str, sub, model_type: str, symbol: str) -> str:
    from engine.signals.filters.training import train_name

    which = f"model {sub.model!r}" if sub.model else \
        f"{name} model of type {model_type} for {symbol}"
    return (f"[filters.{name}]: no stored {which}; train one with desk train --data SOURCE"
            f" --symbol {symbol} --model {train_name(name, model_type)}, or run with"
            " --walk-forward-models")


def _model_columns(row, payload, name, sub, cfg) -> tuple[int, ...] | None:
    """Where the model's own features (its file's list, in its order) sit among those the
    configuration computes; refused when the configuration cannot compute one of them, or
    computes them over another lookback (same names, other values), or (a regressor of
    realized volatility) was trained for another forecast horizon."""
    params = payload.get("params", {})
    lookback = params.get("lookback", sub.lookback)  # GARCH has none: it reads returns
    if lookback != sub.lookback:
        raise ModelFileError(
            f"model {row['name']}: trained with lookback {lookback} but [filters.{name}]"
            f" lookback is {sub.lookback}; its features would mean other windows")
    if name == "volatility":
        # GARCH's forecast covers any horizon (`horizon_mean`); a regressor's only its own.
        horizon = params.get("forecast_horizon", sub.forecast_horizon)
        if payload.get("type") != "garch" and horizon != sub.forecast_horizon:
            raise ModelFileError(
                f"model {row['name']}: trained to forecast {horizon} bars ahead but"
                f" [filters.volatility] forecast_horizon is {sub.forecast_horizon}")
        return None
    from engine.signals.filters.features import direction_feature_names

    trained = list(payload["features"])
    with_regime = cfg.engine.regime
    expected = list(direction_feature_names(sub.lookback, with_regime))
    missing = [f for f in trained if f not in expected]
    if missing:
        raise ModelFileError(
            f"model {row['name']}: trained on features {', '.join(trained)} but [filters.{name}]"
            f" lookback {sub.lookback} with regime {'on' if with_regime else 'off'} gives"
            f" {', '.join(expected)}, without {', '.join(missing)}")
    return None if trained == expected else tuple(expected.index(f) for f in trained)


def _ts(text: str):
    import pandas as pd

    return pd.Timestamp(text)
