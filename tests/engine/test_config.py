"""Loading desk.toml: defaults, lookup order, merge semantics, to_dict and hash."""

from __future__ import annotations

import json
import tomllib
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest

import engine.config.schema as config_module
from engine.config.schema import (
    Config,
    FrozenMap,
    config_from_dict,
    default_config_path,
    find_config,
    load_config,
)
from engine.errors import ConfigError

PACKAGED = Path(__file__).resolve().parents[2] / "desk.toml"


def packaged_toml() -> dict:
    with open(PACKAGED, "rb") as handle:
        return tomllib.load(handle)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_equal_the_packaged_file_key_for_key():
    raw = packaged_toml()
    cfg = load_config()

    # to_dict mirrors desk.toml's shape, so equality means every key exists with its default.
    assert cfg.to_dict() == raw
    assert cfg.source == default_config_path()


def test_money_keys_are_decimal_and_fractions_float():
    cfg = load_config()

    assert cfg.broker.cash == Decimal("100000") and isinstance(cfg.broker.cash, Decimal)
    assert cfg.broker.fee == Decimal("0.001")
    assert cfg.broker.slippage_bps == Decimal("5")
    assert cfg.broker.max_volume_fraction == Decimal("0.1")
    assert cfg.risk.min_order_notional == Decimal("10")
    assert cfg.execution.smart.split_threshold == Decimal("10000")
    assert isinstance(cfg.risk.max_position_pct, float)
    assert cfg.feed.symbols == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    assert [(m.id, m.weight) for m in cfg.ensemble.strategies][3] == ("momentum", 1.5)
    assert cfg.strategies["momentum"]["threshold"] == 0.02
    assert isinstance(cfg.strategies["rsi"], FrozenMap)


def test_config_is_frozen_and_hashable():
    cfg = load_config()

    with pytest.raises(FrozenInstanceError):
        cfg.risk.max_position_pct = 0.9  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.strategies["rsi"]["period"] = 3  # type: ignore[index]
    assert hash(cfg) == hash(load_config())


def test_lookup_order_explicit_then_cwd_then_xdg_then_packaged(tmp_path):
    xdg = write(tmp_path / "xdg-config" / "desk" / "desk.toml", "[feed]\nseed = 3\n")
    write(tmp_path / "desk.toml", "[feed]\nseed = 2\n")
    explicit = write(tmp_path / "elsewhere" / "mine.toml", "[feed]\nseed = 1\n")

    assert load_config(explicit).feed.seed == 1
    assert load_config(explicit).source == explicit.resolve()
    assert load_config().feed.seed == 2
    (tmp_path / "desk.toml").unlink()
    assert load_config().feed.seed == 3
    assert load_config().source == xdg
    xdg.unlink()
    assert load_config().feed.seed == packaged_toml()["feed"]["seed"]


def test_xdg_lookup_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "other"))
    write(tmp_path / "other" / "desk" / "desk.toml", "[desk]\ntheme = \"desk-light\"\n")

    assert load_config().desk.theme == "desk-light"


def test_explicit_path_must_exist(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config("nope.toml")
    assert str(error.value) == "nope.toml: configuration file not found"
    assert error.value.exit_code == 2
    (tmp_path / "somedir").mkdir()
    with pytest.raises(ConfigError, match="^somedir: not a file$"):
        load_config("somedir")


def test_display_path_is_the_one_given(tmp_path):
    write(tmp_path / "conf" / "bad.toml", "[risk]\nmax_position_pct = 2\n")

    with pytest.raises(ConfigError) as error:
        load_config(Path("conf") / "bad.toml")
    assert str(error.value).startswith(str(Path("conf") / "bad.toml") + ": [risk]")


def test_packaged_default_falls_back_to_sys_prefix(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "__file__", str(tmp_path / "site" / "engine" / "config.py"))
    monkeypatch.setattr(config_module.sys, "prefix", str(tmp_path / "prefix"))
    with pytest.raises(ConfigError, match="packaged desk.toml is missing"):
        default_config_path()

    installed = write(tmp_path / "prefix" / "share" / "desk" / "desk.toml", PACKAGED.read_text())
    assert default_config_path() == installed
    assert find_config() == (installed, str(installed))
    assert load_config().to_dict() == packaged_toml()


def test_user_file_is_merged_over_defaults(tmp_path):
    write(
        tmp_path / "desk.toml",
        "[risk]\nmax_position_pct = 0.3\n"
        "[strategies.rsi]\nperiod = 21\n"
        "[execution.twap]\nparts = 4\n"
        "[[ensemble.strategies]]\nid = \"rsi\"\nweight = 2\n",
    )
    defaults = load_config(PACKAGED)

    cfg = load_config()

    assert cfg.risk.max_position_pct == 0.3
    assert cfg.risk.max_drawdown_pct == defaults.risk.max_drawdown_pct
    assert dict(cfg.strategies["rsi"]) == {"period": 21, "oversold": 30.0, "overbought": 70.0}
    assert cfg.strategies["sma_cross"] == defaults.strategies["sma_cross"]
    assert cfg.execution.twap.parts == 4
    assert cfg.execution.twap.duration_minutes == defaults.execution.twap.duration_minutes
    # An array of tables is replaced whole, never merged element by element.
    assert [(m.id, m.weight) for m in cfg.ensemble.strategies] == [("rsi", 2.0)]
    assert isinstance(cfg.ensemble.strategies[0].weight, float)


def test_ints_accepted_for_amounts_and_floats():
    cfg = config_from_dict(
        {"broker": {"cash": 2500, "fee": Decimal("0.002")}, "strategies": {"rsi": {"oversold": 25}}}
    )

    assert cfg.broker.cash == Decimal(2500) and cfg.broker.fee == Decimal("0.002")
    assert cfg.strategies["rsi"]["oversold"] == 25.0
    assert isinstance(cfg.strategies["rsi"]["oversold"], float)


def test_to_dict_is_json_and_round_trips():
    cfg = config_from_dict({"broker": {"fee": "0.0025"}, "feed": {"symbols": ["BTC/EUR"]}})

    data = json.loads(json.dumps(cfg.to_dict()))

    assert data["broker"]["fee"] == "0.0025"
    assert config_from_dict(data) == cfg
    assert isinstance(cfg, Config)


def test_hash_is_stable_independent_of_source_and_sensitive_to_values(tmp_path):
    copy = write(tmp_path / "copy.toml", PACKAGED.read_text())
    packaged = load_config()

    assert load_config(copy).hash() == packaged.hash()
    assert len(packaged.hash()) == 64
    changed = config_from_dict({"strategies": {"breakout": {"period": 21}}})
    assert changed.hash() != packaged.hash()
    assert config_from_dict({"strategies": {"breakout": {"period": 20}}}).hash() == packaged.hash()


def test_import_does_not_pull_pandas_or_ui():
    import subprocess
    import sys

    code = (
        "import sys, engine.config.schema;"
        "bad = [m for m in ('pandas', 'textual', 'rich') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
