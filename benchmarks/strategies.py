"""Throughput of Strategy.compute over 1,000,000 bars, per strategy, in bars per second.

Run: python benchmarks/strategies.py [bars]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from _timing import best_of

from engine.signals.strategies.registry import STRATEGIES, create


def synthetic_frame(bars: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, bars)))
    wiggle = rng.uniform(0.0, 0.01, (2, bars))
    index = pd.date_range("2020-01-01", periods=bars, freq="min", tz="UTC")
    return pd.DataFrame(
        {
            "open": np.r_[close[0], close[:-1]],
            "high": close * (1.0 + wiggle[0]),
            "low": close * (1.0 - wiggle[1]),
            "close": close,
            "volume": rng.uniform(1.0, 100.0, bars),
        },
        index=index,
    )



def main() -> None:
    bars = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = synthetic_frame(bars)
    create("sma_cross").compute(frame.iloc[:100])  # import scipy outside the timings
    print(f"compute() over {bars:,} bars, best of 3")
    print(f"{'strategy':<16}{'seconds':>10}{'bars/s':>16}{'signals':>10}")
    for name in STRATEGIES:
        strategy = create(name)
        seconds = best_of(3, lambda s=strategy: s.compute(frame))
        signals = int(np.count_nonzero(strategy.compute(frame).side))
        print(f"{name:<16}{seconds:>10.3f}{bars / seconds:>16,.0f}{signals:>10,}")


if __name__ == "__main__":
    main()
