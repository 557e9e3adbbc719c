"""The strategy catalogue: defaults equal desk.toml's, specs and config tables build
strategies, and every bad value is a one-line ConfigError naming its origin."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.signals.strategies.registry import STRATEGIES, from_config, parse_spec

DESK_TOML = Path(__file__).resolve().parents[2] / "desk.toml"


def _documented() -> dict[str, dict]:
    with DESK_TOML.open("rb") as f:
        tables = tomllib.load(f)["strategies"]
    tables.pop("retirement")  # [strategies.retirement] is the lifecycle's, not a strategy
    return tables


def test_the_catalogue_is_the_six_documented_strategies():
    assert set(STRATEGIES) == set(_documented())
    for name, cls in STRATEGIES.items():
        assert cls.id == name


@pytest.mark.parametrize("name", sorted(_documented()))
def test_params_defaults_equal_desk_toml(name):
    documented = _documented()[name]
    defaults = {f.name: f.default for f in dataclasses.fields(STRATEGIES[name].Params)}

    assert defaults == documented
    for key, value in documented.items():
        assert type(defaults[key]) is type(value), key


def test_parse_spec_builds_a_strategy_with_its_parameters():
    strategy = parse_spec("sma_cross:fast=5,slow=20")

    assert strategy.id == "sma_cross"
    assert (strategy.params.fast, strategy.params.slow) == (5, 20)
    assert parse_spec(" rsi ").params == STRATEGIES["rsi"].Params()
    assert parse_spec("momentum:threshold=0.05, rsi_max=80").params.threshold == 0.05


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sma_cross:fats=5", "--strategy sma_cross:fats=5: unknown parameter fats "
                             "(expected fast, slow)"),
        ("sma_cros", "--strategy sma_cros: unknown strategy 'sma_cros' (did you mean "
                     "sma_cross? expected one of sma_cross, ema_cross, rsi, momentum, "
                     "mean_reversion, breakout, hft)"),
        ("sma_cross:fast=30,slow=10", "--strategy sma_cross:fast=30,slow=10: fast (30) must "
                                      "be less than slow (10)"),
        ("sma_cross:fast=x", "--strategy sma_cross:fast=x: fast: expected an integer, got 'x'"),
        ("rsi:period=2.5", "--strategy rsi:period=2.5: period: expected an integer, got '2.5'"),
        ("rsi:period=0", "--strategy rsi:period=0: period must be a positive integer, got 0"),
        ("rsi:oversold=abc", "--strategy rsi:oversold=abc: oversold: expected a number, "
                             "got 'abc'"),
        ("rsi:oversold=80", "--strategy rsi:oversold=80: expected 0 < oversold < overbought "
                            "< 100, got oversold 80.0 and overbought 70.0"),
        ("breakout:period", "--strategy breakout:period: expected key=value, got 'period'"),
        ("breakout:period=3,period=4", "--strategy breakout:period=3,period=4: parameter "
                                       "period given twice"),
        ("momentum:threshold=0", "--strategy momentum:threshold=0: threshold must be "
                                 "positive, got 0.0"),
        ("mean_reversion:num_std=-1", "--strategy mean_reversion:num_std=-1: num_std must be "
                                      "positive, got -1.0"),
    ],
)  # fmt: skip
def test_bad_specs_name_the_spec_and_the_problem(spec, message):
    with pytest.raises(ConfigError) as error:
        parse_spec(spec)

    assert str(error.value) == message
    assert error.value.exit_code == 2


def test_from_config_builds_every_strategy_with_its_table():
    built = from_config({"rsi": {"period": 21, "oversold": 25}, "breakout": {}})

    assert list(built) == list(STRATEGIES)
    assert built["rsi"].params == STRATEGIES["rsi"].Params(period=21, oversold=25.0)
    assert built["sma_cross"].params == STRATEGIES["sma_cross"].Params()
    assert list(from_config({}, ids=["momentum", "rsi"])) == ["momentum", "rsi"]


def test_from_config_of_the_documented_file_gives_the_defaults():
    built = from_config(_documented())

    for name, strategy in built.items():
        assert strategy.params == STRATEGIES[name].Params()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rsii": {}}, "[strategies.rsii]: unknown strategy 'rsii' (did you mean rsi? "),
        ({"rsi": {"period": 14.5}}, "[strategies.rsi]: period: expected an integer, got 14.5"),
        ({"rsi": {"period": True}}, "[strategies.rsi]: period: expected an integer, got True"),
        ({"rsi": {"oversold": "30"}}, "[strategies.rsi]: oversold: expected a number, got '"),
        ({"ema_cross": {"fast": 40}}, "[strategies.ema_cross]: fast (40) must be less than"),
    ],
)
def test_bad_config_tables_name_the_table(table, message):
    with pytest.raises(ConfigError) as error:
        from_config(table)

    assert str(error.value).startswith(message)


def test_direct_construction_validates_too():
    cls = STRATEGIES["sma_cross"]
    with pytest.raises(ConfigError, match=r"sma_cross: fast \(9\) must be less than slow \(9\)"):
        cls(cls.Params(fast=9, slow=9))
    with pytest.raises(TypeError):
        cls(STRATEGIES["rsi"].Params())
