"""Names for the hidden states: bull, bear, sideways.

Rule: order the states by mean return; ties in the mean are broken by volatility (the
more volatile state counts as the lower, more bearish one) and then by state index. The
last state in that order is "bull", the first is "bear", every other state is
"sideways". With two states that gives bull and bear.
"""

from __future__ import annotations

import numpy as np

BULL = "bull"
BEAR = "bear"
SIDEWAYS = "sideways"
LABELS = (BULL, BEAR, SIDEWAYS)


def label_states(means: np.ndarray, vars: np.ndarray) -> tuple[str, ...]:
    """Label per state index, following the module rule."""
    k = len(means)
    if k < 2:
        raise ValueError(f"labelling needs at least 2 states, got {k}")
    # lexsort sorts by the last key first: mean ascending, then variance descending, then index.
    order = np.lexsort((np.arange(k), -np.asarray(vars), np.asarray(means)))
    labels = [SIDEWAYS] * k
    labels[int(order[0])] = BEAR
    labels[int(order[-1])] = BULL
    return tuple(labels)
