"""A fitted Gaussian HMM: parameters, state labels and inference on any return series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals.regime import inference
from engine.signals.regime.inference import HMMParams, as_returns
from engine.signals.regime.labels import label_states
from engine.signals.regime.stream import RegimeFilter, filter_batch


@dataclass(frozen=True)
class FittedHMM:
    params: HMMParams
    loglik: float  # log-likelihood of the training returns under `params`
    n_iter: int  # EM iterations run
    converged: bool  # whether the improvement fell below the tolerance before max_iter
    history: tuple[float, ...]  # log-likelihood before each EM update, then the final one

    @property
    def startprob(self) -> np.ndarray:
        return self.params.startprob

    @property
    def transmat(self) -> np.ndarray:
        return self.params.transmat

    @property
    def means(self) -> np.ndarray:
        return self.params.means

    @property
    def vars(self) -> np.ndarray:
        return self.params.vars

    @property
    def n_states(self) -> int:
        return self.params.n_states

    @property
    def labels(self) -> tuple[str, ...]:
        """Label of each state index (see `labels.py` for the rule)."""
        return label_states(self.params.means, self.params.vars)

    def state_of(self, label: str) -> int:
        """Index of the (first) state carrying `label`."""
        return self.labels.index(label)

    def loglikelihood(self, returns: object) -> float:
        return inference.loglikelihood(self.params, as_returns(returns))

    def filtered(self, returns: object) -> np.ndarray:
        """Causal P(state_t | r_1..r_t), (n, K); row t uses nothing after t. The same
        numbers, bit for bit, as `filter()` fed the returns one at a time."""
        return filter_batch([self.params], as_returns(returns)[None, :])[0]

    def posterior(self, returns: object) -> np.ndarray:
        """Smoothed P(state_t | r_1..r_n), (n, K): uses the whole series, not causal."""
        r = as_returns(returns)
        if len(r) == 0:
            return np.empty((0, self.n_states))
        return inference.forward_backward(self.params, r).gamma

    def regimes(self, returns: object) -> list[str]:
        """Causal regime label per bar: the most probable filtered state."""
        labels = self.labels
        return [labels[k] for k in self.filtered(returns).argmax(axis=1)]

    def filter(self) -> RegimeFilter:
        """A streaming filter starting from the start probabilities."""
        return RegimeFilter(self.params, self.labels)
