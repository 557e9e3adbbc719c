"""The live desk runs the filters and the quality score on every decision it makes."""

from __future__ import annotations

import json
import sqlite3

from engine.config.schema import config_from_dict
from engine.signals.filters.training import TrainOptions, train
from tests.live_engine import live_engine


def _judged(db) -> list[dict]:
    rows = sqlite3.connect(db).execute(
        "SELECT payload FROM audit_entries WHERE kind = 'decision.judged'").fetchall()
    return [json.loads(p) for (p,) in rows]


def test_live_decisions_carry_verdicts_and_quality(tmp_path):
    db = str(tmp_path / "desk.db")
    sections = {"feed": {"symbols": ["BTC/USDT"], "history_bars": 300},
                "engine": {"approval": "auto"},
                "filters": {"enabled": True, "direction": {"enabled": False},
                            "volatility": {"block_high_volatility": True,
                                           "threshold": 0.0005,
                                           "confidence_threshold": 0.5}},
                "quality": {"enabled": True, "min_score": 0.0}}
    cfg = config_from_dict({"store": {"path": db}} | sections)
    train(cfg, TrainOptions(data="sim:BTC/USDT", model="garch"))
    engine, _, _ = live_engine(tmp_path, **sections)
    try:
        for _ in range(400):
            engine.step()
    finally:
        engine.stop()
    judged = _judged(db)
    assert judged, "no decision was judged"
    for record in judged:
        assert [v["filter"] for v in record["filters"]] == ["volatility", "volume"]
        assert set(record["quality"]) >= {"score", "confluence", "alignment", "success"}
        vetoed = any(v["verdict"] == "veto" for v in record["filters"])
        assert record["dropped"] == (vetoed or record["quality"]["dropped"])
