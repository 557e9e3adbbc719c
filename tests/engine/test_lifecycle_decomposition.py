"""Attribution and decomposition add up exactly: by hypothesis over random trades, and on a
real arch:sp500 backtest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.lifecycle.attribution import Attribution, split_units, to_cents, to_units
from engine.lifecycle.decomposition import decompose, group_metrics, ranked, shares
from engine.trading.trades import Trade

IDS = ("sma_cross", "ema_cross", "rsi", "momentum", "mean_reversion", "breakout")
T0 = datetime(2024, 1, 1, tzinfo=UTC)

weights = st.floats(min_value=1e-6, max_value=1e3, allow_nan=False, allow_infinity=False)
money = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=8,
                    allow_nan=False, allow_infinity=False)


def _trade(i: int, pnl: Decimal, fees: Decimal, symbol: str, votes: dict, regime: str,
           ret: float) -> Trade:
    return Trade(symbol=symbol, side="long", entry_time=T0 + timedelta(hours=i),
                 entry_price=Decimal(100), exit_time=T0 + timedelta(hours=i, minutes=30),
                 exit_price=Decimal(101), qty=Decimal(1), pnl=pnl, return_pct=ret,
                 strategy="ensemble", fees=fees,
                 attribution=Attribution.of(votes, regime) if votes else None)


trade_lists = st.lists(
    st.tuples(money, st.decimals(min_value=0, max_value=Decimal("1e5"), places=8),
              st.sampled_from(["BTC/USDT", "ETH/USDT", "SPX"]),
              st.dictionaries(st.sampled_from(IDS), weights, max_size=4),
              st.sampled_from(["bull", "bear", "sideways", "unknown"]),
              st.floats(min_value=-50, max_value=50, allow_nan=False)),
    max_size=40)


@given(st.integers(min_value=-10**18, max_value=10**18),
       st.dictionaries(st.sampled_from(IDS), weights, min_size=1))
def test_a_split_adds_up_and_follows_the_weights(units, votes):
    parts = split_units(units, votes.items())
    assert sum(parts.values()) == units
    total = sum(Fraction(w) for w in votes.values())
    for sid, part in parts.items():
        exact = units * Fraction(votes[sid]) / total
        assert abs(part - exact) < 1  # largest remainder: within one unit of the exact share


def test_a_split_is_deterministic_with_ties_to_the_smaller_id():
    assert split_units(1, [("b", 1.0), ("a", 1.0)]) == {"a": 1, "b": 0}
    assert split_units(-1, [("b", 1.0), ("a", 1.0)]) == {"a": -1, "b": 0}
    assert split_units(10, [("a", 1.0), ("b", 3.0)]) == {"a": 3, "b": 7}  # 2.5, 7.5: tie -> a


@given(st.dictionaries(st.text(min_size=1, max_size=3),
                       st.integers(min_value=-10**15, max_value=10**15), max_size=12))
def test_cents_add_up_to_the_rounded_total(parts):
    cents = to_cents(parts)
    total = Decimal(sum(parts.values())) * Decimal("1e-8")
    assert sum(cents.values(), Decimal(0)) == total.quantize(Decimal("0.01")) if parts else True
    for key, value in cents.items():
        assert abs(value - Decimal(parts[key]) * Decimal("1e-8")) < Decimal("0.01")


@settings(max_examples=150, deadline=None)
@given(trade_lists)
def test_every_breakdown_adds_up_to_the_total_exactly(rows):
    trades = [_trade(i, *row) for i, row in enumerate(rows)]
    d = decompose(trades)
    total_units = sum(to_units(t.pnl) for t in trades)
    total_fee_units = sum(to_units(t.fees) for t in trades)
    assert to_units(d["total"]["pnl"]) == total_units
    for name in ("by_strategy", "by_symbol", "by_regime", "by_strategy_regime"):
        groups = d[name].values()
        assert sum(to_units(g["pnl"]) for g in groups) == total_units
        assert sum(to_units(g["fees"]) for g in groups) == total_fee_units
        assert sum((g["pnl_cents"] for g in groups), Decimal(0)) == d["total"]["pnl_cents"]
    assert sum(g["trades"] for g in d["by_symbol"].values()) == len(trades)
    assert sum(g["trades"] for g in d["by_regime"].values()) == len(trades)


def test_metrics_of_a_group_match_a_hand_count():
    rows = [_trade(0, Decimal(30), Decimal(1), "X", {}, "bull", 3.0),
            _trade(1, Decimal(-10), Decimal(1), "X", {}, "bull", -1.0),
            _trade(2, Decimal(-25), Decimal(1), "X", {}, "bull", -2.5),
            _trade(3, Decimal(5), Decimal(1), "X", {}, "bull", 0.5)]
    m = group_metrics(shares(rows))
    assert m["trades"] == 4 and m["pnl"] == Decimal(0) and m["fees"] == Decimal(4)
    assert m["expectancy"] == 0.0 and m["win_rate"] == 0.5
    assert m["profit_factor"] == 35 / 35
    assert m["max_drawdown"] == Decimal(35)  # peak 30, trough -5
    import statistics

    r = [3.0, -1.0, -2.5, 0.5]
    assert abs(m["sharpe"] - statistics.mean(r) / statistics.stdev(r)) < 1e-12


def test_top_and_bottom_by_any_metric():
    breakdown = {"a": {"pnl": Decimal(5), "sharpe": None}, "b": {"pnl": Decimal(-2),
                 "sharpe": 0.3}, "c": {"pnl": Decimal(9), "sharpe": 0.1}}
    assert ranked(breakdown, "pnl", 2) == ["c", "a"]
    assert ranked(breakdown, "pnl", 1, bottom=True) == ["b"]
    assert ranked(breakdown, "sharpe") == ["b", "c"]


def test_a_real_sp500_backtest_decomposes_to_its_total():
    from tests.engine.lifecycle_runs import sp500_result

    _, result, _ = sp500_result()
    d = decompose(result.trades)
    final = Decimal(repr(float(result.equity.iloc[-1])))
    initial = Decimal(repr(float(result.equity.iloc[0])))
    # Every bar is flat at the end, so the trades' P&L is the change of equity.
    assert abs(d["total"]["pnl"] - (final - initial)) < Decimal("0.001")
    for name in ("by_strategy", "by_symbol", "by_regime", "by_strategy_regime"):
        assert sum((g["pnl_cents"] for g in d[name].values()), Decimal(0)) \
            == d["total"]["pnl_cents"]
        assert sum(to_units(g["pnl"]) for g in d[name].values()) == to_units(d["total"]["pnl"])
    assert set(d["by_strategy"]) <= set(IDS)
    assert len(d["by_strategy"]) >= 3  # the ensemble's trades really are shared out
    assert any(t.attribution is not None and len(t.attribution.votes) > 1
               for t in result.trades)
