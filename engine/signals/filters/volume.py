"""Volume surges: a bar whose volume z-score (against the `lookback` bars before it) is at
least `threshold` (2.5 by default).

The optional classifier predicts whether the *next* bar is a surge from the direction
features; its target is `surge_target`.
"""

from __future__ import annotations

import numpy as np

from engine.signals.filters.features import volume_zscore


def surge(volume: np.ndarray, lookback: int, threshold: float) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """(z-score, surge) of every bar; bars in the warm-up have z NaN and no surge."""
    z = volume_zscore(volume, lookback)
    return z, np.nan_to_num(z, nan=-np.inf) >= threshold


def surge_target(volume: np.ndarray, lookback: int, threshold: float) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """(label, known): label[t] = 1 if bar t+1 is a surge; known once bar t+1's z exists."""
    z, is_surge = surge(volume, lookback, threshold)
    n = len(volume)
    label = np.zeros(n, dtype=np.int8)
    known = np.zeros(n, dtype=bool)
    if n > 1:
        label[:-1] = is_surge[1:]
        known[:-1] = np.isfinite(z[1:])
    return label, known
