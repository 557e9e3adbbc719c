"""Time-series folds never train on the future, and leave `gap` rows between."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals.filters.cv import time_series_folds


@settings(max_examples=200, deadline=None)
@given(n_splits=st.integers(2, 8), gap=st.integers(0, 20), extra=st.integers(0, 500))
def test_no_fold_trains_on_rows_at_or_after_its_test_rows(n_splits, gap, extra):
    n = n_splits + 1 + gap + extra
    try:
        folds = list(time_series_folds(n, n_splits, gap))
    except ValueError as error:
        # refused only when the first fold would have no training row
        assert n - gap - (n // (n_splits + 1)) * n_splits < 1, error
        return
    assert len(folds) == n_splits
    previous_test_end = -1
    for train, test in folds:
        assert len(train) and len(test)
        # every training row ends `gap` rows before the first test row
        assert train.max() + gap < test.min()
        # expanding: training starts at row 0 and is contiguous
        assert train[0] == 0 and np.array_equal(train, np.arange(train[-1] + 1))
        assert np.array_equal(test, np.arange(test[0], test[-1] + 1))
        assert test.min() > previous_test_end
        previous_test_end = test.max()
    assert previous_test_end == n - 1


def test_too_few_rows_is_an_error_naming_them():
    import pytest

    with pytest.raises(ValueError, match="5 rows"):
        list(time_series_folds(5, 5, 1))
