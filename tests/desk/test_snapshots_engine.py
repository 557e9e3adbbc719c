"""Pictures of the desk over the real engine: the simulated market with a fixed seed, a
frozen wall clock and frozen audit timestamps, after 150 bars and one approved order.

Regenerate with `pytest tests/desk/test_snapshots_engine.py --snapshot-update` and look at
the SVGs before committing them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from desk.app import DeskApp
from engine.config.schema import config_from_dict
from engine.live.build import build_live
from engine.live.feeds import SimFeed

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine_app(tmp_path, monkeypatch):
    ticks = itertools.count()

    def frozen_iso() -> str:
        return (START + timedelta(milliseconds=next(ticks))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    monkeypatch.setattr("store.audit.utc_now_iso", frozen_iso)
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                            "feed": {"history_bars": 300},
                            # Fitted within the 300-bar history, so the regimes show.
                            "engine": {"regime_window": 200}})
    feed = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                   history_bars=cfg.feed.history_bars, now=START)
    engine = build_live(cfg, feed=feed, wall_clock=lambda: START)
    engine.start()
    approved = False
    for _ in range(150):
        engine.step()
        proposals = engine.latest_snapshot().proposals
        if proposals and not approved:
            engine.approve(proposals[0].order_id)
            approved = True
    yield DeskApp(engine, clock=lambda: START + timedelta(seconds=10))
    engine.stop()


async def settled(pilot) -> None:
    """Let the first snapshot's redraw and the tables' column fitting finish: on a busy
    machine the picture was otherwise taken at either side of them."""
    await pilot.pause(0.5)
    await pilot.wait_for_scheduled_animations()


def test_engine_desk_at_80x24(snap_compare, engine_app):
    """80x24, Positions tab: one open long from the approved order with its average price,
    last price and unrealized P&L; equity and day P&L in the status line; the footer keys."""
    assert snap_compare(engine_app, terminal_size=(80, 24), run_before=settled)


def test_engine_desk_at_160x48(snap_compare, engine_app):
    """160x48 grid: positions, the signal matrix with two waiting proposals (50 s left), the
    ensemble votes per symbol, the approved order as a market session done at 1/1 parts,
    each symbol's regime with its probabilities and transition matrix, risk against its
    limits, and the audit tail through session.started, order.filled and session.done with
    the chain verified."""
    assert snap_compare(engine_app, terminal_size=(160, 48), run_before=settled)
