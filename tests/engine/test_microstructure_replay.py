"""Recorded microstructure: the file round-trips, and the hft strategy decides the same
from a backtest's per-bar order-flow columns as the live engine does from the same
recording streamed bar by bar through its trackers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.config.schema import config_from_dict
from engine.live.build import build_live
from engine.microstructure.board import flow_params
from engine.microstructure.recording import (
    is_recording,
    load_recording,
    record_sim,
    write_recording,
)
from engine.microstructure.replay import RecordingFeed, with_flow_features
from engine.microstructure.tracker import FEATURES, FLOW_COLUMNS
from engine.signals.strategies.registry import create
from tests.live_engine import FakeWallClock

SYMBOLS = ("BTC/USDT", "ETH/USDT")
BARS, HISTORY = 420, 150
# Lower thresholds than the defaults so that a short recording holds many signals.
HFT = {"entry_z": 1.2, "min_confidence": 0.4, "sustain_trades": 12, "reversion_z": 1.5}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "sim.parquet"
    recording = record_sim(SYMBOLS, bars=BARS, seed=11, freq="1min", updates=20, levels=5)
    write_recording(recording, path)
    return recording, path


def test_a_recording_round_trips(recorded):
    recording, path = recorded
    assert is_recording(path)
    loaded = load_recording(path)
    assert loaded.freq == "1min"
    for symbol in SYMBOLS:
        pd.testing.assert_frame_equal(loaded.frames[symbol], recording.frames[symbol],
                                      check_freq=False)
        assert loaded.events[symbol] == recording.events[symbol]


def test_a_bar_file_is_not_a_recording(tmp_path):
    bars = tmp_path / "bars.parquet"
    pd.DataFrame({"close": [1.0]}).to_parquet(bars)
    assert not is_recording(bars)


def test_live_and_backtest_see_the_same_flow_and_the_same_hft_signals(recorded, tmp_path):
    _, path = recorded
    cfg = config_from_dict({
        "store": {"path": str(tmp_path / "desk.db")},
        "feed": {"kind": "replay", "source": str(path), "history_bars": HISTORY,
                 "symbols": list(SYMBOLS)},
        "engine": {"approval": "auto", "regime": False},
        "ensemble": {"enabled": False, "strategies": [{"id": "hft", "weight": 1.0}]},
        "strategies": {"hft": HFT},
    })
    recording = load_recording(path)
    # The backtest's side: the columns the replay computes, the strategy over whole frames.
    frames = with_flow_features(recording, flow_params(cfg))
    strategy = create("hft", **{k: str(v) for k, v in HFT.items()})
    backtest = {s: strategy.compute(frames[s]) for s in SYMBOLS}

    engine = build_live(cfg, feed=RecordingFeed(recording, flow_params(cfg)),
                        wall_clock=FakeWallClock())
    engine.start()
    live_sides = {s: np.zeros(BARS, dtype=np.int8) for s in SYMBOLS}
    live_confidence = {s: np.zeros(BARS) for s in SYMBOLS}
    try:
        for bar in range(HISTORY, BARS):
            assert engine.step()
            for symbol in SYMBOLS:
                state = engine.symbols[symbol]
                # The features the live strategy read at this close are the backtest's.
                np.testing.assert_array_equal(
                    state.flow[-1], frames[symbol][list(FLOW_COLUMNS)].iloc[bar].to_numpy())
                signal = state.latest_signals.get("hft")
                if signal is not None and signal[2] == frames[symbol].index[bar]:
                    live_sides[symbol][bar] = int(signal[0])
                    live_confidence[symbol][bar] = signal[1]
    finally:
        engine.stop()
    total = 0
    for symbol in SYMBOLS:
        expected = backtest[symbol]
        np.testing.assert_array_equal(live_sides[symbol][HISTORY:], expected.side[HISTORY:])
        np.testing.assert_allclose(live_confidence[symbol][HISTORY:],
                                   expected.confidence[HISTORY:], rtol=0, atol=1e-12)
        total += int(np.count_nonzero(expected.side[HISTORY:]))
    assert total >= 10, "too few signals for the comparison to mean much"
    assert len(FEATURES) == len(FLOW_COLUMNS)


def test_backtest_over_a_recording_trades_the_hft_strategy(recorded, tmp_path):
    from engine.backtest.job import JobOptions, run_job

    _, path = recorded
    cfg = config_from_dict({
        "store": {"path": str(tmp_path / "desk.db")},
        "engine": {"regime": False},
        "feed": {"history_bars": HISTORY},
        "strategies": {"hft": HFT},
    })
    outcome = run_job(cfg, JobOptions(data=str(path), strategy_specs=("hft",)))
    assert outcome.result.label == "hft"
    assert outcome.result.stats["orders_filled"] > 0
