"""[microstructure] and [strategies.hft]: every bad value is one line naming the key."""

from __future__ import annotations

import pytest

from engine.config.schema import config_from_dict
from engine.errors import ConfigError
from engine.microstructure.board import flow_params, hft_params
from engine.microstructure.hft import HftParams
from engine.microstructure.tracker import FlowParams


def test_the_packaged_defaults_are_the_code_defaults():
    cfg = config_from_dict({})
    assert flow_params(cfg) == FlowParams()
    assert hft_params(cfg) == HftParams()


@pytest.mark.parametrize(("data", "message"), [
    ({"microstructure": {"window": 600}},
     "<dict>: [microstructure] window: expected at most z_window (500), got 600"),
    ({"microstructure": {"min_periods": 501}},
     "<dict>: [microstructure] min_periods: expected at most z_window (500), got 501"),
    ({"microstructure": {"spread_ratio": 1}}, "[microstructure] spread_ratio: expected"),
    ({"microstructure": {"depth_ratio": 0}}, "[microstructure] depth_ratio: expected"),
    ({"microstructure": {"sim_updates": 1}}, "[microstructure] sim_updates: expected"),
    ({"microstructure": {"windw": 5}}, "[microstructure] windw: unknown key"),
    ({"strategies": {"hft": {"min_confidence": 1.5}}},
     "[strategies.hft]: min_confidence must be in [0, 1], got 1.5"),
    ({"strategies": {"hft": {"entry_z": 0.0}}}, "[strategies.hft]: entry_z must be positive"),
    ({"strategies": {"hft": {"sustain_trades": 0}}},
     "[strategies.hft] sustain_trades: expected an integer in [1, 100_000], got 0"),
])
def test_bad_values_name_the_key(data, message):
    with pytest.raises(ConfigError) as error:
        config_from_dict(data)
    assert message in str(error.value)
    assert "\n" not in str(error.value) and error.value.exit_code == 2
