"""A live engine on the simulated market for tests: a fixed seed, a wall clock the test
moves by hand, and its own database."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.config.schema import config_from_dict
from engine.live.build import build_live
from engine.live.feeds import SimFeed

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class FakeWallClock:
    """The wall clock, moved by the test (approval expiry is wall-clock time)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def live_engine(tmp_path, market_stream=None, **sections):
    """(engine, wall clock, config) with `sections` merged over a small default config;
    the engine has started (warmed up on 300 bars)."""
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                            "feed": {"history_bars": 300}} | sections)
    clock = FakeWallClock()
    feed = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                   history_bars=cfg.feed.history_bars, now=START)
    engine = build_live(cfg, feed=feed, wall_clock=clock,
                        market_stream=market_stream)
    engine.start()
    return engine, clock, cfg


def step_until_proposal(engine, limit: int = 400):
    """Step bar by bar until an order is proposed; its ProposalView."""
    for _ in range(limit):
        engine.step()
        if engine.latest_snapshot().proposals:
            return engine.latest_snapshot().proposals[0]
    raise AssertionError("no order was proposed")


def judged_decisions(tmp_path, bars: int, **sections) -> list[dict]:
    """Run a live engine (`live_engine`) for `bars` bars and return the payloads of its
    `decision.judged` audit entries, oldest first."""
    import json
    import sqlite3

    engine, _, cfg = live_engine(tmp_path, **sections)
    try:
        for _ in range(bars):
            engine.step()
    finally:
        engine.stop()
    rows = sqlite3.connect(cfg.store.path).execute(
        "SELECT payload FROM audit_entries WHERE kind = 'decision.judged'").fetchall()
    return [json.loads(p) for (p,) in rows]
