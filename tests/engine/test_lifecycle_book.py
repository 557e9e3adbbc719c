"""The lifecycle book: updates every `update_every` trades once `min_trades` exist, one
set of weights per regime when asked, entries with old/new/scores, reset and state
round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.lifecycle.adaptive import AdaptiveSettings
from engine.lifecycle.book import LifecycleBook, weight_updates
from engine.lifecycle.health import RetirementSettings

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BASE = {"a": 1.0, "b": 1.0, "c": 2.0}
OFF = RetirementSettings(enabled=False)


def _book(**adaptive) -> LifecycleBook:
    settings = AdaptiveSettings(enabled=True, **({"update_every": 3, "min_trades": 2}
                                                 | adaptive))
    return LifecycleBook(base=dict(BASE), adaptive=settings, retirement=OFF)


def test_no_update_before_update_every_trades_nor_before_min_trades():
    book = _book(update_every=3, min_trades=2)
    book.record("a", 0.02, T0, "bull")
    book.record("b", -0.01, T0, "bull")
    assert book.log.drain() == []  # two trades: not yet
    book.record("a", 0.03, T0, "bull")
    [entry] = weight_updates(book.log.drain())
    assert entry["scores"]["b"] is None and entry["scores"]["c"] is None  # < min_trades
    assert entry["scores"]["a"]["score"] > 0
    assert entry["new"]["a"] > entry["old"]["a"]
    assert entry["new"]["a"] <= 1.15 + 1e-12


def test_per_regime_weights_learn_only_from_their_regime():
    book = _book(per_regime=True, update_every=2, min_trades=2)
    for i in range(6):
        book.record("a", 0.02, T0 + timedelta(hours=i), "bull")
        book.record("a", -0.02, T0 + timedelta(hours=i), "bear")
    bull, bear = book.weights("bull"), book.weights("bear")
    assert bull["a"] > BASE["a"] > bear["a"]
    assert book.weights("sideways") == BASE  # nothing learnt there
    assert {e["regime"] for e in weight_updates(book.log.drain())} == {"bull", "bear"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(-0.1, 0.1),
                          st.sampled_from(["bull", "bear", "sideways"])), max_size=120),
       st.booleans())
def test_weights_stay_bounded_and_keep_the_total_whatever_the_trades(trades, per_regime):
    book = _book(per_regime=per_regime, update_every=2, min_trades=1)
    for i, (sid, value, regime) in enumerate(trades):
        book.record(sid, value, T0 + timedelta(hours=i), regime)
    for regime in ("bull", "bear", "sideways"):
        w = book.adaptive_weights(regime)
        assert sum(w.values()) == pytest.approx(sum(BASE.values()))
        for sid, value in w.items():
            assert 0.1 * BASE[sid] * (1 - 1e-9) <= value <= 2.0 * BASE[sid] * (1 + 1e-9)
    for entry in weight_updates(book.log.drain()):
        for sid in BASE:
            old, new = entry["old"][sid], entry["new"][sid]
            assert abs(new - old) <= 0.15 * old * (1 + 1e-9) + 1e-12


def test_reset_returns_to_base_and_the_state_round_trips():
    book = _book(update_every=1, min_trades=1)
    for i in range(20):
        book.record("a", 0.03, T0 + timedelta(hours=i), "bull")
    assert book.adaptive_weights() != BASE
    copy = LifecycleBook(base=dict(BASE), adaptive=book.adaptive, retirement=OFF)
    copy.restore(book.to_state())
    assert copy.adaptive_weights() == book.adaptive_weights()
    book.reset_weights(T0, actor="user")
    assert book.adaptive_weights() == BASE
    entry = weight_updates(book.log.drain())[-1]
    assert entry["actor"] == "user" and entry["reset"] is True


def test_the_schedule_updates_at_the_first_close_past_update_hours():
    book = _book(update_every=1000, min_trades=1, update_hours=24)
    book.record("a", 0.02, T0, "bull")
    book.record("a", 0.02, T0 + timedelta(hours=23), "bull")
    assert weight_updates(book.log.drain()) == []
    book.record("b", -0.01, T0 + timedelta(hours=25), "bull")
    [entry] = weight_updates(book.log.drain())
    assert entry["ts"] == (T0 + timedelta(hours=25)).isoformat()
    book.record("a", 0.02, T0 + timedelta(hours=30), "bull")
    assert weight_updates(book.log.drain()) == []  # next one 24 h after this update


def test_a_long_only_book_ignores_shadow_short_trades():
    book = LifecycleBook(base=dict(BASE), adaptive=AdaptiveSettings(enabled=True,
                         update_every=1, min_trades=1), retirement=OFF, long_only=True)
    book.record("a", -0.05, T0, "bull", side=-1)
    assert book.log.drain() == [] and book.adaptive_weights() == BASE
    book.record("a", 0.05, T0, "bull", side=1)
    assert book.adaptive_weights()["a"] > BASE["a"]
