"""Model files: atomic writes, a hash check on load, and nothing half-written on Ctrl-C."""

from __future__ import annotations

import pytest

from engine.signals.filters import modelfile
from engine.signals.filters.modelfile import (
    ModelFileError,
    check_no_overlap,
    load_model_file,
    save_model_file,
)


def test_a_saved_model_loads_back_and_a_changed_one_is_refused(tmp_path):
    path = tmp_path / "m.joblib"
    digest = save_model_file({"weights": [1.0, 2.0]}, path)
    assert load_model_file(path, digest) == {"weights": [1.0, 2.0]}
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(ModelFileError, match=f"{path}: model file changed") as error:
        load_model_file(path, digest)
    assert error.value.exit_code == 2
    with pytest.raises(ModelFileError, match="not found"):
        load_model_file(tmp_path / "gone.joblib", digest)


def test_an_interrupted_save_leaves_no_file(tmp_path, monkeypatch):
    import joblib

    def interrupted(obj, handle):
        handle.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model_file({"a": 1}, tmp_path / "m.joblib")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_train_leaves_no_model_and_no_row(tmp_path, monkeypatch):
    import sqlite3

    from engine.adapters.sqlite import models as adapter
    from engine.config.schema import config_from_dict
    from engine.signals.filters.training import TrainOptions, train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(adapter, "record_model", interrupted)
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")}})
    with pytest.raises(KeyboardInterrupt):
        train(cfg, TrainOptions(data="arch:sp500", model="garch", start="2008-01-01",
                                end="2010-12-31"))
    models = tmp_path / "xdg-data" / "desk" / "models"
    assert not models.exists() or list(models.iterdir()) == []
    rows = sqlite3.connect(tmp_path / "desk.db").execute("SELECT COUNT(*) FROM models")
    assert rows.fetchone()[0] == 0


@pytest.mark.parametrize(("trained", "run", "overlaps"), [
    (("2001-01-01", "2005-12-31"), ("2006-01-01", "2008-01-01"), False),
    (("2001-01-01", "2005-12-31"), ("2005-12-31", "2008-01-01"), True),
    (("2001-01-01", "2005-12-31"), ("1999-01-01", "2000-12-31"), False),
    (("2001-01-01", "2005-12-31"), ("1999-01-01", "2001-01-01"), True),
    (("2001-01-01", "2005-12-31"), ("2002-01-01", "2003-01-01"), True),
])
def test_overlap_is_refused_naming_both_ranges(trained, run, overlaps):
    if not overlaps:
        check_no_overlap("m", trained, run)
        return
    with pytest.raises(ModelFileError) as error:
        check_no_overlap("m", trained, run)
    assert all(date in str(error.value) for date in (*trained, *run))


def test_the_module_keeps_joblib_out_of_import():
    assert "joblib" not in vars(modelfile)
