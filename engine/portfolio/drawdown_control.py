"""The drawdown controller: a position scalar from the drawdown, before the kill switch.

Drawdown is measured from the equity peak (0.12 = 12% below it). Below `warning` (0.10)
the scalar is 1.0; from `warning` it is `warning_scale` (0.75); from `critical` (0.20) it is
`critical_scale` (0.5). New targets and sizes are multiplied by it; the kill switch
(`[risk] max_drawdown_pct`) remains the hard stop above it. The caller journals each change
of state.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DrawdownPolicy:
    warning: float = 0.10
    critical: float = 0.20
    warning_scale: float = 0.75
    critical_scale: float = 0.5


@dataclass(frozen=True)
class DrawdownState:
    level: str  # "normal", "warning" or "critical"
    scalar: float
    drawdown: float


def drawdown_from_peak(peak: float, equity: float) -> float:
    """1 - equity / peak, never negative (0 at a new peak)."""
    return max(1.0 - equity / peak, 0.0) if peak > 0 else 0.0


def controller_state(drawdown: float, policy: DrawdownPolicy) -> DrawdownState:
    if drawdown >= policy.critical:
        return DrawdownState("critical", policy.critical_scale, drawdown)
    if drawdown >= policy.warning:
        return DrawdownState("warning", policy.warning_scale, drawdown)
    return DrawdownState("normal", 1.0, drawdown)
