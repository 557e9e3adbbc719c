"""Speed of the simulated market: batch history and the bar-by-bar stream.

Run: python benchmarks/sim.py [bars]   (default 1,000,000 bars x 3 symbols)
"""

from __future__ import annotations

import sys
import time

from engine.data.sim import SimMarket

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


def main() -> None:
    bars = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    import scipy.signal  # noqa: F401  (import cost is not generation cost)

    market = SimMarket(SYMBOLS, seed=7, freq="1min")
    t0 = time.perf_counter()
    market.history(bars)
    batch = time.perf_counter() - t0
    print(
        f"history({bars:,}) x {len(SYMBOLS)} symbols: {batch:.2f} s, "
        f"{bars / batch:,.0f} bars/s per symbol, {bars * len(SYMBOLS) / batch:,.0f} symbol-bars/s"
    )

    steps = 20_000
    t0 = time.perf_counter()
    for _ in range(steps):
        market.next_bars()
    stream = time.perf_counter() - t0
    print(f"next_bars() x {steps:,}: {stream / steps * 1e6:.1f} us per step ({len(SYMBOLS)} bars)")

    t0 = time.perf_counter()
    for _ in range(1000):
        market.book("BTC/USDT", levels=10)
        market.trades("BTC/USDT")
    print(f"book(10 levels) + trades(): {(time.perf_counter() - t0) * 1e3:.1f} us per call pair")


if __name__ == "__main__":
    main()
