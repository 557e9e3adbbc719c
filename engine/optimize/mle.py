"""Maximum-likelihood fits by differential evolution (scipy.optimize.differential_evolution).

`fit_student_t`: the Student-t (df, loc, scale) of a return series, the distribution the
Monte Carlo of the risk room samples. DE searches the whole box (no starting guess to get
wrong), then L-BFGS-B polishes the best member; a test holds the result to
`scipy.stats.t.fit` (a local optimiser from moment estimates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StudentT:
    df: float
    loc: float
    scale: float
    log_likelihood: float


def fit_student_t(returns: np.ndarray, *, seed: int = 0, max_df: float = 200.0) -> StudentT:
    """The Student-t maximum-likelihood fit of `returns` (finite values, at least 10).

    Bounds: df in [0.5, max_df] (beyond ~200 the t is a normal for any sample size we
    see), loc within the sample's range, scale in (0, 10 x the sample's σ]."""
    from scipy import stats
    from scipy.optimize import differential_evolution

    x = np.asarray(returns, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 10:
        raise ValueError(f"a Student-t fit needs at least 10 finite returns, got {len(x)}")
    spread = float(x.std()) or 1e-12
    bounds = [(0.5, max_df), (float(x.min()), float(x.max())), (spread * 1e-4, spread * 10)]

    def negative_log_likelihood(theta: np.ndarray) -> float:
        df, loc, scale = theta
        return -float(np.sum(stats.t.logpdf(x, df, loc=loc, scale=scale)))

    result = differential_evolution(negative_log_likelihood, bounds,
                                    rng=np.random.default_rng(seed), tol=1e-10, polish=True)
    df, loc, scale = (float(v) for v in result.x)
    return StudentT(df, loc, scale, -float(result.fun))
