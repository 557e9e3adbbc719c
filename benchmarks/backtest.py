"""Engine speed: bars per second of engine time (signals, ensemble, regime, risk, fills,
equity), data generation excluded; best of three runs.

    python benchmarks/backtest.py [--bars 1000000]

Targets on a 2-core machine: sma_cross alone >= 1,000,000 bars/s; the ensemble of all six
strategies with regime, risk and paper fills >= 250,000 bars/s.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.data.sources import load_source


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--freq", default="1min")
    args = parser.parse_args()
    started = time.perf_counter()
    market = load_source("sim:BTC/USDT", bars=args.bars, seed=7, freq=args.freq)
    print(f"generated {args.bars:,} bars in {time.perf_counter() - started:.2f} s")
    cfg = config_from_dict({})
    alone = build_spec(cfg, ["sma_cross"])
    # The issue's first target is the bare strategy (its second adds "regime, risk and paper
    # fills"); risk and fills stay on here, and the same run with the regime is shown too.
    runs = [("sma_cross alone (risk, fills; no regime)", replace(alone, regime=False),
             1_000_000),
            ("sma_cross + regime (informational)", alone, None),
            ("ensemble of six + regime + risk + fills", build_spec(cfg), 250_000)]
    for name, spec, target in runs:
        # Best of three: the figure is the engine's, not the other processes' on the box.
        result = min((run_backtest(market.frames, spec) for _ in range(3)),
                     key=lambda r: r.timing["run_s"])
        rate = result.timing["bars_per_s"]
        verdict = "no target" if target is None else (
            f"{'meets' if rate >= target else 'BELOW'} target {target:,}")
        print(f"{name:42s} {result.timing['run_s']:7.2f} s  {rate:12,.0f} bars/s  "
              f"({verdict}); trades {len(result.trades):,}, "
              f"orders {result.stats['orders_filled']:,}, stops {result.stats['stops_hit']:,}")


if __name__ == "__main__":
    main()
