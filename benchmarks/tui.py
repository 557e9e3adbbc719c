"""How quickly the desk paints its first frame and answers a key under a live feed.

Run: python benchmarks/tui.py
Prints the first-frame time (a fresh process: import, build, first paint of a populated
snapshot), the cost of rendering one 20-symbol snapshot, and the keypress-to-effect latency
while a thread publishes 20-symbol snapshots at 10 per second.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_FRAME = """
import time
start = time.perf_counter()
import asyncio
from desk.app import DeskApp
from tests.desk.builders import NOW, RecordingControl

async def main():
    app = DeskApp(RecordingControl(), clock=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.main.query_one("#positions-table").row_count == 3
        print(time.perf_counter() - start)

asyncio.run(main())
"""


def first_frame_seconds(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_FRAME], cwd=ROOT, capture_output=True, text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def wide_snapshot(step: int):
    from tests.desk.builders import positions, regimes, signals, snapshot

    symbols = tuple(f"SYM{i:02d}/USDT" for i in range(20))
    template_p, template_s, template_r = positions()[0], signals(), regimes()[0]
    price = Decimal(100 + step % 50)
    return snapshot(
        symbols=symbols,
        positions=tuple(
            replace(template_p, symbol=s, last=price + i, unrealized=Decimal(step - 25 * i))
            for i, s in enumerate(symbols)
        ),
        signals=tuple(replace(sig, symbol=s) for s in symbols for sig in template_s[:3]),
        regimes=tuple(replace(template_r, symbol=s, held_bars=step) for s in symbols),
    )


async def latency(presses: int = 40) -> tuple[list[float], list[float]]:
    from desk.app import DeskApp
    from tests.desk.builders import NOW, RecordingControl

    control = RecordingControl(current=wide_snapshot(0))
    app = DeskApp(control, clock=lambda: NOW)
    stop = threading.Event()

    def feed() -> None:
        step = 0
        while not stop.wait(0.1):  # 10 snapshots a second
            step += 1
            control.current = replace(wide_snapshot(step), paused=control.current.paused)
            app.publish(control.current)

    render_times: list[float] = []
    key_times: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        publisher = threading.Thread(target=feed, daemon=True)
        publisher.start()
        for step in range(20):
            started = time.perf_counter()
            app.render_snapshot(wide_snapshot(step + 100))
            render_times.append(time.perf_counter() - started)
        for i in range(presses):
            # Alternate a pane switch and a pause toggle (which re-renders every pane).
            if i % 2:
                key, paused = "p", not control.current.paused

                def done(paused=paused) -> bool:
                    return control.current.paused == paused
            else:
                key, number = str(i % 7 + 1), i % 7 + 1

                def done(number=number) -> bool:
                    return app.main.active == number and app.main.pane(number).display
            started = time.perf_counter()
            press = asyncio.create_task(pilot.press(key))
            while not done():
                await asyncio.sleep(0.001)
            key_times.append(time.perf_counter() - started)
            await press
        stop.set()
        publisher.join()
    return render_times, key_times


def describe(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{label}: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, n={len(ms)}"


def main() -> None:
    print(describe("first frame (fresh process, 160x48)", first_frame_seconds()))
    render_times, key_times = asyncio.run(latency())
    print(describe("render one 20-symbol snapshot", render_times))
    print(describe("keypress to effect (20 symbols at 10 updates/s, 80x24)", key_times))


if __name__ == "__main__":
    main()
