"""Live and backtest trade the same rules through one kernel, in-process: the live engine
stepped bar by bar over a replay stores the fills whose trades the backtest takes, with the
regime, stops and dynamic weights on, on real data and on the simulated market, with
market and TWAP execution."""

from __future__ import annotations

import pytest

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.live.build import build_live
from tests.one_engine import assert_same_trades, live_trades


@pytest.mark.parametrize(("source", "history", "mode", "minimum"), [
    ("arch:sp500", 600, "market", 20),
    ("arch:sp500", 800, "twap", 20),
    ("sim:ETH/USDT", 700, "market", 20),
    ("sim:BTC/USDT,SOL/USDT", 900, "twap", 20),
])
def test_stepping_the_live_engine_over_a_replay_takes_the_backtest_trades(
        tmp_path, source, history, mode, minimum):
    cfg = config_from_dict({
        "store": {"path": str(tmp_path / "desk.db")},
        "audit": {"key_path": str(tmp_path / "audit.pem")},
        "feed": {"kind": "replay", "source": source, "speed": 0, "history_bars": history},
        "engine": {"approval": "auto", "regime": True},
        "ensemble": {"dynamic_weights": True},
        "execution": {"mode": mode},
    })
    engine = build_live(cfg)
    engine.start()
    while engine.step():
        pass
    stopped_with = engine.kernel.stops_hit
    engine.stop()
    result = run_backtest(load_source(source).frames, build_spec(cfg))
    live, still_open = live_trades(tmp_path / "desk.db")
    compared = assert_same_trades(live, still_open,
                                  [t.to_dict() for t in result.trades], minimum)
    assert compared >= minimum
    assert stopped_with == result.stats["stops_hit"] > 0  # stops fired, the same ones
