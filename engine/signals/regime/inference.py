"""Inference in a Gaussian HMM with fixed parameters: likelihood, filtering, smoothing.

All routines take the parameters explicitly (`HMMParams`) so the fitted model and the
tests share one implementation; they scan one long series in few numpy steps (see
`scan.py`), with probabilities kept normalised with log scales. The EM fit runs its own
forward-backward over many windows at once (`batch.py`), whose per-window numbers do not
depend on the batch; the tests hold the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals.regime.scan import chunked_scan, row_maxima

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class HMMParams:
    """Start probabilities (K,), row-stochastic transitions (K, K), means and variances (K,)."""

    startprob: np.ndarray
    transmat: np.ndarray
    means: np.ndarray
    vars: np.ndarray

    @property
    def n_states(self) -> int:
        return len(self.means)


def as_returns(returns: object) -> np.ndarray:
    """A 1-D float64 array of finite values, or ValueError saying what is wrong."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"returns must be one-dimensional, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        bad = int(np.flatnonzero(~np.isfinite(r))[0])
        raise ValueError(f"returns must be finite; index {bad} holds {r[bad]}")
    return r


def log_emission(params: HMMParams, r: np.ndarray) -> np.ndarray:
    """log N(r_t; mu_k, var_k) as an (n, K) array."""
    diff = r[:, None] - params.means[None, :]
    return -0.5 * (_LOG_2PI + np.log(params.vars)[None, :] + diff * diff / params.vars[None, :])


def _first_step(params: HMMParams, logb0: np.ndarray) -> tuple[np.ndarray, float]:
    shift = logb0.max()
    v = params.startprob * np.exp(logb0 - shift)
    s = v.sum()
    return v / s, float(shift + np.log(s))


def forward(params: HMMParams, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filtered probabilities P(s_t | r_1..r_t) (n, K) and log p(r_1..r_t) for each t (n,)."""
    return _forward(params, log_emission(params, r))


def _forward(params: HMMParams, logb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, k = logb.shape
    alpha = np.empty((n, k))
    logs = np.empty(n)
    if n == 0:
        return alpha, logs
    alpha[0], logs[0] = _first_step(params, logb[0])
    alpha[1:], logs[1:] = chunked_scan(alpha[0], logs[0], params.transmat, logb[1:])
    return alpha, logs


def loglikelihood(params: HMMParams, r: np.ndarray) -> float:
    """log p(r_1..r_n) under the model (0.0 for an empty series)."""
    if len(r) == 0:
        return 0.0
    return float(forward(params, r)[1][-1])


@dataclass(frozen=True)
class Smoothed:
    """Output of forward-backward: what the EM step and `posterior` need."""

    gamma: np.ndarray  # (n, K) P(s_t | r_1..r_n)
    xi_sum: np.ndarray  # (K, K) sum over t of P(s_{t-1}=i, s_t=j | r_1..r_n)
    loglik: float


def forward_backward(params: HMMParams, r: np.ndarray) -> Smoothed:
    """Smoothed state probabilities and expected transition counts (needs n >= 1)."""
    n, k = len(r), params.n_states
    logb = log_emission(params, r)
    alpha, logs = _forward(params, logb)
    b = np.exp(logb - row_maxima(logb)[:, None])

    # With u_t = b_t * beta_t, u_t = u_{t+1} A^T diag(b_t): the forward scan with A^T, run
    # from the end; then beta_t = u_{t+1} A^T. Scales are arbitrary and cancel below.
    u = np.empty((n, k))
    u[-1] = b[-1] / b[-1].sum()
    if n > 1:
        back, _ = chunked_scan(u[-1], 0.0, params.transmat.T, logb[-2::-1])
        u[:-1] = back[::-1]
    beta = np.empty((n, k))
    beta[-1] = 1.0 / k
    beta[:-1] = u[1:] @ params.transmat.T

    gamma = alpha * beta
    gamma /= gamma.sum(axis=1, keepdims=True)
    # xi_t(i, j) = alpha_{t-1}(i) A(i, j) u_t(j) / norm_t, so the sum over t is one matrix
    # product: A * (alpha_{t-1} / norm_t)^T @ u_t.
    norm = ((alpha[:-1] @ params.transmat) * u[1:]).sum(axis=1)
    xi_sum = params.transmat * ((alpha[:-1] / norm[:, None]).T @ u[1:])
    return Smoothed(gamma=gamma, xi_sum=xi_sum, loglik=float(logs[-1]))
