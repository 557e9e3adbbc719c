"""Does the strategy lifecycle help? The ensemble with static weights (the peer) against
bounded adaptive weights, retirement, and both, on the same data in the same run.

The lifecycle is walked forward causally (weights and statuses at bar t use shadow trades
closed at or before t), so the whole run is out of sample for it; the held-out half is
reported on its own as well, after the lifecycle has had the first half to learn. Turnover
(trades, and the fraction of bars in the market) is printed beside every figure.

Run: python benchmarks/lifecycle_oos.py [arch:sp500 | path/to/closes.csv[.gz] [N symbols]]
A wide CSV of closes (a `date` column, one column per symbol) is read as bars with
open = high = low = close (stops then see close-to-close ranges only) and a daily quote
volume of 10^9.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict

# The drawdown kill switch and the daily loss halt are off: once tripped (a backtest never
# resets them) nothing trades again, and the comparison would measure when each variant
# happened to cross 20%, not the lifecycle.
RISK = {"risk": {"max_drawdown_pct": 1.0, "max_daily_loss_pct": 1.0}}
CONFIGS = {
    "static": RISK,
    "adaptive": RISK | {"ensemble": {"adaptive": {"enabled": True}}},
    "retirement": RISK | {"strategies": {"retirement": {"enabled": True}}},
    "both": RISK | {"ensemble": {"adaptive": {"enabled": True}},
                    "strategies": {"retirement": {"enabled": True}}},
}


def load(source: str, count: int) -> dict[str, pd.DataFrame]:
    if source.startswith("arch:"):
        from engine.data.sources import load_source

        frames = load_source(source).frames
    else:
        wide = pd.read_csv(source, parse_dates=["date"], index_col="date")
        wide.index = wide.index.tz_localize("UTC").astype("datetime64[ns, UTC]")
        frames = {}
        for symbol in list(wide.columns)[:count]:
            close = wide[symbol].astype(float).ffill().dropna()
            # No volumes in the file: a billion of quote currency a day, so the liquidity
            # rule never binds (these are large caps).
            frames[symbol] = pd.DataFrame({"open": close, "high": close, "low": close,
                                           "close": close, "volume": 1e9 / close})
        common = sorted(set.intersection(*(set(f.index) for f in frames.values())))
        frames = {s: f.loc[common] for s, f in frames.items()}
    for symbol, frame in frames.items():
        frame.attrs["symbol"] = symbol
    return frames


def summary(equity: pd.Series, trades, lo: int) -> dict:
    part = equity.iloc[lo:]
    r = part.pct_change().dropna()
    years = (part.index[-1] - part.index[0]).days / 365.25
    per_year = len(r) / years if years > 0 else 252.0
    sharpe = float(r.mean() / r.std() * np.sqrt(per_year)) if r.std() > 0 else 0.0
    drawdown = float((1 - part / part.cummax()).max())
    start = part.index[0]
    return {"return": float(part.iloc[-1] / part.iloc[0] - 1), "sharpe": sharpe,
            "max_dd": drawdown, "trades": sum(1 for t in trades if t.exit_time >= start)}


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else "arch:sp500"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    frames = load(source, count)
    n = len(next(iter(frames.values())))
    half = n // 2
    index = next(iter(frames.values())).index
    print(f"{source}: {len(frames)} symbol(s) x {n:,} bars; held-out half from "
          f"{index[half]:%Y-%m-%d}")
    results = {}
    for name, over in CONFIGS.items():
        spec = build_spec(config_from_dict(over))
        started = time.perf_counter()
        result = run_backtest(frames, spec)
        seconds = time.perf_counter() - started
        log = spec.ensemble.lifecycle.log.drain()
        changes = sum(1 for e in log if e.kind == "strategy.status_changed")
        updates = sum(1 for e in log if e.kind == "weights.updated")
        exposure = result.metrics.get("exposure", 0.0) or 0.0
        results[name] = (summary(result.equity, result.trades, 0),
                         summary(result.equity, result.trades, half), changes, updates,
                         exposure, seconds)
    base_full, base_half = results["static"][0], results["static"][1]
    print(f"{'config':<11}{'span':<6}{'return':>9}{'Sharpe':>8}{'max DD':>8}{'trades':>8}"
          f"{'exposure':>10}{'Sharpe/static':>15}{'changes':>9}{'updates':>9}{'run s':>7}")
    for name, (full, held, changes, updates, exposure, seconds) in results.items():
        for span, row, base in (("all", full, base_full), ("half", held, base_half)):
            ratio = row["sharpe"] / base["sharpe"] if base["sharpe"] else float("nan")
            print(f"{name:<11}{span:<6}{row['return']:>9.2%}{row['sharpe']:>8.2f}"
                  f"{row['max_dd']:>8.2%}{row['trades']:>8}{exposure:>10.1%}{ratio:>15.2f}"
                  f"{changes if span == 'all' else '':>9}{updates if span == 'all' else '':>9}"
                  f"{seconds if span == 'all' else float('nan'):>7.2f}")


if __name__ == "__main__":
    main()
