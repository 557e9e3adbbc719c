"""Regime-adaptive trading parameters."""

from __future__ import annotations

import pytest

from engine.signals.regime import DEFAULT_REGIME_PARAMS, LABELS, adapt


def test_defaults_per_regime() -> None:
    bull, bear, side = adapt("bull"), adapt("bear"), adapt("sideways")
    assert (bull.size_multiplier, bull.stop_atr, bull.prefers_mean_reversion) == (1.25, 3.0, False)
    assert (bear.size_multiplier, bear.stop_atr, bear.prefers_mean_reversion) == (0.5, 1.5, False)
    assert (side.size_multiplier, side.stop_atr, side.prefers_mean_reversion) == (0.75, 2.0, True)


def test_every_label_has_parameters_and_the_table_is_read_only() -> None:
    assert set(DEFAULT_REGIME_PARAMS) == set(LABELS)
    for label in LABELS:
        assert adapt(label).label == label
    with pytest.raises(TypeError):
        DEFAULT_REGIME_PARAMS["bull"] = adapt("bear")  # type: ignore[index]


def test_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown regime label 'crash'"):
        adapt("crash")
