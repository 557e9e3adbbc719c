"""Pip size, pip value in the account currency (with the cross rate) and lots."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.instruments.errors import InstrumentError
from engine.instruments.forex import (
    LotSize,
    lots_for_units,
    market_pair,
    pip_size,
    pip_value,
    split_pair,
    units_for_lots,
)

D = Decimal


def test_eurusd_ten_thousand_units_is_one_dollar_a_pip():
    value = pip_value("EUR/USD", D(10_000))

    assert (value.pip, value.in_account, value.account) == (D("0.0001"), D(1), "USD")
    assert value.conversion_pair is None


def test_usdjpy_ten_thousand_units_is_one_hundred_yen_a_pip():
    value = pip_value("USD/JPY", D(10_000))

    assert (value.pip, value.in_account, value.account) == (D("0.01"), D(100), "JPY")


def test_eurgbp_in_a_usd_account_converts_through_gbpusd():
    value = pip_value("EUR/GBP", D(10_000), account="USD", rate=D("1.2650"))

    assert value.in_quote == D(1)  # one pound a pip
    assert value.conversion_pair == "GBP/USD"
    assert value.in_account == D("1.2650")


def test_account_in_the_base_divides_by_the_pairs_own_rate():
    value = pip_value("EUR/USD", D(100_000), account="EUR", rate=D("1.25"))

    assert value.conversion_pair == "EUR/USD"
    assert value.in_account == D(8)  # 10 USD / 1.25


def test_usdjpy_in_a_eur_account_divides_by_eurjpy():
    value = pip_value("USD/JPY", D(100_000), account="EUR", rate=D(160))

    assert value.conversion_pair == "EUR/JPY"
    assert value.in_account == D(1000) / D(160)


def test_a_short_has_the_same_pip_value_as_a_long():
    assert pip_value("EUR/USD", D(-10_000)).in_account == D(1)


def test_a_missing_conversion_rate_names_the_pair_it_needs():
    with pytest.raises(InstrumentError, match="needs the GBP/USD rate"):
        pip_value("EUR/GBP", D(10_000), account="USD")


@pytest.mark.parametrize(("a", "b", "pair"), [
    ("USD", "EUR", "EUR/USD"), ("GBP", "USD", "GBP/USD"), ("JPY", "USD", "USD/JPY"),
    ("GBP", "EUR", "EUR/GBP"), ("CHF", "JPY", "CHF/JPY"), ("NZD", "AUD", "AUD/NZD"),
    ("SEK", "USD", "USD/SEK"),
])
def test_market_pair_follows_the_markets_precedence(a, b, pair):
    assert market_pair(a, b) == pair


def test_pip_sizes():
    assert pip_size("JPY") == D("0.01")
    assert pip_size("USD") == pip_size("CHF") == D("0.0001")


def test_lots():
    assert units_for_lots(D(1)) == D(100_000)
    assert units_for_lots(D(2), LotSize.MINI) == D(20_000)
    assert units_for_lots(D(3), LotSize.MICRO) == D(3_000)
    assert lots_for_units(D(25_000), LotSize.MINI) == D("2.5")


@pytest.mark.parametrize("pair", ["EURUSD", "eur/usd", "EUR-USD"])
def test_pair_spellings(pair):
    assert split_pair(pair) == ("EUR", "USD")


@pytest.mark.parametrize(("pair", "why"), [
    ("BTC/USD", "BTC is not a known fiat currency"), ("EUR/EUR", "both EUR"),
    ("EURO/USD", "not a currency pair"), ("", "not a currency pair"),
])
def test_bad_pairs_are_one_line(pair, why):
    with pytest.raises(InstrumentError, match=why):
        split_pair(pair)
