"""The drawdown controller: a position scalar from the drawdown, before the kill switch.

Drawdown is measured from the equity peak (0.12 = 12% below it). Below `warning` (0.10)
the scalar is 1.0; from `warning` it is `warning_scale` (0.75); from `critical` (0.20) it is
`critical_scale` (0.5). New targets and sizes are multiplied by it; the kill switch
(`[risk] max_drawdown_pct`) remains the hard stop above it. The caller journals each change
of state.

Stepping back to a milder level needs the drawdown RECOVERY_MARGIN below the threshold
that was crossed (critical at 20% relaxes to warning under 18%): a drawdown hovering at a
threshold would otherwise flip the level, and trade the book, every bar.
"""

from __future__ import annotations

from dataclasses import dataclass

RECOVERY_MARGIN = 0.02
_SEVERITY = {"normal": 0, "warning": 1, "critical": 2}


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


def controller_state(
    drawdown: float, policy: DrawdownPolicy, previous: str = "normal"
) -> DrawdownState:
    """The level for `drawdown`, given the `previous` level (see RECOVERY_MARGIN)."""
    level = _level(drawdown, policy.warning, policy.critical)
    if _SEVERITY[level] < _SEVERITY[previous]:
        margin = RECOVERY_MARGIN
        level = max(level, _level(drawdown + margin, policy.warning, policy.critical),
                    key=_SEVERITY.__getitem__)
    scalar = {"normal": 1.0, "warning": policy.warning_scale,
              "critical": policy.critical_scale}[level]
    return DrawdownState(level, scalar, drawdown)


def _level(drawdown: float, warning: float, critical: float) -> str:
    if drawdown >= critical:
        return "critical"
    return "warning" if drawdown >= warning else "normal"
