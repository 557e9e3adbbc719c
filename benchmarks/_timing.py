"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of `repeats` runs of `fn`, in seconds (the least disturbed by the box)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def per_1000(orders: int, bars: int) -> float:
    """Turnover: orders per 1,000 bars."""
    return 1000.0 * orders / bars if bars else 0.0


def turnover_label(orders: int, bars: int) -> str:
    """The turnover of a run, flagged when it barely trades: under one order per 1,000 bars
    a run measures the bar loop, not the order path."""
    rate = per_1000(orders, bars)
    return f"{rate:.1f} orders/1k bars" + (" (BARELY TRADES)" if rate < 1.0 else "")
