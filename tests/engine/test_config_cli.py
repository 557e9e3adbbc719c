"""Command-line overrides: a new validated Config; errors name the flag."""

from __future__ import annotations

from argparse import Namespace
from decimal import Decimal

import pytest

from desk.cli import build_parser
from engine.config.schema import apply_cli_overrides, config_from_dict, load_config
from engine.errors import ConfigError


def test_every_flag_lands_on_its_key_and_the_original_is_untouched():
    cfg = load_config()
    args = build_parser().parse_args(
        [
            "--backtest", "--db", "run.db", "--cash", "2500", "--fee", "0.002",
            "--slippage", "3", "--size", "0.2", "--allow-short", "--ensemble",
            "majority_vote", "--seed", "11", "--freq", "1h", "--execution", "twap",
        ]
    )

    new = apply_cli_overrides(cfg, args)

    assert new.store.path == "run.db"
    assert (new.broker.cash, new.broker.fee, new.broker.slippage_bps) == (
        Decimal("2500"), Decimal("0.002"), Decimal("3"))
    assert new.engine.size == 0.2 and new.engine.allow_short is True
    assert new.ensemble.mode == "majority_vote"
    assert (new.feed.seed, new.feed.freq) == (11, "1h")
    assert new.execution.mode == "twap"
    assert new.source == cfg.source
    assert cfg == load_config() and new != cfg
    # Keys no flag touched keep their values.
    assert new.risk == cfg.risk and new.strategies == cfg.strategies


def test_missing_or_none_attributes_are_ignored():
    cfg = config_from_dict({"engine": {"allow_short": True}})

    assert apply_cli_overrides(cfg, Namespace()) is cfg
    assert apply_cli_overrides(cfg, Namespace(cash=None, db=None, seed=None)) is cfg
    # --allow-short is store_true: False means "not given", never "forbid shorts".
    assert apply_cli_overrides(cfg, Namespace(allow_short=False)).engine.allow_short is True


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"cash": "-5"}, "--cash: expected an amount in (0, 10^15], got -5"),
        ({"cash": "ten"}, "--cash: expected an amount in (0, 10^15], got ten"),
        ({"fee": "1"}, "--fee: expected an amount in [0, 1), got 1"),
        ({"slippage": "-0.5"}, "--slippage: expected an amount in [0, 10000), got -0.5"),
        ({"size": "abc"}, "--size: expected a number in (0, 1], got abc"),
        ({"size": "1.5"}, "--size: expected a number in (0, 1], got 1.5"),
        ({"seed": -3}, "--seed: expected an integer in [0, 4_294_967_295], got -3"),
        ({"freq": "xyz"},
         "--freq: expected a fixed bar interval such as \"1min\", \"1h\" or \"1D\","
         " up to a year, got xyz"),
        ({"ensemble": "vote"},
         "--ensemble: expected one of \"majority_vote\", \"weighted_vote\","
         " \"confidence_average\", got vote"),
        ({"execution": "iceberg"},
         "--execution: expected one of \"market\", \"smart\", \"twap\", \"vwap\", \"dca\","
         " got iceberg"),
    ],
)
def test_bad_flag_values_name_the_flag(attributes, message):
    with pytest.raises(ConfigError) as error:
        apply_cli_overrides(load_config(), Namespace(**attributes))

    assert str(error.value) == message
    assert error.value.exit_code == 2
