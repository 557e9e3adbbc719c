"""The desk over the real engine: 20 symbols at 10 bars a second (the engine on its own
thread, journaling to SQLite), measuring

- first frame: from creating the app to the first paint (the engine warms up beside it),
- first data: until the engine's first snapshot with prices is on screen,
- keypress to effect: `p` pressed until the status line shows PAUSED (or stops showing it),
  i.e. the engine changed state and the app re-rendered,
- the engine's step time while the desk runs.

    python benchmarks/desk_live.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"] + [f"C{i:02d}/USDT" for i in range(17)]


async def main(size: tuple[int, int]) -> None:
    from desk.app import DeskApp
    from desk.widgets.status_bar import StatusBar
    from engine.config.schema import config_from_dict
    from engine.live.build import build_live
    from engine.live.feeds import SimFeed

    folder = Path(tempfile.mkdtemp())
    cfg = config_from_dict({
        "store": {"path": str(folder / "desk.db")},
        "audit": {"key_path": str(folder / "audit.pem")},
        "feed": {"symbols": SYMBOLS, "speed": 600.0, "history_bars": 500},
        "engine": {"approval": "auto"},
    })
    feed = SimFeed(cfg.feed.symbols, seed=7, freq=cfg.feed.freq, history_bars=500)
    engine = build_live(cfg, feed=feed)
    started = time.perf_counter()
    app = DeskApp(engine)
    engine.subscribe(app.publish)
    steps: list[float] = []
    original_step = engine.step

    def timed_step() -> bool:
        t = time.perf_counter()
        result = original_step()
        steps.append(time.perf_counter() - t)
        return result

    engine.step = timed_step

    def warm_up_then_run() -> None:
        engine.start()
        engine.run_forever()

    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        first_frame = time.perf_counter() - started
        engine.start_thread(warm_up_then_run)
        while not app.main.ready:
            await asyncio.sleep(0.01)
        status = app.main.query_one(StatusBar)
        while engine.market_ts is None or "Equity" not in str(status.render()):
            await asyncio.sleep(0.01)
        while not steps:
            await asyncio.sleep(0.01)
        first_data = time.perf_counter() - started
        latencies = []
        handled: list[float] = []  # key event reaching the app -> status line redrawn
        effect_at: list[float] = []  # when the action finished redrawing the status line
        screen = app.main
        original_action = screen.action_pause

        def timed_action() -> None:
            t = time.perf_counter()
            original_action()
            effect_at.append(time.perf_counter())
            handled.append(effect_at[-1] - t)

        screen.action_pause = timed_action
        for n in range(20):
            want = n % 2 == 0  # paused after an even press
            t = time.perf_counter()
            await pilot.press("p")
            while ("PAUSED" in str(status.render())) != want:
                await asyncio.sleep(0.001)
            latencies.append(effect_at[-1] - t)
            await asyncio.sleep(0.15)
    engine.stop()
    ms = sorted(x * 1000 for x in latencies)
    step_ms = sorted(x * 1000 for x in steps)
    print(f"-- terminal {size[0]}x{size[1]}")
    print(f"first frame: {first_frame * 1000:.0f} ms; first data on screen: "
          f"{first_data * 1000:.0f} ms (20 symbols, warm-up beside the app)")
    inside = sorted(x * 1000 for x in handled)
    print(f"keypress to effect: median {statistics.median(ms):.1f} ms, "
          f"max {ms[-1]:.1f} ms over {len(ms)} presses (target < 100 ms); inside the app "
          f"(action -> engine -> status redrawn): median {statistics.median(inside):.1f} ms, "
          f"max {inside[-1]:.1f} ms")
    print(f"engine step (20 symbols): median {statistics.median(step_ms):.1f} ms, "
          f"p95 {step_ms[int(len(step_ms) * 0.95)]:.1f} ms over {len(step_ms)} steps")


if __name__ == "__main__":
    for terminal in ((80, 24), (160, 48)):
        asyncio.run(main(terminal))
