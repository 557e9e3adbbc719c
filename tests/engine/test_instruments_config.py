"""[instruments] in desk.toml: symbols the shape does not describe, checked when the file is
read, with one line naming the symbol and the key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.config.schema import load_config
from engine.errors import ConfigError
from engine.instruments.model import Future, Option, Spot
from engine.instruments.registry import Instruments

FUTURE = '''
[instruments."ESH6"]
kind = "future"
underlying = "SPX"
expiry = 2026-03-20
multiplier = 50
tick_size = "0.25"
'''


def write(tmp_path, text: str):
    path = tmp_path / "desk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_configured_future_and_symbols_read_from_their_shape(tmp_path):
    cfg = load_config(write(tmp_path, FUTURE))
    instruments = Instruments(cfg.instruments)

    es = instruments["ESH6"]
    assert isinstance(es, Future)
    assert (es.multiplier, es.tick_size, es.expiry) == (Decimal(50), Decimal("0.25"),
                                                        date(2026, 3, 20))
    assert isinstance(instruments["BTC/USDT"], Spot)
    assert instruments.multiplier("BTC/USDT") == 1
    assert isinstance(instruments["AAPL251219C00150000"], Option)
    assert cfg.to_dict()["instruments"]["ESH6"]["expiry"] == "2026-03-20"  # JSON data


def test_the_packaged_file_configures_none():
    assert dict(load_config().instruments) == {}


@pytest.mark.parametrize(("text", "message"), [
    (FUTURE.replace("multiplier = 50", "multiplier = 0"),
     '[instruments."ESH6"] multiplier: expected a number > 0, got 0'),
    (FUTURE.replace('kind = "future"', 'kind = "swap"'),
     '[instruments."ESH6"] kind: expected one of spot, stock, etf, forex, option, future, '
     "got 'swap'"),
    (FUTURE.replace('underlying = "SPX"\n', ""),
     '[instruments."ESH6"]: a future needs underlying'),
    (FUTURE + "strike = 10\n", '[instruments."ESH6"] strike: unknown key for a future'),
    ('[instruments]\nESH6 = 5\n', '[instruments] "ESH6": expected a table, got 5'),
])
def test_a_bad_instrument_is_one_line_naming_symbol_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))

    line = str(caught.value)
    assert "\n" not in line
    assert line.split(": ", 1)[1].startswith(message), line
