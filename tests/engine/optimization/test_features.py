"""Feature ranking: a planted dependence comes first; the figures are scikit-learn's and
scipy's on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.optimize.features import candidate_features, forward_returns, rank_features


def _frame(close: np.ndarray) -> pd.DataFrame:
    index = pd.date_range("2020-01-01", periods=len(close), freq="1h", tz="UTC")
    return pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999,
                         "close": close, "volume": np.ones(len(close))}, index=index)


def test_a_planted_dependence_ranks_first():
    """Each return undoes half of the last 5 bars' move: the 5-bar move predicts the next
    return, so a 5-bar feature must lead the ranking."""
    rng = np.random.default_rng(0)
    n = 3000
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = -0.5 * r[max(t - 5, 0):t].sum() + rng.normal(0, 0.002)
    close = 100 * np.exp(np.cumsum(r))
    scores = rank_features({"X/Y": _frame(close)}, horizon=1, lengths=(5, 20, 50))
    assert scores[0].name in {"momentum_5", "sma_gap_5", "zscore_5", "rsi_5"}
    assert scores[0].mutual_information > 5 * scores[-1].mutual_information


def test_figures_are_the_libraries_on_the_same_rows():
    from scipy.stats import differential_entropy
    from sklearn.feature_selection import mutual_info_regression

    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 800)))
    frame = _frame(close)
    scores = {s.name: s for s in rank_features({"X/Y": frame}, horizon=3, seed=4,
                                               lengths=(5, 10))}
    features = candidate_features(frame, (5, 10))
    x = np.column_stack(list(features.values()))
    y = forward_returns(close, 3)
    keep = np.isfinite(x).all(axis=1) & np.isfinite(y)
    mi = mutual_info_regression(x[keep], y[keep], n_neighbors=3, random_state=4)
    for i, name in enumerate(features):
        assert scores[name].mutual_information == mi[i]
        assert scores[name].entropy == differential_entropy(x[keep][:, i])
    assert len(scores) == len(features)  # a constant volume adds no volume feature
    assert not any(name.startswith("volume") for name in scores)


def test_too_little_data_is_refused():
    with pytest.raises(ValueError, match="too few"):
        rank_features({"X/Y": _frame(np.linspace(100, 101, 120))}, horizon=1)
