"""Per-bar order-flow features for strategy tests that run every registered strategy: the
hft strategy reads them, the bar strategies ignore them. Values are drawn with the
shapes the trackers produce (z-scores, a confidence in [0, 1], an imbalance in [-1, 1],
signed runs of trades, updates since a withdrawal), independent of the prices."""

from __future__ import annotations

import numpy as np

from engine.microstructure.tracker import FEATURES, FLOW_PREFIX


def flow_features(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 16])
    composite = rng.normal(0.0, 1.4, n)
    runs = np.zeros(n)
    for t in range(1, n):  # a signed run that grows while the flow keeps its sign
        step = rng.choice([-1, 1], p=[0.35, 0.65]) * (1 if runs[t - 1] >= 0 else -1)
        runs[t] = runs[t - 1] + step * rng.integers(1, 8) if runs[t - 1] * step > 0 \
            else step * rng.integers(1, 8)
    values = {
        "composite_z": composite,
        "confidence": np.tanh(np.abs(composite) / 2) * rng.uniform(0.6, 1.0, n),
        "book": rng.uniform(-1, 1, n), "book_z": rng.normal(0, 1, n),
        "aggressor": np.clip(np.sign(runs) * rng.uniform(0, 1, n), -1, 1),
        "aggressor_z": rng.normal(0, 1, n), "ofi": rng.normal(0, 10, n),
        "ofi_z": rng.normal(0, 1, n), "flow_run": runs, "move_z": rng.normal(0, 1.4, n),
        "since_withdrawal": rng.geometric(0.05, n).astype(float),
        "maker_score": rng.uniform(0, 1, n),
    }
    assert tuple(values) == FEATURES
    return values


def flow_frame_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    return {FLOW_PREFIX + name: column for name, column in flow_features(n, seed).items()}
