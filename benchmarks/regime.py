"""Speed of the regime model: EM fit on 8,000 and 100,000 returns, causal filtering on 1M.

Run: python benchmarks/regime.py
"""

from __future__ import annotations

import numpy as np
from _timing import best_of

from engine.signals.regime import GaussianHMM, HMMParams
from engine.signals.regime.model import FittedHMM

TRUTH = HMMParams(
    np.array([0.5, 0.3, 0.2]),
    np.array([[0.97, 0.02, 0.01], [0.03, 0.95, 0.02], [0.02, 0.02, 0.96]]),
    np.array([0.0008, -0.0012, 0.0]),
    np.array([0.01, 0.03, 0.005]) ** 2,
)


def simulate(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cum = np.cumsum(TRUTH.transmat, axis=1)
    u = rng.random(n)
    states = np.empty(n, dtype=np.int64)
    states[0] = 0
    for t in range(1, n):
        states[t] = min(int(np.searchsorted(cum[states[t - 1]], u[t], side="right")), 2)
    return rng.normal(TRUTH.means[states], np.sqrt(TRUTH.vars[states]))



def main() -> None:
    for n in (8_000, 100_000):
        r = simulate(n)
        fitted = GaussianHMM(n_states=3).fit(r)
        secs = best_of(3, lambda r=r: GaussianHMM(n_states=3).fit(r))
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
