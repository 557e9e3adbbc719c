"""`desk train` on arch:sp500: the CV report is computed correctly (beside its baseline), the
model is stored with its hashes, a tampered file is refused, an overlapping range too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desk.cli import main
from engine.config.schema import config_from_dict
from engine.signals.filters.features import Bars, direction_features, finite_rows
from engine.signals.filters.target import CLASSES, direction_target
from engine.signals.filters.training import TrainOptions, regime_probabilities, train

SLICE = {"start": "2005-01-01", "end": "2009-12-31"}


@pytest.fixture(scope="module")
def sp500_slice():
    from engine.data.sources import load_source

    return load_source("arch:sp500", **SLICE).frames["SP500"]


def _cfg(tmp_path):
    return config_from_dict({"store": {"path": str(tmp_path / "desk.db")}})


def test_direction_cv_report_on_sp500_is_computed_correctly(tmp_path, sp500_slice):
    cfg = _cfg(tmp_path)
    outcome = train(cfg, TrainOptions(data="arch:sp500", model="logistic", **SLICE))
    report = outcome.report
    d = cfg.filters.direction
    # Rebuild the rows the report used, then score each fold by hand.
    bars = Bars.of(sp500_slice)
    x = direction_features(bars, d.lookback, regime_probabilities(bars.close, cfg.engine))
    y = direction_target(bars.close, d.horizon, d.dead_band, d.lookback)
    rows = np.flatnonzero(finite_rows(x) & y.known)
    labels = y.label[rows]
    assert report["rows"] == len(rows)
    assert len(report["folds"]) == 5
    for fold in report["folds"]:
        (tr0, tr1), (te0, te1) = fold["train_rows"], fold["test_rows"]
        assert tr0 == 0 and tr1 + d.horizon < te0  # never trains on or next to the test
        train_y, test_y = labels[tr0:tr1 + 1], labels[te0:te1 + 1]
        # baseline: the training majority, the training frequencies as probabilities
        prior = np.array([np.mean(train_y == c) for c in CLASSES])
        majority = CLASSES[int(np.argmax(prior))]
        base = fold["baseline"]
        assert base["accuracy"] == pytest.approx(np.mean(test_y == majority), abs=1e-12)
        assert base["log_loss"] == pytest.approx(
            -np.mean(np.log(np.clip(prior[[CLASSES.index(v) for v in test_y]], 1e-15, 1))),
            rel=1e-9)
        present = [c for c in CLASSES if np.any(test_y == c)]
        assert base["balanced_accuracy"] == pytest.approx(
            np.mean([float(c == majority) for c in present]), abs=1e-12)
        # the model's scores from its own out-of-fold predictions
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500))
        model.fit(x[rows][tr0:tr1 + 1], train_y)
        proba = np.zeros((len(test_y), 3))
        proba[:, [CLASSES.index(int(c)) for c in model.classes_]] = model.predict_proba(
            x[rows][te0:te1 + 1])
        predicted = np.asarray(CLASSES)[proba.argmax(axis=1)]
        assert fold["model"]["accuracy"] == pytest.approx(np.mean(predicted == test_y),
                                                          abs=1e-12)
        picked = proba[np.arange(len(test_y)), [CLASSES.index(v) for v in test_y]]
        assert fold["model"]["log_loss"] == pytest.approx(
            -np.mean(np.log(np.clip(picked, 1e-15, 1))), rel=1e-6)
        for c, name in ((-1, "down"), (0, "neutral"), (1, "up")):
            hits = np.sum((predicted == c) & (test_y == c))
            assert fold["model"][f"recall_{name}"] == pytest.approx(
                hits / max(np.sum(test_y == c), 1), abs=1e-12)
    assert set(report["overall"]) == {"model", "baseline"}


def test_train_command_stores_lists_and_writes_json(tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    out = tmp_path / "cv.json"
    code = main(["train", "--data", "arch:sp500", "--model", "garch", "--start", SLICE["start"],
                 "--end", SLICE["end"], "--db", db, "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "baseline" in printed and "QLIKE" in printed
    document = json.loads(out.read_text())
    row = _model_rows(db)[0]
    path = Path(row["file_path"])
    assert row["file_sha256"] == document["file_sha256"]
    assert row["data_sha256"] == document["data_sha256"]
    assert path.is_file() and document["file_sha256"] == _sha256(path)
    assert document["data_range"][0].startswith("2005-01-03")
    assert {"model", "baseline", "regressor"} <= set(document["cv"]["overall"])
    assert main(["train", "--list", "--db", db]) == 0
    assert "volatility" in capsys.readouterr().out
    import sqlite3

    kinds = [k for (k,) in sqlite3.connect(db).execute("SELECT kind FROM audit_entries")]
    assert "model.trained" in kinds


def test_json_path_in_a_missing_folder_stops_before_training(tmp_path, capsys):
    code = main(["train", "--data", "arch:sp500", "--model", "garch", "--db",
                 str(tmp_path / "d.db"), "--json", str(tmp_path / "nope" / "cv.json")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "d.db").exists()


def _filters_config(tmp_path) -> Path:
    path = tmp_path / "filters.toml"
    path.write_text("[filters]\nenabled = true\n[filters.direction]\nenabled = false\n"
                    "[filters.volatility]\nblock_high_volatility = true\n")
    return path


def test_tampered_model_file_is_refused_naming_it(tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    assert main(["train", "--data", "arch:sp500", "--model", "garch", "--end", "2009-12-31",
                 "--start", "2005-01-01", "--db", db]) == 0
    file = Path(_model_rows(db)[0]["file_path"])
    file.write_bytes(file.read_bytes() + b"\0")
    capsys.readouterr()
    code = main(["--backtest", "--data", "arch:sp500", "--start", "2011-01-01", "--db", db,
                 "--config", str(_filters_config(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2
    assert str(file) in err and "changed since it was trained" in err
    assert len(err.strip().splitlines()) == 1


def test_training_range_overlapping_the_backtest_is_refused(tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    assert main(["train", "--data", "arch:sp500", "--model", "garch", "--end", "2009-12-31",
                 "--start", "2005-01-01", "--db", db]) == 0
    capsys.readouterr()
    code = main(["--backtest", "--data", "arch:sp500", "--start", "2009-06-01", "--db", db,
                 "--config", str(_filters_config(tmp_path))])
    err = capsys.readouterr().err
    assert code == 2
    assert "2005-01-03" in err and "2009-12-31" in err and "2009-06-01" in err
    assert "overlaps" in err and len(err.strip().splitlines()) == 1
    # after the training range the stored model is used
    assert main(["--backtest", "--data", "arch:sp500", "--start", "2010-01-01", "--db", db,
                 "--config", str(_filters_config(tmp_path))]) == 0


def _model_rows(db: str) -> list[dict]:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM models ORDER BY id")]


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_backtest_without_a_stored_model_says_how_to_train_one(tmp_path, capsys):
    code = main(["--backtest", "--data", "arch:sp500", "--start", "2010-01-01",
                 "--db", str(tmp_path / "desk.db"), "--config", str(_filters_config(tmp_path))])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no stored volatility model of type garch for SP500" in err
    assert "--model garch" in err and "--walk-forward-models" in err
