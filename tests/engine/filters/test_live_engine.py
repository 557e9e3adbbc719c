"""The live desk runs the filters and the quality score on every decision it makes."""

from __future__ import annotations

from engine.config.schema import config_from_dict
from engine.signals.filters.training import TrainOptions, train
from tests.live_engine import judged_decisions


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
    judged = judged_decisions(tmp_path, 400, **sections)
    assert judged, "no decision was judged"
    for record in judged:
        assert [v["filter"] for v in record["filters"]] == ["volatility", "volume"]
        assert set(record["quality"]) >= {"score", "confluence", "alignment", "success"}
        vetoed = any(v["verdict"] == "veto" for v in record["filters"])
        assert record["dropped"] == (vetoed or record["quality"]["dropped"])
