"""The virtual portfolio: multiplier-aware positions, exports, and merging without double
counting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.virtual import (
    Allocation,
    export_csv,
    export_json,
    make_trade,
    merge,
    positions,
    read_export,
)


def _trades():
    return [
        make_trade(uid="lab:1", ts="2024-01-02T00:00:00Z", symbol="BTC/USDT",
                   asset_type="crypto", side="buy", qty="0.5", price="40000", fee="20"),
        make_trade(uid="lab:2", ts="2024-01-03T00:00:00Z", symbol="BTC/USDT",
                   asset_type="crypto", side="sell", qty="0.2", price="42000", fee="8.4"),
        make_trade(uid="lab:3", ts="2024-01-03T00:00:00Z", symbol="AAPL240621C00190000",
                   asset_type="option", side="buy", qty="2", price="5.10"),
        make_trade(uid="lab:4", ts="2024-01-04T00:00:00Z", symbol="AAPL240621C00190000",
                   asset_type="option", side="sell", qty="2", price="6.35"),
        make_trade(uid="lab:5", ts="2024-01-04T00:00:00Z", symbol="ESH4", asset_type="future",
                   side="sell", qty="1", price="4800", multiplier="50"),
        make_trade(uid="lab:6", ts="2024-01-05T00:00:00Z", symbol="ESH4", asset_type="future",
                   side="buy", qty="3", price="4780", multiplier="50"),
        make_trade(uid="lab:7", ts="2024-01-05T00:00:00Z", symbol="SPY", asset_type="etf",
                   side="buy", qty="10", price="470.5"),
        make_trade(uid="lab:8", ts="2024-01-05T00:00:00Z", symbol="EUR/USD",
                   asset_type="forex", side="buy", qty="100000", price="1.0950"),
    ]


def test_positions_are_multiplier_aware():
    book = positions(_trades())
    btc = book["BTC/USDT"]
    assert (btc.qty, btc.avg_price, btc.realized_pnl) == (Decimal("0.3"), Decimal("40000"),
                                                          Decimal("400.0"))
    assert btc.fees == Decimal("28.4")
    option = book["AAPL240621C00190000"]
    # Two contracts of 100 shares, bought at 5.10 and sold at 6.35: 2 x 100 x 1.25.
    assert option.qty == 0 and option.realized_pnl == Decimal("250.00")
    future = book["ESH4"]
    # Short 1 at 4800, buy 3 at 4780: close the short (+20 x 50) and go long 2 at 4780.
    assert future.realized_pnl == Decimal("1000") and future.qty == 2
    assert future.avg_price == Decimal("4780")


@pytest.mark.parametrize("writer", [export_json, export_csv])
def test_an_export_reads_back_to_the_same_trades(writer):
    allocations = [Allocation("2024-01-05T00:00:00Z", {"BTC/USDT": 0.6, "SPY": 0.4}, "lab")]
    name, trades, read_allocations = read_export(writer("lab", _trades(), allocations), "f")
    assert name == "lab" and trades == sorted(_trades(), key=lambda t: (t.ts, t.uid))
    assert read_allocations == allocations


def test_merging_the_same_export_twice_adds_nothing_the_second_time():
    _, trades, allocations = read_export(export_json("lab", _trades(), [
        Allocation("2024-01-05T00:00:00Z", {"SPY": 1.0}, "lab")]), "f")
    first = merge(set(), set(), trades, allocations)
    assert len(first.added) == 8 and first.duplicates == 0
    uids = {t.uid for t in first.added}
    second = merge(uids, {("2024-01-05T00:00:00Z", "lab")}, trades, allocations)
    assert second.added == [] and second.duplicates == 8 and second.allocations_added == []


def test_a_trade_twice_in_one_file_counts_once():
    trades = _trades()
    outcome = merge(set(), set(), trades + trades[:3], [])
    assert len(outcome.added) == 8 and outcome.duplicates == 3


@pytest.mark.parametrize(("change", "message"), [
    ({"asset_type": "bond"}, "asset_type: expected one of crypto"),
    ({"qty": "-1"}, "qty: expected a positive number"),
    ({"asset_type": "future", "multiplier": None}, "multiplier: a future must state its own"),
    ({"price": "abc"}, "price: not a number: abc"),
])
def test_bad_trades_are_one_line(change, message):
    fields = dict(uid="x:1", ts="2024-01-01", symbol="S", asset_type="stock", side="buy",
                  qty="1", price="10")
    with pytest.raises(PortfolioInputError, match=message):
        make_trade(where="f: trade #1", **(fields | change))
