"""--param texts: integer, float and categorical parameters; one-line errors."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.optimize.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    build_space,
    strategy_spec,
)

BASE = {"period": 20, "num_std": 2.0, "rsi_period": 14, "oversold": 30.0, "overbought": 70.0}


def test_kinds_follow_the_strategy_parameters():
    space = build_space("mean_reversion", ["period=10:40:5", "num_std=1.5:3.0:0.5",
                                           "oversold=20,25,30"], BASE)
    period, num_std, oversold = space.params
    assert period == IntParam("period", 10, 40, 5)
    assert period.values() == [10, 15, 20, 25, 30, 35, 40]
    assert num_std == FloatParam("num_std", 1.5, 3.0, 0.5)
    assert num_std.values() == [1.5, 2.0, 2.5, 3.0]
    assert oversold == CategoricalParam("oversold", (20.0, 25.0, 30.0))
    assert space.full({"period": 15}) == {**BASE, "period": 15}


@pytest.mark.parametrize(("text", "message"), [
    ("fats=5:50", "sma_cross has no parameter fats (expected one of fast, slow)"),
    ("fast=5.5:50", "expected an integer, got '5.5'"),
    ("fast=50:5", "LO (50) must be below HI (5)"),
    ("fast=5:50:100", "STEP must be in (0, HI - LO], got 100"),
    ("fast", "expected NAME=LO:HI[:STEP] or NAME=A,B,C"),
    ("fast=5,5", "a choice is listed twice"),
])
def test_bad_params_are_one_line(text, message):
    with pytest.raises(ConfigError) as error:
        build_space("sma_cross", [text], {"fast": 10, "slow": 30})
    assert str(error.value) == f"--param {text}: {message}"


def test_rules_come_from_the_strategy():
    space = build_space("sma_cross", ["fast=5:50", "slow=20:200"], {"fast": 10, "slow": 30})
    assert space.problems({"fast": 40, "slow": 30}) == ["fast (40) must be less than slow (30)"]
    assert space.feasible({"fast": 5, "slow": 30})


def test_spec_text_round_trips_floats_exactly():
    from engine.signals.strategies.registry import parse_spec

    values = {"period": 17, "num_std": 0.1 + 0.2}
    strategy = parse_spec(strategy_spec("mean_reversion", values))
    assert strategy.params.num_std == 0.1 + 0.2
    assert strategy.params.period == 17
