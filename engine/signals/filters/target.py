"""The direction target: up, down or neutral over the next `horizon` bars.

    move[t] = log(close[t + horizon] / close[t])
    band[t] = dead_band * sigma[t] * sqrt(horizon)
        sigma[t]: population sigma of the `window` 1-bar log returns up to bar t (causal)
    label[t] = +1 (up) if move > band, -1 (down) if move < -band, else 0 (neutral)

The label of bar t is known only at bar t + horizon: the last `horizon` rows (and the
warm-up of sigma) have no label (`known` is False there). A model fitted at bar f may use
labels of rows t <= f - horizon only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals.filters.features import realized_vol

DOWN, NEUTRAL, UP = -1, 0, 1
CLASSES = (DOWN, NEUTRAL, UP)
CLASS_NAMES = {DOWN: "down", NEUTRAL: "neutral", UP: "up"}


@dataclass(frozen=True, slots=True)
class DirectionTarget:
    label: np.ndarray  # int8 (n,) in CLASSES, 0 where unknown
    known: np.ndarray  # bool (n,)


def direction_target(close: np.ndarray, horizon: int, dead_band: float,
                     window: int) -> DirectionTarget:
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    move = np.full(n, np.nan)
    if n > horizon:
        move[:-horizon] = np.log(close[horizon:] / close[:-horizon])
    band = dead_band * realized_vol(close, window) * np.sqrt(horizon)
    known = np.isfinite(move) & np.isfinite(band)
    label = np.zeros(n, dtype=np.int8)
    label[known & (move > band)] = UP
    label[known & (move < -band)] = DOWN
    return DirectionTarget(label, known)


def labelled_until(bar: int, horizon: int) -> int:
    """Rows whose label is known at bar `bar`'s close: rows < bar - horizon + 1."""
    return max(bar - horizon + 1, 0)
