"""Fuzz the shipped desk.toml: any value at or beyond a bound, of any type, either loads or
stops with the one-line ConfigError; and whatever loads can be used. A backtest spec is
built from it, every execution mode plans a schedule and the live feed's history window
is placed in time, without an exception of any other kind.

DESK_FUZZ_EXAMPLES raises the example count for a longer hunt (the suite runs 300).
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.schema import Config, _packaged, config_from_dict
from engine.errors import ConfigError

EXAMPLES = int(os.environ.get("DESK_FUZZ_EXAMPLES", "300"))
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Every key path of the packaged file, array entries by index (ensemble members)."""
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [leaf for i, item in enumerate(data) for leaf in _leaves(item, (*path, i))]
    return [path]


PACKAGED = _packaged()
LEAVES = _leaves(PACKAGED)

# Values at and just beyond every bound desk.toml documents, and the classic breakers.
EDGE_INTS = [0, 1, -1, 2, 9, 10, 11, 29, 30, 99, 100, 999, 1000, 1001, 86_400, 86_401,
             100_000, 100_001, 525_600, 525_601, 3_600_000, 3_600_001, 31_536_000, 31_536_001,
             10**6, 10**6 + 1, 2**31, 2**32 - 1, 2**32, 2**63, -(2**63), 10**15, 10**15 + 1,
             10**100]
EDGE_FLOATS = [0.0, -0.0, 5e-324, 1e-308, 0.0009, 0.001, 0.5, 1.0, 1.0000001, 1.5, 99.9,
               100.0, 86_400.0, 525_600.0, 525_600.5, 1e15, 1e308, -1e308,
               math.nan, math.inf, -math.inf]
EDGE_TEXT = ["nan", "NaN", "sNaN", "inf", "-Infinity", "1e400", "1e-400", "-1", "0", "", " ",
             "1000000000000000", "1000000000000001", "0.0000000000000000001",
             "1000000000000000.000000000000000001", "1E+15", "0.1", "x" * 5000, "a\0b",
             "1min", "365D", "366D", "999999999D", "1M", "wss://example.com/ws", "http://x",
             ".", "/", "/nonexistent/dir/audit.pem", "audit.pem", "BTC/USDT"]

VALUES = st.one_of(
    st.sampled_from(EDGE_INTS),
    st.sampled_from(EDGE_FLOATS),
    st.sampled_from(EDGE_TEXT),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.sampled_from([[], {}, ["BTC/USDT", "BTC/USDT"], ["BTC/USDT"] * 101, [1, 2], {"a": 1}]),
)


def _near(default: Any) -> st.SearchStrategy:
    """Values around a numeric default: scaled up and down, negated, as text."""
    if isinstance(default, bool) or not isinstance(default, int | float | str):
        return VALUES
    try:
        number = float(default)
    except ValueError:
        return VALUES
    factor = st.sampled_from([-1.0, 0.0, 0.5, 2.0, 10.0, 1e3, 1e6, 1e12, 1e300])
    scaled = factor.map(lambda f: number * f)
    if isinstance(default, int):
        return scaled.map(lambda v: int(v) if math.isfinite(v) else v)
    if isinstance(default, str):  # amounts: exact text
        return scaled.map(lambda v: repr(v) if math.isfinite(v) else str(v))
    return scaled


def _set(data: dict, path: tuple, value: Any) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@st.composite
def mutated(draw: st.DrawFn) -> dict:
    """The packaged file with one to three values replaced."""
    import copy

    data = copy.deepcopy(PACKAGED)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(LEAVES))
        default = PACKAGED
        for key in path:
            default = default[key]
        value = draw(st.one_of(VALUES, _near(default)))
        _set(data, path, value)
    return data


def _parts_asked(execution, mode: str) -> int:
    """The most parts `mode` may plan under `execution`."""
    if mode == "market":
        return 1
    if mode == "smart":
        return execution.smart.max_parts
    return getattr(execution, mode).parts


