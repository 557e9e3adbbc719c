"""[portfolio] in desk.toml: defaults read, bad values one line naming the key."""

from __future__ import annotations

import pytest

from engine.config.schema import config_from_dict, load_config
from engine.errors import ConfigError


def test_packaged_defaults():
    portfolio = load_config().portfolio
    assert portfolio.enabled is False
    assert portfolio.rebalancing.scheme == "risk_parity"
    assert (portfolio.rebalancing.threshold, portfolio.rebalancing.relative_threshold) == (
        0.05, 0.20)
    assert portfolio.hedging.max_stablecoin_pct == 0.30
    assert (portfolio.drawdown.warning, portfolio.drawdown.critical) == (0.10, 0.20)


@pytest.mark.parametrize(("data", "message"), [
    ({"rebalancing": {"mode": "weekly"}}, "[portfolio.rebalancing] mode: expected \"thres"),
    ({"rebalancing": {"scheme": "best"}}, "[portfolio.rebalancing] scheme: expected one of"),
    ({"drawdown": {"warning": 0.3}}, "[portfolio.drawdown] critical: expected more than"),
    ({"allocation": {"min_position_size": "5000000"}},
     "[portfolio.allocation] min_position_size: expected at most max_position_size"),
    ({"hedging": {"stepp": 0.1}}, "[portfolio.hedging] stepp: unknown key (did you mean step?)"),
])
def test_bad_values_are_one_line_naming_the_key(data, message):
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"portfolio": data}, name="my.toml")
    assert message in str(caught.value) and "\n" not in str(caught.value)
