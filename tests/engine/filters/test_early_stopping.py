"""LightGBM's early stopping holds out the newest rows of a window, `gap` rows after the
fitted ones, and never fits on them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals.filters import classify
from engine.signals.filters.classify import (
    HELD_OUT_SHARE,
    MIN_HELD_OUT,
    early_stopping_split,
    fit_classifier,
)


@settings(max_examples=200, deadline=None)
@given(labels=st.lists(st.integers(-1, 1), min_size=1, max_size=400),
       gap=st.integers(0, 30))
def test_the_held_out_rows_follow_the_fitted_ones_by_the_gap(labels, gap):
    y = np.array(labels)
    split = early_stopping_split(y, gap)
    if split is None:
        return
    cut, held = split
    assert held - cut == gap  # row `cut - 1`'s label, `gap` bars ahead, ends before `held`
    assert cut == int(len(y) * (1 - HELD_OUT_SHARE))
    assert len(y) - held >= MIN_HELD_OUT
    assert set(y[held:]) <= set(y[:cut])  # LightGBM cannot score a class it never saw
    assert len(set(y[:cut])) >= 2


def test_a_tail_with_a_class_the_fitted_part_lacks_fits_every_row():
    y = np.array([0, 1] * 200 + [2] * 100)
    assert early_stopping_split(y, 5) is None


def _noise(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    y = np.where(x[:, 0] + rng.normal(0, 2, n) > 0.5, 1,
                 np.where(x[:, 0] + rng.normal(0, 2, n) < -0.5, -1, 0))
    return x, y


def test_the_held_out_labels_choose_only_how_many_trees_are_kept():
    x, y = _noise(1)
    cut, held = early_stopping_split(y, 5)
    other = y.copy()
    other[held:] = np.random.default_rng(2).permutation(other[held:])
    a = fit_classifier("lightgbm", x, y, gap=5).booster_
    b = fit_classifier("lightgbm", x, other, gap=5).booster_
    kept = min(a.best_iteration, b.best_iteration)
    assert 0 < kept < 100
    # The same trees up to the shorter model's last: the tail was never fitted on.
    trees = 3 * kept  # three classes: one tree per class per round
    assert a.dump_model()["tree_info"][:trees] == b.dump_model()["tree_info"][:trees]
    np.testing.assert_array_equal(a.predict(x[:50], num_iteration=kept),
                                  b.predict(x[:50], num_iteration=kept))


def test_the_early_stopped_model_predicts_with_its_best_round():
    x, y = _noise(3)
    model = fit_classifier("lightgbm", x, y, gap=5)
    best = model.booster_.best_iteration
    assert 0 < best < 100
    np.testing.assert_array_equal(
        classify.class_probabilities(model, x[:20], (-1, 0, 1)),
        model.booster_.predict(x[:20], num_iteration=best))


def test_without_a_gap_every_tree_is_fitted_on_every_row():
    x, y = _noise(4)
    assert fit_classifier("lightgbm", x, y, gap=None).booster_.num_trees() == 300


def test_early_stopping_scores_the_held_out_rows_by_their_own_classes():
    """The log loss LightGBM stops on is the held-out rows' true log loss (LightGBM 4.7's
    `eval_y` skips the classifier's label encoding: labels -1, 0, 1 would be scored as
    other classes)."""
    from sklearn.metrics import log_loss

    x, y = _noise(5)
    _, held = early_stopping_split(y, 5)
    model = fit_classifier("lightgbm", x, y, gap=5)
    best = model.booster_.best_iteration
    (scores,) = model.evals_result_.values()
    proba = classify.class_probabilities(model, x[held:], (-1, 0, 1))
    assert np.isclose(scores["multi_logloss"][best - 1],
                      log_loss(y[held:], proba, labels=[-1, 0, 1]), rtol=1e-9)