def _use(cfg: Config) -> None:
    """What the desk does first with a configuration that loaded."""
    import pandas as pd

    from engine.backtest.job import build_spec
    from engine.execution.schedule import MODES, QUANTUM, plan
    from engine.live.feeds import SimFeed

    build_spec(cfg)
    history = [(pd.Timestamp(NOW) - pd.Timedelta(minutes=m), 1.0 + m % 7) for m in range(60)]
    for price in (Decimal("0.01"), Decimal("100"), Decimal("1000000")):
        # The largest order the account allows, and the smallest.
        qty = (cfg.broker.cash * Decimal(str(cfg.engine.size)) / price).quantize(QUANTUM)
        for amount in {max(qty, QUANTUM), QUANTUM}:
            for mode in MODES:
                parts, _, _ = plan(mode, cfg.execution, amount, NOW, price=price,
                                   volume_history=history)
                # Never more parts than the configuration asks for, none empty, in time
                # order from now, and adding up to the order exactly.
                assert 1 <= len(parts) <= _parts_asked(cfg.execution, mode)
                assert all(p.qty > 0 for p in parts)
                assert parts[0].due >= NOW and all(
                    a.due <= b.due for a, b in zip(parts, parts[1:], strict=False))
                assert sum(p.qty for p in parts) == amount
    feed = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                   history_bars=cfg.feed.history_bars, now=NOW)
    # Placing the history in time is where a huge freq x history_bars would overflow;
    # the simulated market is built lazily, so only its start is computed here.
    start = pd.Timestamp(NOW).floor(cfg.feed.freq) - pd.Timedelta(
        seconds=feed.bar_seconds * cfg.feed.history_bars)
    assert start.year >= 1900


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_any_value_loads_or_stops_with_one_line(data):
    try:
        cfg = config_from_dict(data, name="desk.toml")
    except ConfigError as error:
        message = str(error)
        assert message.startswith("desk.toml: ")
        assert "\n" not in message and len(message) < 400
        assert error.exit_code == 2
        return
    _use(cfg)


def test_every_bound_itself_loads_and_is_usable():
    """The largest and smallest values each bound admits, together."""
    cfg = config_from_dict({
        "broker": {"cash": "1000000000000000", "startup_timeout": 86400},
        "engine": {"regime_states": 10, "regime_window": 100, "approval_timeout": 31_536_000},
        "feed": {"freq": "365D", "history_bars": 100, "speed": 0.001, "seed": 2**32 - 1},
        "execution": {
            "smart": {"max_parts": 1000, "delay_seconds": 31.536, "split_threshold": "1"},
            "twap": {"parts": 1000, "duration_minutes": 525_600},
            "vwap": {"parts": 1000, "duration_minutes": 525_600, "lookback_minutes": 525_600},
            "dca": {"parts": 1000, "interval_minutes": 525.6},
        },
    }, name="desk.toml")
    _use(cfg)
    small = config_from_dict({
        "broker": {"cash": "0.000000000000000001"},
        "engine": {"regime_states": 2, "regime_window": 20},
        "execution": {"dca": {"parts": 1, "interval_minutes": 525_600}},
    }, name="desk.toml")
    _use(small)


EXTREMES = [
    {"engine": {"regime_states": 10, "regime_window": 100},
     "execution": {"mode": "dca", "dca": {"parts": 1000, "interval_minutes": 525.6}}},
    {"engine": {"regime_states": 2, "regime_window": 20},
     "execution": {"mode": "twap", "twap": {"parts": 1000, "duration_minutes": 525_600}}},
    {"execution": {"mode": "smart", "smart": {"max_parts": 1000, "delay_seconds": 31.536,
                                              "split_threshold": "1"}}},
    {"execution": {"mode": "vwap", "vwap": {"parts": 1000, "duration_minutes": 525_600,
                                            "lookback_minutes": 525_600}}},
]


@pytest.mark.parametrize("over", EXTREMES, ids=lambda o: o["execution"]["mode"])
def test_a_backtest_runs_at_the_bounds(over):
    from engine.backtest.job import build_spec
    from engine.backtest.run import run_backtest
    from engine.data.sources import load_source

    cfg = config_from_dict(over, name="desk.toml")
    market = load_source("sim:BTC/USDT", bars=600)

    result = run_backtest(market.frames, build_spec(cfg))

    assert result.timing["bars"] == 600
