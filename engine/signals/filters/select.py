"""Feature selection for `desk train --select-features K`: the top K candidates by mutual
information with the forward return, ranked on training rows only.

The estimator is `desk features rank`'s (`engine.optimize.features.mutual_information`:
scikit-learn's KSG, 3 neighbours, seeded) and so is the target, the `horizon`-bar forward
return close[t + h] / close[t] - 1: the quantity the direction label bins, looking exactly as
far ahead as the label does, so a fold's gap of `horizon` rows keeps it out of the test rows.

The candidates are the direction model's own features (`features.direction_feature_names`).
The wider pool `desk features rank` scores (RSI, ATR, z-scores at up to 100 bars) is not
offered: a live desk computes features over its last `FEATURE_TAIL` bars, where Wilder's
smoothing over 100 bars still gives the cut-off history about 5% of the weight (0.99**300),
so live values would drift from the backtest's.

The ranking sees at most the newest `MI_ROWS` of the rows it is given: the estimator is a
k-nearest-neighbour search, 10 s for 80k rows of 16 features against 1.7 s for 20k.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.errors import ConfigError

MI_ROWS = 20_000
SEED = 0


class FeatureSelectionError(ConfigError):
    """K is not a number of candidates: below 1 or above how many there are."""


def check_k(k: int, names: Sequence[str]) -> None:
    """Refuse a K no ranking can honour, naming the candidates' count."""
    if k < 1 or k > len(names):
        raise FeatureSelectionError(
            f"--select-features {k}: expected 1 to {len(names)}, the number of candidate"
            f" features ({', '.join(names)})")


def mutual_information(x: np.ndarray, forward: np.ndarray, seed: int = SEED) -> np.ndarray:
    """MI (nats) of each column of `x` with the forward return, on the newest `MI_ROWS`
    rows (module doc)."""
    from engine.optimize.features import mutual_information as estimate

    x, forward = x[-MI_ROWS:], forward[-MI_ROWS:]
    return estimate(x, forward, seed)


def select_features(x: np.ndarray, forward: np.ndarray, names: Sequence[str], k: int, *,
                    seed: int = SEED) -> tuple[int, ...]:
    """Column indices of the `k` candidates with the highest MI, in candidate order (so a
    model's columns keep the order its features are computed in). Ties go to the earlier
    candidate. `x` and `forward` must hold the training rows only: whatever rows are passed
    are the rows ranked."""
    check_k(k, names)
    if x.shape[1] != len(names):
        raise ValueError(f"{x.shape[1]} columns for {len(names)} candidate names")
    mi = mutual_information(x, forward, seed)
    order = sorted(range(len(names)), key=lambda i: (-mi[i], i))
    return tuple(sorted(order[:k]))
