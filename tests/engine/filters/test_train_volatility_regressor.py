"""`desk train --model vol_lightgbm | vol_random_forest` on arch:sp500: the regressor of
realized volatility is cross-validated as GARCH is (beside the persistence baseline, GARCH
beside it), stored with its features, lookback and horizon, and used by the stored-model
backtest; a model trained for another lookback or horizon is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desk.cli import main
from engine.config.schema import config_from_dict
from engine.signals.filters import metrics, realized
from engine.signals.filters.cv import time_series_folds
from engine.signals.filters.features import (
    Bars,
    finite_rows,
    volatility_feature_names,
    volatility_features,
)
from engine.signals.filters.modelfile import load_model_file
from engine.signals.filters.training import TrainOptions, train

SLICE = {"start": "2005-01-01", "end": "2009-12-31"}


@pytest.fixture(scope="module")
def sp500_slice():
    from engine.data.sources import load_source

    return load_source("arch:sp500", **SLICE).frames["SP500"]


def test_regressor_cv_report_and_stored_model_on_sp500(tmp_path, sp500_slice):
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")}})
    vol = cfg.filters.volatility
    outcome = train(cfg, TrainOptions(data="arch:sp500", model="vol_lightgbm", **SLICE))
    report = outcome.report
    # Rebuild the rows the report used, then score each fold's regressor by hand.
    bars = Bars.of(sp500_slice)
    h = vol.forecast_horizon
    x = volatility_features(bars, vol.lookback)
    target = realized.realized_variance(bars.close, h)
    persistence = realized.persistence_variance(bars.close, h)
    rows = np.flatnonzero(finite_rows(x) & np.isfinite(target) & np.isfinite(persistence)
                          & (persistence > 0))
    assert report["rows"] == len(rows)
    folds = list(time_series_folds(len(rows), 5, h))
    assert len(report["folds"]) == len(folds) == 5
    pooled, actual = [], []
    for fold, (train_idx, test_idx) in zip(report["folds"], folds, strict=True):
        assert fold["train_rows"] == [0, int(train_idx[-1])]
        assert int(train_idx[-1]) + h < fold["test_rows"][0]  # the gap: no label reaches in
        train_rows, test_rows = rows[train_idx], rows[test_idx]
        model = realized.fit_regressor("lightgbm", x[train_rows], target[train_rows])
        forecast = np.exp(model.predict(x[test_rows]))
        assert fold["model"]["qlike"] == pytest.approx(
            np.mean(np.log(forecast) + target[test_rows] / forecast), rel=1e-12)
        base = persistence[test_rows]
        assert fold["baseline"]["qlike"] == pytest.approx(
            np.mean(np.log(base) + target[test_rows] / base), rel=1e-12)
        assert set(fold) >= {"model", "baseline", "garch"}
        pooled.append(forecast)
        actual.append(target[test_rows])
    assert report["overall"]["model"] == pytest.approx(
        metrics.volatility_scores(np.concatenate(actual), np.concatenate(pooled)), rel=1e-12)
    assert set(report["overall"]) == {"model", "baseline", "garch"}
    # Stored as [filters.volatility] type "lightgbm", fitted on every usable row.
    assert (outcome.kind, outcome.model_type) == ("volatility", "lightgbm")
    assert outcome.features == volatility_feature_names(vol.lookback)
    payload = load_model_file(outcome.file_path, outcome.file_sha256)
    assert payload["params"]["lookback"] == vol.lookback
    assert payload["params"]["forecast_horizon"] == h
    everything = realized.fit_regressor("lightgbm", x[rows], target[rows])
    assert np.array_equal(payload["model"].predict(x[rows]), everything.predict(x[rows]))


def _config(tmp_path, **volatility) -> Path:
    path = tmp_path / f"filters-{len(list(tmp_path.glob('filters-*')))}.toml"
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in volatility.items()]
    path.write_text("[filters]\nenabled = true\n[filters.direction]\nenabled = false\n"
                    "[filters.volatility]\nblock_high_volatility = true\n"
                    + "\n".join(lines) + "\n")
    return path


def test_a_stored_forest_judges_a_backtest_after_its_range_and_a_mismatch_is_refused(
        tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    assert main(["train", "--data", "arch:sp500", "--model", "vol_random_forest", "--db", db,
                 *("--start", SLICE["start"], "--end", SLICE["end"])]) == 0
    printed = capsys.readouterr().out
    assert "garch" in printed and "baseline" in printed and "QLIKE" in printed
    assert "vol_random_forest on arch:sp500" in printed  # as --model names it
    run = ["--backtest", "--data", "arch:sp500", "--start", "2010-01-01", "--db", db]
    assert main([*run, "--config", str(_config(tmp_path, type="random_forest"))]) == 0
    capsys.readouterr()
    for setting, message in (({"lookback": 50}, "trained with lookback 100"),
                             ({"forecast_horizon": 10}, "trained to forecast 5 bars ahead")):
        code = main([*run, "--config",
                     str(_config(tmp_path, type="random_forest", **setting))])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_a_stored_forest_predicts_on_one_thread(tmp_path):
    """Its threads would add the trees' predictions in the order they finish: the same row
    could differ in its last bit between the live desk and the backtest."""
    from engine.data.sources import load_source
    from engine.signals.filters.backtest import load_stored_models

    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                            "filters": {"enabled": True, "direction": {"enabled": False},
                                        "volatility": {"type": "random_forest"}}})
    train(cfg, TrainOptions(data="arch:sp500", model="vol_random_forest", **SLICE))
    frames = load_source("arch:sp500", start="2010-01-01").frames
    model = load_stored_models(cfg, frames)["SP500"]["volatility"].model
    assert model.n_jobs == 1


def test_a_backtest_without_a_stored_regressor_names_the_model_to_train(tmp_path, capsys):
    code = main(["--backtest", "--data", "arch:sp500", "--start", "2010-01-01",
                 "--db", str(tmp_path / "desk.db"),
                 "--config", str(_config(tmp_path, type="lightgbm"))])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no stored volatility model of type lightgbm for SP500" in err
    assert "--model vol_lightgbm" in err and "desk train stores GARCH" not in err


def test_an_unknown_model_is_one_line_and_exit_2_before_any_data_loads(tmp_path, capsys):
    code = main(["train", "--data", "arch:sp500", "--model", "vol_garch",
                 "--db", str(tmp_path / "d.db")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--model vol_garch: expected one of" in err and "vol_lightgbm" in err
    assert not (tmp_path / "d.db").exists()


@pytest.mark.parametrize("horizon", ["0", "-3", "10001"])
def test_a_horizon_out_of_bounds_is_one_line_and_exit_2_before_any_data_loads(
        tmp_path, capsys, horizon):
    code = main(["train", "--data", "arch:sp500", "--model", "garch", "--horizon", horizon,
                 "--db", str(tmp_path / "d.db")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"--horizon {horizon}: expected a whole number of bars from 1 to 10,000" in err
    assert not (tmp_path / "d.db").exists()
