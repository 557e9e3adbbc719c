"""Regime-adaptive trading parameters: how size and stops change with the regime.

Bull markets get larger positions and wider stops (let trends run), bear markets smaller
positions and tighter stops, sideways markets a middle ground and a preference for
mean-reversion entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from engine.signals.regime.labels import BEAR, BULL, SIDEWAYS


@dataclass(frozen=True, slots=True)
class RegimeParams:
    label: str
    size_multiplier: float  # times the configured position size
    stop_atr: float  # stop distance in multiples of the ATR
    prefers_mean_reversion: bool = False


DEFAULT_REGIME_PARAMS = MappingProxyType(
    {
        BULL: RegimeParams(BULL, size_multiplier=1.25, stop_atr=3.0),
        BEAR: RegimeParams(BEAR, size_multiplier=0.5, stop_atr=1.5),
        SIDEWAYS: RegimeParams(SIDEWAYS, size_multiplier=0.75, stop_atr=2.0,
                               prefers_mean_reversion=True),
    }
)


def adapt(label: str) -> RegimeParams:
    """The trading parameters for a regime label ("bull", "bear" or "sideways")."""
    try:
        return DEFAULT_REGIME_PARAMS[label]
    except KeyError:
        known = ", ".join(DEFAULT_REGIME_PARAMS)
        raise ValueError(f"unknown regime label {label!r}; expected one of {known}") from None
