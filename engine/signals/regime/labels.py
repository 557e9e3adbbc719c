"""Names for the hidden states: bull, bear, sideways, and the one label tuple of the desk.

Rule (the founding document: bull has high positive returns, bear negative returns,
sideways low volatility), for any number of states K >= 2:

1. the state with the lowest variance is "sideways" (ties: the lower state index);
2. among the other states, the one with the highest mean is "bull" and the one with the
   lowest mean is "bear" (ties: the lower state index wins "bull" and then "bear");
3. any further state, and the single other state when K == 2, is "bull" if its mean return
   is positive and "bear" otherwise.

So every model has exactly one sideways state, and from three states on at least one bull
and one bear: a trader always sees all three regimes.
"""

from __future__ import annotations

import numpy as np

BULL = "bull"
BEAR = "bear"
SIDEWAYS = "sideways"
# The one label tuple: regime indices in plans, reports and the live state index into it.
LABELS = (BULL, BEAR, SIDEWAYS)


def label_states(means: np.ndarray, vars: np.ndarray) -> tuple[str, ...]:
    """Label per state index, following the module rule."""
    means = np.asarray(means, dtype=np.float64)
    vars_ = np.asarray(vars, dtype=np.float64)
    k = len(means)
    if k < 2:
        raise ValueError(f"labelling needs at least 2 states, got {k}")
    if vars_.shape != means.shape:
        raise ValueError(f"means and vars must have one entry per state, got {k} and "
                         f"{len(vars_)}")
    calm = min(range(k), key=lambda i: (vars_[i], i))
    labels = [BULL if means[i] > 0 else BEAR for i in range(k)]
    labels[calm] = SIDEWAYS
    others = [i for i in range(k) if i != calm]
    if len(others) >= 2:
        bull = min(others, key=lambda i: (-means[i], i))
        bear = min((i for i in others if i != bull), key=lambda i: (means[i], i))
        labels[bull], labels[bear] = BULL, BEAR
    return tuple(labels)


def label_index(state_labels: tuple[str, ...]) -> np.ndarray:
    """Index into LABELS of each state's label, (K,) int8."""
    return np.array([LABELS.index(label) for label in state_labels], dtype=np.int8)


def label_probabilities(state_probs: np.ndarray, state_labels: tuple[str, ...]) -> np.ndarray:
    """P(label) per row: the states' probabilities summed by label, (..., len(LABELS)).

    The sum runs over the states in index order with explicit additions, so one row gives
    bit for bit the same answer alone as inside a batch (the live and backtest faces of
    the regime policy rely on it)."""
    out = np.zeros((*state_probs.shape[:-1], len(LABELS)))
    for state, index in enumerate(label_index(state_labels)):
        out[..., index] = out[..., index] + state_probs[..., state]
    return out
