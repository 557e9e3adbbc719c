"""Benchmark of `desk optimize`: every trial a full backtest of the one engine.

  python benchmarks/optimize.py            # 100k bars, 200-trial GA (a few minutes)
  python benchmarks/optimize.py --quick    # 10k bars, 40 trials (for development)

Data: EURUSD hourly bars shipped with backtesting.py, tiled to N bars (real returns).
Configuration: the packaged desk.toml (regime model on, risk gate, fees, slippage; only
the liquidity floor is off, see `_config`), so a trial pays everything `desk --backtest`
pays; the regime fits, which do not depend on the parameters, are made once in the parent
and shipped to the workers (engine.optimize.regime_cache).

1. A GA (optuna NSGA-II) of `trials` trials over sma_cross fast=5:50, slow=20:200 on the
   machine's cores: wall time, trials/s, and the turnover of the best trial.
2. trials/s of the same 16 random trials on 1 worker, 2 workers and a 2-worker Dask
   LocalCluster (separate processes, TCP on loopback); the results must be equal.
3. The peer: backtesting.py's `Backtest.optimize` (SMA cross reversal) over a grid on the
   same bars, measured in this run: trials/s and the ratio Desk / peer. The peer's
   backtest is far simpler (no regime model, risk gate, execution path or fees), so the
   ratio says what the one-engine rule costs per trial.
4. MCMC: 10,000 Metropolis-Hastings iterations (2 chains) over sma_cross on 2,000 daily
   S&P 500 bars (arch's dataset), trials reused when a chain revisits a point.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from backtesting import Strategy
from backtesting.lib import crossover
from backtesting.test import SMA

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import _peer_frame, tiled_eurusd  # noqa: E402

PARAMS = ("fast=5:50", "slow=20:200")


def _request(**kw):
    from engine.optimize.run import OptimizeRequest

    return OptimizeRequest(data="unused", strategy="sma_cross", params=PARAMS, **kw)


def _run(frames, request, cfg, cluster=None):
    """`engine.optimize.run.optimize` on frames already in memory (the data load is not
    what is measured), without the sensitivity sweep."""
    from engine.optimize import run as run_module

    class _Market:
        source, dropped = "tiled EURUSD", 0

    market = _Market()
    market.frames = frames
    original = run_module.load_market
    run_module.load_market = lambda _request: market
    try:
        return run_module.optimize(cfg, request, cluster_client=cluster)
    finally:
        run_module.load_market = original


def _config():
    """The packaged configuration, without the sensitivity sweep; the GA runs all its
    generations (no early stop on convergence), so that it costs the trials it names.
    `[compliance] min_adv` is 0: the tiled EURUSD volumes are tick counts, far below the
    default liquidity floor, which would deny every order and measure no order path."""
    from engine.config.schema import config_from_dict

    return config_from_dict({"compliance": {"min_adv": "0"},
                             "optimization": {"sensitivity_points": 0,
                                              "ga": {"patience": 1000}}})


def ga(frames, trials: int) -> None:
    from engine.optimize.backends import default_workers

    cfg = _config()
    workers = default_workers()
    started = time.perf_counter()
    out = _run(frames, _request(method="ga", trials=trials, seed=1, workers=workers), cfg)
    wall = time.perf_counter() - started
    best = out.best
    bars = len(next(iter(frames.values())))
    trades = [t["metrics"]["num_trades"] for t in out.trials]
    mean_orders = 2 * sum(trades) / len(trades)  # a round trip is two orders
    print(f"GA {out.stats.done} trials ({out.stats.reused} revisits) on {bars:,} bars, "
          f"{workers} workers: {wall:.1f} s, {out.stats.done / wall:.2f} trials/s; best "
          f"{best['params']} sharpe {best['fitness']:.3f}; turnover: a trial sends "
          f"{mean_orders:,.0f} orders on average ({mean_orders / bars * 1000:.1f} per 1,000 "
          f"bars)")
    # What a cache of indicators per parameter value could save at most: the signals'
    # share of a trial (the regime fits, far costlier, are shared already).
    from _timing import best_of

    from engine.signals.strategies.registry import create

    frame = next(iter(frames.values()))
    strategy = create("sma_cross", **best["params"])
    signals_s = best_of(3, lambda: strategy.compute(frame))
    trial_s = sum(t["elapsed_s"] for t in out.trials) / len(out.trials)
    print(f"  signals of one trial {signals_s * 1000:.0f} ms of {trial_s * 1000:.0f} ms per "
          f"trial in a worker ({signals_s / trial_s:.1%})")


def backends(frames, trials: int) -> float:
    from distributed import LocalCluster

    cfg = _config()
    results, rates = {}, {}
    for label, kw in (("1 worker", {"workers": 1}), ("2 workers", {"workers": 2})):
        started = time.perf_counter()
        out = _run(frames, _request(method="random", trials=trials, seed=2, **kw), cfg)
        rates[label] = out.stats.done / (time.perf_counter() - started)
        results[label] = [(t["params"], t["fitness"]) for t in out.trials]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        started = time.perf_counter()
        out = _run(frames, _request(method="random", trials=trials, seed=2,
                                    cluster=cluster.scheduler_address), cfg)
        rates["LocalCluster 2 workers"] = out.stats.done / (time.perf_counter() - started)
        results["LocalCluster 2 workers"] = [(t["params"], t["fitness"]) for t in out.trials]
    same = len({repr(r) for r in results.values()}) == 1
    for label, rate in rates.items():
        print(f"  {label:24s} {rate:6.2f} trials/s (start-up and regime fits included)")
    print(f"  identical results on every backend: {same}")
    return rates["2 workers"]


class PeerSmaCross(Strategy):
    """backtesting.py's SMA cross reversal (as benchmarks/peers.py), at module level so
    its process pool can pickle it."""

    n1, n2 = 10, 20

    def init(self):
        self.fast = self.I(SMA, self.data.Close, self.n1)
        self.slow = self.I(SMA, self.data.Close, self.n2)

    def next(self):
        if crossover(self.fast, self.slow):
            self.buy()
        elif crossover(self.slow, self.fast):
            self.sell()


def peer(frames, desk_rate: float) -> None:
    from backtesting import Backtest

    frame = next(iter(frames.values()))
    bt = Backtest(_peer_frame(frame), PeerSmaCross, cash=10_000_000, commission=0.001,
                  exclusive_orders=True, finalize_trades=True)
    grid = {"n1": list(range(5, 51, 15)), "n2": list(range(20, 201, 45))}
    combos = sum(1 for a in grid["n1"] for b in grid["n2"] if a < b)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.optimize(**grid, constraint=lambda p: p.n1 < p.n2, maximize="Sharpe Ratio")
    wall = time.perf_counter() - started
    rate = combos / wall
    print(f"backtesting.py Backtest.optimize: {combos} combos in {wall:.1f} s, "
          f"{rate:.2f} trials/s (best n1={stats._strategy.n1}, n2={stats._strategy.n2}, "
          f"{stats['# Trades']:,} trades)")
    print(f"  Desk / backtesting.py trials/s on 2 workers: {desk_rate / rate:.2f}x")


def mcmc(iterations: int) -> None:
    from engine.data.sources import load_source

    cfg = _config()
    market = load_source("arch:sp500")
    frames = {s: f.iloc[-2000:] for s, f in market.frames.items()}
    started = time.perf_counter()
    out = _run(frames, _request(method="mcmc", trials=iterations, seed=3, workers=2), cfg)
    wall = time.perf_counter() - started
    post = out.extras["posterior"]
    print(f"MCMC {iterations:,} iterations (2 chains) on 2,000 daily bars: {wall:.1f} s; "
          f"{out.stats.done} distinct trials run, {out.stats.reused:,} revisits; acceptance "
          f"{out.extras['acceptance_rate']:.1%}; fast {post['fast']['mean']:.1f} "
          f"[{post['fast']['ci90'][0]:.0f}, {post['fast']['ci90'][1]:.0f}] R-hat "
          f"{post['fast']['rhat']:.2f}; slow {post['slow']['mean']:.1f} "
          f"[{post['slow']['ci90'][0]:.0f}, {post['slow']['ci90'][1]:.0f}] R-hat "
          f"{post['slow']['rhat']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k bars, 40 trials")
    args = parser.parse_args()
    bars, trials = (10_000, 40) if args.quick else (100_000, 200)
    frames = {"EUR/USD": tiled_eurusd(bars)}
    ga(frames, trials)
    rate = backends(frames, 16)
    peer(frames, rate)
    mcmc(2_000 if args.quick else 10_000)


if __name__ == "__main__":
    main()
