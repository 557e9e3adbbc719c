"""The Market pane's data from the live engine: the day's change against the last close
of the day before, the day's volume since midnight UTC, the paper broker's quotes, and a
fill drawn at the bar it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from engine.live.market_view import _day_figures
from tests.live_engine import live_engine


def test_day_change_and_volume_start_at_midnight_utc():
    times = [datetime(2026, 3, 1, 23, 58, tzinfo=UTC) + timedelta(minutes=i) for i in range(5)]
    data = np.array([[0, 0, 0, close, volume] for close, volume in
                     ((100, 1), (102, 2), (105, 4), (99, 8), (110, 16))], dtype=float)
    change, volume = _day_figures(times, data)
    # Bars at 23:58 and 23:59 belong to March 1st: the reference is 102.
    assert change == 110 / 102 - 1 and volume == 4 + 8 + 16


def test_a_window_inside_one_day_measures_from_its_first_close():
    times = [datetime(2026, 3, 2, 10, i, tzinfo=UTC) for i in range(3)]
    data = np.array([[0, 0, 0, c, 1] for c in (50, 55, 60)], dtype=float)
    assert _day_figures(times, data) == (60 / 50 - 1, 3.0)


def test_views_quote_the_paper_broker_and_mark_fills(tmp_path):
    engine, _, cfg = live_engine(tmp_path, engine={"approval": "auto"})
    for _ in range(300):
        engine.step()
        if engine.fill_history.newest():
            break
    engine.step()
    views = {v.symbol: v for v in engine.latest_snapshot().market}
    fill = engine.fill_history.newest()[0]
    view = views[fill.symbol]
    slip = Decimal(str(cfg.broker.slippage_bps)) / 10_000
    assert view.quote_source == "paper"
    assert abs(view.ask - view.last * (1 + slip)) < Decimal("1e-8")
    assert abs(view.bid - view.last * (1 - slip)) < Decimal("1e-8")
    assert any(m.price == float(fill.price) and m.side == str(fill.side) for m in view.marks)
    assert len(view.closes) == 120 and view.last_bar == engine.market_ts
    engine.stop()
