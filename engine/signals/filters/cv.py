"""Time-series cross-validation: expanding folds that never train on the future.

Fold k trains on rows [0, test_start - gap) and tests on [test_start, test_end): the `gap`
rows between them are dropped because their labels (which look `horizon` bars ahead) reach
into the test rows. scikit-learn's `TimeSeriesSplit(gap=...)` builds exactly these folds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def time_series_folds(n_rows: int, n_splits: int, gap: int) -> Iterator[tuple[np.ndarray,
                                                                            np.ndarray]]:
    """(train rows, test rows) of each expanding fold, in time order."""
    from sklearn.model_selection import TimeSeriesSplit

    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    test_size = n_rows // (n_splits + 1)
    # The first fold must keep at least one training row before its gap.
    if test_size < 1 or n_rows - gap - test_size * n_splits < 1:
        raise ValueError(f"{n_rows} rows are too few for {n_splits} folds with a gap of {gap}")
    splitter = TimeSeriesSplit(n_splits=n_splits, gap=gap)
    yield from splitter.split(np.empty((n_rows, 1)))
