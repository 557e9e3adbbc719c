"""Bar-by-bar regime probabilities for live use, identical to the batch filter."""

from __future__ import annotations

import numpy as np

from engine.regime.inference import HMMParams, log_emission


class RegimeFilter:
    """Causal P(state_t | r_1..r_t) for a fixed fitted model, one return at a time."""

    def __init__(self, params: HMMParams, labels: tuple[str, ...]) -> None:
        self._params = params
        self._labels = labels
        self._alpha: np.ndarray | None = None
        self.loglik = 0.0  # log p(r_1..r_t) of the returns seen so far

    def update(self, r: float) -> np.ndarray:
        """Take the next return; give the filtered state probabilities (K,) after it."""
        if not np.isfinite(r):
            raise ValueError(f"return must be finite, got {r}")
        logb = log_emission(self._params, np.array([float(r)]))[0]
        shift = logb.max()
        b = np.exp(logb - shift)
        params = self._params
        prior = params.startprob if self._alpha is None else self._alpha @ params.transmat
        v = prior * b
        s = v.sum()
        self._alpha = v / s
        self.loglik += float(shift + np.log(s))
        return self._alpha.copy()

    @property
    def probabilities(self) -> np.ndarray | None:
        """The latest filtered probabilities, None before the first update."""
        return None if self._alpha is None else self._alpha.copy()

    @property
    def label(self) -> str | None:
        """Label of the most probable current state, None before the first update."""
        return None if self._alpha is None else self._labels[int(self._alpha.argmax())]
