"""Speed of the regime model: a backtest's refits as one batched EM, single fits (the live
refit), causal filtering on 1M returns and the streaming update.

The hard case is the default backtest's: 1M one-minute bars of `benchmarks/backtest.py`'s
market, a fit on the trailing 500 returns every 1,440 bars (~694 fits of up to 200 EM
iterations). Its peer is the same engine fitting one window at a time (what the live
tracker does), timed on the first windows in the same run.

Run: python benchmarks/regime.py [--bars 1000000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _timing import best_of

from engine.signals.regime import GaussianHMM, HMMParams
from engine.signals.regime.model import FittedHMM
from engine.signals.regime.policy import RegimePolicy, fit_all

TRUTH = HMMParams(
    np.array([0.5, 0.3, 0.2]),
    np.array([[0.97, 0.02, 0.01], [0.03, 0.95, 0.02], [0.02, 0.02, 0.96]]),
    np.array([0.0008, -0.0012, 0.0]),
    np.array([0.01, 0.03, 0.005]) ** 2,
)
ALONE = 40  # windows fitted one at a time for the ratio


def simulate(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cum = np.cumsum(TRUTH.transmat, axis=1)
    u = rng.random(n)
    states = np.empty(n, dtype=np.int64)
    states[0] = 0
    for t in range(1, n):
        states[t] = min(int(np.searchsorted(cum[states[t - 1]], u[t], side="right")), 2)
    return rng.normal(TRUTH.means[states], np.sqrt(TRUTH.vars[states]))


def backtest_refits(bars: int) -> None:
    from engine.data.sources import load_source

    market = load_source("sim:BTC/USDT", bars=bars, seed=7, freq="1min")
    close = next(iter(market.frames.values()))["close"].to_numpy()
    policy = RegimePolicy()
    returns = np.diff(np.log(close))
    w = policy.window
    windows = [returns[f - w:f] for f in range(w, len(close), policy.refit_every)]
    hmm = GaussianHMM(n_states=policy.states)

    started = time.perf_counter()
    fits = hmm.fit_batch(windows)
    batch_s = time.perf_counter() - started
    # Peak memory in a second, untimed run: tracing doubles the allocation-heavy fit's time.
    tracemalloc.start()
    hmm.fit_batch(windows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    iters = np.array([f.n_iter for f in fits])
    started = time.perf_counter()
    for r in windows[:ALONE]:
        hmm.fit(r)
    # Per window-iteration: the first windows need not iterate as long as the average.
    alone_us = (time.perf_counter() - started) / iters[:ALONE].sum() * 1e6
    batch_us = batch_s / iters.sum() * 1e6
    print(f"{bars:,} bars: {len(windows)} fits of {w} returns, {iters.sum():,} window-iterations "
          f"(mean {iters.mean():.0f}, max {iters.max()}, {int((iters == hmm.max_iter).sum())} "
          f"stopped by max_iter)")
    print(f"  one batch, one process:   {batch_s:6.2f} s  ({batch_us:.0f} us per "
          f"window-iteration); peak memory of the batch {peak / 2**20:.0f} MB")
    print(f"  one window at a time:     {alone_us * iters.sum() / 1e6:6.2f} s  (first {ALONE} "
          f"windows: {alone_us:.0f} us per window-iteration): the batch is "
          f"{alone_us / batch_us:.0f}x faster")
    started = time.perf_counter()
    fit_all(policy.states, windows)
    print(f"  fit_all (as a backtest):  {time.perf_counter() - started:6.2f} s")
    started = time.perf_counter()
    policy.run(close)
    print(f"  RegimePolicy.run (fits and labels): {time.perf_counter() - started:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    args = parser.parse_args()
    backtest_refits(args.bars)
    for n in (500, 8_000, 100_000):
        r = simulate(n)
        fitted = GaussianHMM(n_states=3).fit(r)
        secs = best_of(3 if n < 100_000 else 1, lambda r=r: GaussianHMM(n_states=3).fit(r))
        print(
            f"fit {n:>9,} returns: {secs * 1e3:8.1f} ms  ({fitted.n_iter} EM iterations, "
            f"{secs / fitted.n_iter * 1e3:.1f} ms each, converged={fitted.converged})"
        )
    n = 1_000_000
    r = simulate(n, seed=1)
    model = FittedHMM(TRUTH, 0.0, 0, True, ())
    secs = best_of(5, lambda: model.filtered(r))
    print(f"filtered {n:,} returns: {secs * 1e3:8.1f} ms  ({n / secs / 1e6:.1f} M returns/s)")
    live = model.filter()
    m = 20_000
    secs = best_of(1, lambda: [live.update(x) for x in r[:m]])
    print(f"streaming update: {secs / m * 1e6:.1f} us per return")


if __name__ == "__main__":
    main()
