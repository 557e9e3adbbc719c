"""Baum-Welch (EM) fit of a Gaussian hidden Markov model on returns.

Initialisation is deterministic: state means at evenly spaced quantiles of the data, a
common variance (the data's), persistent transitions (0.9 on the diagonal) and uniform
start probabilities; the same data always gives the same fit. Variances are floored at
`var_floor_ratio` times the data variance so that no state collapses onto a few
identical returns; flooring is the constrained maximiser of the M-step, so the
log-likelihood still never decreases.

There is one fitting routine, `GaussianHMM.fit_batch`: EM on many equal-length windows at
once (a backtest's refits), vectorized across windows with `batch.py`'s batch-independent
arithmetic. A single fit (the live tracker's refit) is that routine on a batch of one, so a
window's parameters, log-likelihood history and iteration count are the same bits whether
it is fitted alone or among hundreds. Windows converge at different iterations: one that
converges leaves the batch with the parameters it has then, and the rest go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from engine.signals.regime import batch
from engine.signals.regime.inference import HMMParams, as_returns
from engine.signals.regime.model import FittedHMM

# A state whose expected occupancy is below this keeps its previous mean and variance.
_EMPTY_STATE = 1e-10
# Bytes of working arrays a batch may hold: an EM iteration keeps ~6K + 4 doubles per
# return and window alive (K = states; the rest works block by block), so 500-return
# windows of 3 states go ~1,500 at a time and a longer backtest fits in several batches.
BATCH_BYTES = 128 * 2**20


class GaussianHMM:
    """Estimator: `GaussianHMM(n_states=3).fit(returns) -> FittedHMM`;
    `.fit_batch(windows)` fits many windows, each exactly as `fit` would alone."""

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
        return self.fit_batch([returns])[0]

    def fit_batch(self, windows: Sequence[object]) -> list[FittedHMM]:
        """The fit of every window, in order. Windows of one length are fitted together
        (in batches of at most `batch_size` windows); each result is bit for bit the one
        `fit` gives for that window alone."""
        rows = [self._checked(w) for w in windows]
        out: list[FittedHMM | None] = [None] * len(rows)
        by_length: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            by_length.setdefault(len(r), []).append(i)
        for length, members in by_length.items():
            size = self.batch_size(length)
            for lo in range(0, len(members), size):
                group = members[lo:lo + size]
                for i, fitted in zip(group, self._em([rows[i] for i in group]), strict=True):
                    out[i] = fitted
        return out  # type: ignore[return-value]

    def batch_size(self, length: int) -> int:
        """Windows of `length` returns fitted together within `BATCH_BYTES`."""
        k = self.n_states
        per_return = 6 * k + 4
        if length > batch.LONG:  # the chunked scan's partial products, fwd and bwd
            per_return += 2 * k * k + 2 * k
        return max(1, BATCH_BYTES // (8 * length * per_return))

    def _checked(self, returns: object) -> np.ndarray:
        r = as_returns(returns)
        if len(r) < 2 * self.n_states:
            raise ValueError(
                f"need at least {2 * self.n_states} returns to fit {self.n_states} states, "
                f"got {len(r)}"
            )
        return r

    def _var_floor(self, r: np.ndarray) -> float:
        return max(self.var_floor_ratio * float(r.var()), 1e-300)

    def _em(self, rows: list[np.ndarray]) -> list[FittedHMM]:
        """EM on equal-length windows together; arrays are (time, states, windows)."""
        n, width = len(rows[0]), len(rows)
        # Start and floor per window from its own 1-D array: the same calls as alone.
        init = [self.initial_params(r) for r in rows]
        xt_all = np.ascontiguousarray(np.stack(rows, axis=1))  # (T, B)
        floor_all = np.array([self._var_floor(r) for r in rows])
        params = _Params(*(np.stack(arrays, axis=-1) for arrays in zip(
            *((p.startprob, p.transmat, p.means, p.vars) for p in init), strict=True)))
        final = _Params(*(np.empty_like(a) for a in params))
        history = np.empty((self.max_iter, width))
        n_iter = np.zeros(width, dtype=np.int64)
        converged = np.zeros(width, dtype=bool)

        active = np.arange(width)  # original index of each column still iterating
        xt, floor = xt_all, floor_all
        gain_needed = self.tol * n
        for it in range(1, self.max_iter + 1):
            e = batch.expectations(xt, *params)
            history[it - 1, active] = e.loglik
            params = _m_step(params, e, floor)
            stop = np.zeros(len(active), dtype=bool)
            if it > 1:
                stop = history[it - 1, active] - history[it - 2, active] < gain_needed
                converged[active] = stop
            if it == self.max_iter:
                stop[:] = True
            if not stop.any():
                continue
            # Finished windows keep the parameters of this iteration; the rest go on as a
            # compacted batch (a finished window's later arithmetic would be wasted).
            done = active[stop]
            n_iter[done] = it
            for whole, part in zip(final, params, strict=True):
                whole[..., done] = part[..., stop]
            keep = ~stop
            active = active[keep]
            if len(active) == 0:
                break
            params = _Params(*(np.ascontiguousarray(a[..., keep]) for a in params))
            xt = np.ascontiguousarray(xt[:, keep])
            floor = floor[keep]

        loglik = batch.loglikelihoods(xt_all, *final)
        fits = []
        for w in range(width):
            fitted = HMMParams(*(np.ascontiguousarray(a[..., w]) for a in final))
            trail = (*history[:n_iter[w], w].tolist(), float(loglik[w]))
            fits.append(FittedHMM(fitted, float(loglik[w]), int(n_iter[w]),
                                  bool(converged[w]), trail))
        return fits


class _Params(NamedTuple):
    """Per-window parameters, windows last (a tuple, so `batch` functions take *params)."""

    start: np.ndarray  # (K, B)
    trans: np.ndarray  # (K, K, B)
    means: np.ndarray  # (K, B)
    vars: np.ndarray  # (K, B)


def _m_step(old: _Params, e: batch.Expectations, floor: np.ndarray) -> _Params:
    occupancy = e.occupancy
    live = occupancy > _EMPTY_STATE
    safe = np.where(live, occupancy, 1.0)
    # The moments were taken about the old means: the new mean is old + shift, and the new
    # variance the second moment about the old mean less the shift squared.
    shift = e.first / safe
    means = np.where(live, old.means + shift, old.means)
    vars_ = np.where(live, e.second / safe - shift * shift, old.vars)
    vars_ = np.maximum(vars_, floor[None, :])
    row = batch.sum_states(e.xi_sum)[:, None, :]  # expected transitions out of each state
    filled = row > 0
    trans = np.where(filled, e.xi_sum / np.where(filled, row, 1.0), old.trans)
    startprob = e.gamma0 / batch.sum_states(e.gamma0)
    return _Params(startprob, trans, means, vars_)
