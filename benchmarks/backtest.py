"""Engine speed: bars per second of engine time (signals, ensemble, regime, risk, fills,
equity), data generation excluded; best of three runs. Every line states its turnover
(orders per 1,000 bars): a run that barely trades measures the bar loop, not the order path.

    python benchmarks/backtest.py [--bars 1000000] [--repeats 3]

Targets on a 2-core machine: sma_cross alone >= 1,000,000 bars/s; the default configuration
(the ensemble of six, regime, risk gate, paper fills) >= 250,000 bars/s at low turnover (the
default risk limits, whose kill switch ends most trading) and at high turnover (the same
ensemble with the limits opened, so every decision trades).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.data.sources import load_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import turnover_label  # noqa: E402

# Every decision trades: no kill switch, no daily halt, positions up to all of equity.
OPEN_RISK = {"risk": {"max_position_pct": 1.0, "max_daily_loss_pct": 1.0,
                      "max_drawdown_pct": 1.0, "max_concentration": 1.0},
             "compliance": {"max_position_pct": 1.0, "max_daily_loss_pct": 1.0}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--freq", default="1min")
    parser.add_argument("--repeats", type=int, default=3)
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
            ("default config, low turnover", build_spec(cfg), 250_000),
            ("default config, risk opened: high turnover",
             build_spec(config_from_dict(OPEN_RISK)), 250_000)]
    for name, spec, target in runs:
        # Best of three: the figure is the engine's, not the other processes' on the box.
        result = min((run_backtest(market.frames, spec) for _ in range(args.repeats)),
                     key=lambda r: r.timing["run_s"])
        rate = result.timing["bars_per_s"]
        verdict = "no target" if target is None else (
            f"{'meets' if rate >= target else 'BELOW'} target {target:,}")
        orders = result.stats["orders_filled"]
        print(f"{name:44s} {result.timing['run_s']:7.2f} s  {rate:12,.0f} bars/s  "
              f"({verdict}); {turnover_label(orders, result.timing['bars'])}: "
              f"trades {len(result.trades):,}, orders {orders:,}, "
              f"denied {result.stats['orders_denied']:,}, stops {result.stats['stops_hit']:,}")


if __name__ == "__main__":
    main()
