"""Scores of a fold, each beside its naive baseline.

Classifiers: accuracy, balanced accuracy, log loss, precision and recall per class. The
baseline predicts the training fold's majority class, with the training fold's class
frequencies as its probabilities (the best constant forecast the training data gives).

Volatility: QLIKE and MSE of the per-bar variance forecast against the realized variance
of the horizon. QLIKE is Patton's (2011) loss in the form log(f) + r / f, which is robust
to a realized variance of zero and ranks forecasts as r/f - log(r/f) - 1 does (the two
differ by a term in r only). The baseline is persistence: the realized variance of the last
`horizon` bars ("yesterday's realized volatility").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PROB_FLOOR = 1e-15  # log loss clips probabilities here, as scikit-learn does


def classification_scores(y_true: np.ndarray, proba: np.ndarray,
                          classes: Sequence[int], names: dict[int, str]) -> dict:
    """Scores of probabilistic predictions `proba` (n, len(classes)), columns in `classes`
    order; the predicted class is the most probable (ties: the first column)."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        log_loss,
        precision_score,
        recall_score,
    )

    classes = list(classes)
    y_true = np.asarray(y_true)
    predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
    clipped = np.clip(proba, PROB_FLOOR, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    scores = {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, predicted)),
        "log_loss": float(log_loss(y_true, clipped, labels=classes)),
    }
    precision = precision_score(y_true, predicted, labels=classes, average=None,
                                zero_division=0)
    recall = recall_score(y_true, predicted, labels=classes, average=None, zero_division=0)
    for i, c in enumerate(classes):
        scores[f"precision_{names[c]}"] = float(precision[i])
        scores[f"recall_{names[c]}"] = float(recall[i])
    return scores


def prior_probabilities(y_train: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Class frequencies of the training rows, in `classes` order."""
    counts = np.array([np.sum(y_train == c) for c in classes], dtype=np.float64)
    return counts / counts.sum()


def baseline_proba(y_train: np.ndarray, n_test: int, classes: Sequence[int]) -> np.ndarray:
    """The majority-class baseline: every test row gets the training frequencies, so its
    predicted class is the training majority (ties: the first class in `classes`)."""
    return np.tile(prior_probabilities(y_train, classes), (n_test, 1))


def qlike(realized: np.ndarray, forecast: np.ndarray) -> float:
    """mean(log f + r / f) over variances (module doc)."""
    f = np.asarray(forecast, dtype=np.float64)
    r = np.asarray(realized, dtype=np.float64)
    return float(np.mean(np.log(f) + r / f))


def mse(realized: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean((np.asarray(realized) - np.asarray(forecast)) ** 2))


def volatility_scores(realized: np.ndarray, forecast: np.ndarray) -> dict:
    return {"qlike": qlike(realized, forecast), "mse": mse(realized, forecast)}
