"""Baum-Welch (EM) fit of a Gaussian hidden Markov model on returns.

Initialisation is deterministic: state means at evenly spaced quantiles of the data, a
common variance (the data's), persistent transitions (0.9 on the diagonal) and uniform
start probabilities; the same data always gives the same fit. Variances are floored at
`var_floor_ratio` times the data variance so that no state collapses onto a few
identical returns; flooring is the constrained maximiser of the M-step, so the
log-likelihood still never decreases.
"""

from __future__ import annotations

import numpy as np

from engine.signals.regime.inference import HMMParams, as_returns, forward_backward, loglikelihood
from engine.signals.regime.model import FittedHMM

# A state whose expected occupancy is below this keeps its previous mean and variance.
_EMPTY_STATE = 1e-10


class GaussianHMM:
    """Estimator: `GaussianHMM(n_states=3).fit(returns) -> FittedHMM`."""

    def __init__(
        self,
        n_states: int = 3,
        *,
        max_iter: int = 200,
        tol: float = 1e-6,
        var_floor_ratio: float = 1e-3,
        self_transition: float = 0.9,
    ) -> None:
        if n_states < 2:
            raise ValueError(f"n_states must be at least 2, got {n_states}")
        if max_iter < 1:
            raise ValueError(f"max_iter must be at least 1, got {max_iter}")
        if not 0.0 < self_transition < 1.0:
            raise ValueError(f"self_transition must be in (0, 1), got {self_transition}")
        self.n_states = n_states
        self.max_iter = max_iter
        self.tol = tol  # stop when the log-likelihood gains less than tol per observation
        self.var_floor_ratio = var_floor_ratio
        self.self_transition = self_transition

    def initial_params(self, r: np.ndarray) -> HMMParams:
        k = self.n_states
        var = max(float(r.var()), self._var_floor(r))
        means = np.quantile(r, (np.arange(k) + 0.5) / k)
        off = (1.0 - self.self_transition) / (k - 1)
        transmat = np.full((k, k), off)
        np.fill_diagonal(transmat, self.self_transition)
        return HMMParams(np.full(k, 1.0 / k), transmat, means, np.full(k, var))

    def fit(self, returns: object) -> FittedHMM:
        r = as_returns(returns)
        if len(r) < 2 * self.n_states:
            raise ValueError(
                f"need at least {2 * self.n_states} returns to fit {self.n_states} states, "
                f"got {len(r)}"
            )
        params = self.initial_params(r)
        floor = self._var_floor(r)
        history: list[float] = []
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - reported after the loop
            smoothed = forward_backward(params, r)
            history.append(smoothed.loglik)
            params = _m_step(params, r, smoothed.gamma, smoothed.xi_sum, floor)
            if len(history) > 1 and history[-1] - history[-2] < self.tol * len(r):
                converged = True
                break
        final = loglikelihood(params, r)
        history.append(final)
        return FittedHMM(params, final, n_iter, converged, tuple(history))

    def _var_floor(self, r: np.ndarray) -> float:
        return max(self.var_floor_ratio * float(r.var()), 1e-300)


def _m_step(
    old: HMMParams, r: np.ndarray, gamma: np.ndarray, xi_sum: np.ndarray, floor: float
) -> HMMParams:
    occupancy = gamma.sum(axis=0)
    live = occupancy > _EMPTY_STATE
    safe = np.where(live, occupancy, 1.0)
    means = np.where(live, gamma.T @ r / safe, old.means)
    diff = r[:, None] - means[None, :]
    vars_ = np.where(live, (gamma * diff * diff).sum(axis=0) / safe, old.vars)
    vars_ = np.maximum(vars_, floor)
    row = xi_sum.sum(axis=1, keepdims=True)
    transmat = np.where(row > 0, xi_sum / np.where(row > 0, row, 1.0), old.transmat)
    startprob = gamma[0] / gamma[0].sum()
    return HMMParams(startprob, transmat, means, vars_)
