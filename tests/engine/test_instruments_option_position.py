"""An option position's Greeks scale with quantity and multiplier; its payoff settles it,
and the Black-Scholes value runs into that payoff as expiry nears."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from engine.instruments.black_scholes import black_scholes
from engine.instruments.errors import InstrumentError
from engine.instruments.model import Option, OptionRight
from engine.instruments.option_position import payoff, position_values
from engine.instruments.valuation import notional

TODAY = date(2026, 1, 2)


def option(right: OptionRight, strike: str = "150", days: int = 73) -> Option:
    return Option(symbol="AAPL", underlying="AAPL", quote="USD", strike=Decimal(strike),
                  expiry=TODAY + timedelta(days=days), right=right)


def test_three_written_calls_scale_every_figure_by_minus_300():
    book = position_values(option(OptionRight.CALL), -3, 155.0, 0.25, 0.05, TODAY)
    unit = black_scholes(True, 155.0, 150.0, 73 / 365, 0.05, 0.25)

    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        assert float(getattr(book, name)) == pytest.approx(-300 * float(getattr(unit, name)))
    assert float(book.delta) < -150  # short about 180 shares' worth


@pytest.mark.parametrize(("right", "spot", "value"), [
    (OptionRight.CALL, "162.5", "12.5"), (OptionRight.CALL, "140", "0"),
    (OptionRight.PUT, "140", "10"), (OptionRight.PUT, "162.5", "0"),
])
def test_payoff_settles_per_unit_and_per_contract(right, spot, value):
    contract = option(right)

    assert payoff(contract, Decimal(spot)) == Decimal(value)
    assert notional(contract, Decimal(2), payoff(contract, Decimal(spot))) == \
        Decimal(value) * 200


@pytest.mark.parametrize("right", [OptionRight.CALL, OptionRight.PUT])
@pytest.mark.parametrize("spot", [120.0, 149.0, 151.0, 180.0])
def test_value_runs_into_the_payoff_as_expiry_nears(right, spot):
    """One day before expiry, at 20 % vol, an option 1 % or more from the strike is worth
    its payoff to within 1 % of the strike."""
    contract = option(right, days=1)
    value = float(position_values(contract, 1, spot, 0.20, 0.0, TODAY).price) / 100

    assert value == pytest.approx(float(payoff(contract, Decimal(str(spot)))), abs=1.5)


def test_an_expired_option_has_no_greeks():
    with pytest.raises(InstrumentError, match="expired on 2026-01-02; settle it at its payoff"):
        position_values(option(OptionRight.PUT, days=0), 1, 150.0, 0.2, 0.0, TODAY)
