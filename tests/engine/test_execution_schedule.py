"""Execution schedules: hand-computed plans and the invariants every plan keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.execution.quality import cost_bps, market_vwap, session_quality
from engine.execution.schedule import (
    QUANTUM,
    dca_schedule,
    market_schedule,
    smart_schedule,
    twap_schedule,
    volume_profile,
    vwap_schedule,
)
from engine.execution.session import child_order_id, parse_child_id, session_id_for
from engine.types import Bar

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_market_is_one_part_now():
    assert [(p.due, p.qty) for p in market_schedule(D("1.5"), T0)] == [(T0, D("1.5"))]


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=D("-1"), max_value=D("1e9"), places=8, allow_nan=False))
def test_market_is_the_even_schedule_of_one_part(qty):
    """The market schedule skips the even split's arithmetic: the same plan, the same
    refusal of a quantity that is not positive."""
    from engine.execution.schedule import _even

    try:
        expected = [(p.due, p.qty) for p in _even(qty, T0, 1, timedelta(0))]
    except ValueError:
        expected = None
    try:
        got = [(p.due, p.qty) for p in market_schedule(qty, T0)]
    except ValueError:
        got = None
    assert got == expected


def test_smart_splits_above_threshold_only():
    below = smart_schedule(D("0.5"), D("10000"), T0, split_threshold=D("10000"), max_parts=5,
                           delay_seconds=2.0)
    assert [p.qty for p in below] == [D("0.5")]
    # 50k notional over a 10k threshold: five parts of 1, two seconds apart.
    five = smart_schedule(D("5"), D("10000"), T0, split_threshold=D("10000"), max_parts=5,
                          delay_seconds=2.0)
    assert [p.qty for p in five] == [D(1)] * 5
    assert [p.due for p in five] == [T0 + timedelta(seconds=2 * i) for i in range(5)]
    # 25k: three parts (each <= 10k); 100k: capped at max_parts.
    three = smart_schedule(D("2.5"), D("10000"), T0, split_threshold=D("10000"), max_parts=5,
                           delay_seconds=2.0)
    assert [p.qty for p in three] == [D("0.83333333"), D("0.83333333"), D("0.83333334")]
    capped = smart_schedule(D("10"), D("10000"), T0, split_threshold=D("10000"), max_parts=5,
                            delay_seconds=2.0)
    assert [p.qty for p in capped] == [D(2)] * 5


def test_twap_equal_parts_evenly_over_duration():
    plan = twap_schedule(D("1"), T0, duration_minutes=30, parts=10)
    assert [p.qty for p in plan] == [D("0.1")] * 10
    assert [p.due for p in plan] == [T0 + timedelta(minutes=3 * i) for i in range(10)]


def test_dca_first_now_then_every_interval_last_takes_remainder():
    plan = dca_schedule(D("1"), T0, interval_minutes=60, parts=3)
    assert [p.qty for p in plan] == [D("0.33333333"), D("0.33333333"), D("0.33333334")]
    assert [p.due for p in plan] == [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]


def test_vwap_weights_are_bucket_volume_shares():
    # 60 minutes of lookback in 4 buckets of 15 minutes; volumes 10, 30, 40, 20.
    history = [
        Bar("X", T0 - timedelta(minutes=59), 1, 1, 1, 1, 10),
        Bar("X", T0 - timedelta(minutes=40), 1, 1, 1, 1, 30),
        Bar("X", T0 - timedelta(minutes=20), 1, 1, 1, 1, 40),
        Bar("X", T0, 1, 1, 1, 1, 20),
        Bar("X", T0 - timedelta(minutes=61), 1, 1, 1, 1, 999),  # outside the lookback
    ]
    assert volume_profile(history, T0, lookback_minutes=60, buckets=4) == [10, 30, 40, 20]
    plan = vwap_schedule(D("10"), T0, duration_minutes=30, parts=4, lookback_minutes=60,
                         volume_history=history)
    assert [p.qty for p in plan] == [D(1), D(3), D(4), D(2)]
    assert [p.due for p in plan] == [T0 + timedelta(minutes=7.5 * i) for i in range(4)]
    # No history: TWAP.
    flat = vwap_schedule(D("10"), T0, duration_minutes=30, parts=4, lookback_minutes=60,
                         volume_history=None)
    assert [p.qty for p in flat] == [D("2.5")] * 4


qtys = st.decimals(min_value=D("0.00000001"), max_value=D("1000000"), places=8)


def _check(plan, qty, cap, first_now=True):
    assert sum((p.qty for p in plan), D(0)) == qty
    assert all(p.qty > 0 for p in plan)
    assert all(a.due <= b.due for a, b in zip(plan, plan[1:], strict=False))
    assert len(plan) in range(1, cap + 1)
    assert plan[0].due == T0 if first_now else plan[0].due >= T0
    assert all(p.qty == p.qty.quantize(QUANTUM) for p in plan)


@settings(max_examples=150, deadline=None)
@given(qty=qtys, parts=st.integers(1, 30), minutes=st.floats(0, 600))
def test_even_schedules_invariants(qty, parts, minutes):
    _check(twap_schedule(qty, T0, duration_minutes=minutes, parts=parts), qty, parts)
    _check(dca_schedule(qty, T0, interval_minutes=minutes, parts=parts), qty, parts)
    _check(smart_schedule(qty, D("123.45"), T0, split_threshold=D("1000"), max_parts=parts,
                          delay_seconds=minutes), qty, parts)


@settings(max_examples=150, deadline=None)
@given(qty=qtys, parts=st.integers(1, 30),
       volumes=st.lists(st.floats(0, 1e9, allow_nan=False), min_size=0, max_size=40))
def test_vwap_invariants(qty, parts, volumes):
    history = [(T0 - timedelta(minutes=i), v) for i, v in enumerate(volumes)]
    plan = vwap_schedule(qty, T0, duration_minutes=30, parts=parts, lookback_minutes=60,
                         volume_history=history)
    _check(plan, qty, parts, first_now=False)  # an empty leading bucket gets no part


@given(parent=st.text(min_size=1, max_size=80), part=st.integers(1, 999),
       attempt=st.integers(1, 99))
def test_child_ids_are_exchange_safe_and_parse_back(parent, part, attempt):
    sid = session_id_for(parent)
    cid = child_order_id(sid, part, attempt)
    assert len(cid) <= 36
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in cid)
    assert parse_child_id(cid) == (sid, part, attempt)
    assert session_id_for(parent) == sid  # deterministic


def test_shortfall_and_vwap_against_hand_computation():
    # Buy: arrival 100, average 101.5 -> 150 bps of cost; a sell at 99 -> 100 bps.
    assert cost_bps("buy", D("101.5"), D("100")) == D("150")
    assert cost_bps("sell", D("99"), D("100")) == D("100")
    assert cost_bps("sell", D("101"), D("100")) == D("-100")
    bars = [Bar("X", T0, 100, 102, 98, 100, 10), Bar("X", T0 + timedelta(minutes=1),
                                                     101, 106, 100, 103, 30),
            Bar("X", T0 + timedelta(hours=1), 1, 1, 1, 1, 1000)]  # after the window
    # typical prices 100 and 103: (100*10 + 103*30) / 40 = 102.25
    assert market_vwap(bars, T0, T0 + timedelta(minutes=5)) == D("102.25")
    q = session_quality(side="buy", arrival_price=D("100"), avg_price=D("102.25") + D("0.409"),
                        filled_qty=D(1), start=T0, end=T0 + timedelta(minutes=5), bars=bars)
    assert q.market_vwap == D("102.25")
    assert q.shortfall_bps == D("265.9")  # (102.659 - 100) / 100
    assert q.vwap_diff_bps == D("40")  # 0.409 / 102.25 = 0.004


def test_vwap_starts_now_when_the_history_is_shorter_than_the_lookback():
    """Ten hours of one-minute bars against a day's lookback: the profile covers the ten
    hours it has, so the first part is due now and every part gets volume."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from engine.execution.schedule import vwap_schedule

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    history = [(now - timedelta(minutes=m), 100.0 + m % 7) for m in range(600)]
    parts = vwap_schedule(Decimal("10"), now, duration_minutes=30, parts=5,
                          lookback_minutes=1440, volume_history=history)
    assert parts[0].due == now
    assert len(parts) == 5
    assert sum(p.qty for p in parts) == Decimal("10")
    shares = [float(p.qty) / 10 for p in parts]
    assert max(shares) - min(shares) < 0.05  # near-flat volume: near-equal parts
