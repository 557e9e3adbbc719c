"""Hedging into the quote currency (the stablecoin): a pure step, journaled by the caller.

Triggers, any of which fires the hedge:
- trend strength: ADX below `adx_below` (15);
- volatility: the daily volatility (standard deviation of daily simple returns) above
  `volatility_above` (0.05 a day, the reference's number; about 0.95 a year over 365
  days);
- the book's drawdown from its peak above `drawdown_above` (0.10).

While one fires, each step moves `step` more of equity into the quote currency (partial
exits), up to `max_stablecoin_pct` (0.30). When all are clear, each step moves `step` back,
down to 0. Every move carries the triggers that caused it, for the journal.

"Clear" is CLEAR_MARGIN (10%) inside each threshold: ADX at least 1.1 x adx_below,
volatility at most 0.9 x volatility_above, drawdown at most 0.9 x drawdown_above. In
between the hedge holds: an indicator hovering at a threshold would otherwise step the
book in and out, and pay for it, at every check.
"""

from __future__ import annotations

from dataclasses import dataclass

CLEAR_MARGIN = 0.10


@dataclass(frozen=True)
class HedgePolicy:
    enabled: bool = True
    adx_below: float = 15.0
    volatility_above: float = 0.05  # daily
    drawdown_above: float = 0.10
    max_stablecoin_pct: float = 0.30
    step: float = 0.10


@dataclass(frozen=True)
class MarketConditions:
    adx: float | None  # None when not yet known (warm-up)
    daily_volatility: float | None
    drawdown: float  # from the peak, >= 0 (0.12 = 12% below the peak)


@dataclass(frozen=True)
class HedgeStep:
    fraction: float  # of equity to hold in the quote currency after this step
    action: str  # "hedge", "unhedge" or "hold"
    triggers: tuple[str, ...]  # what fired, in words (empty when clear)


def triggers(conditions: MarketConditions, policy: HedgePolicy) -> tuple[str, ...]:
    fired = []
    if conditions.adx is not None and conditions.adx < policy.adx_below:
        fired.append(f"ADX {conditions.adx:.1f} < {policy.adx_below:g}")
    if conditions.daily_volatility is not None and (
            conditions.daily_volatility > policy.volatility_above):
        fired.append(f"daily volatility {conditions.daily_volatility:.2%} >"
                     f" {policy.volatility_above:.2%}")
    if conditions.drawdown > policy.drawdown_above:
        fired.append(f"drawdown {conditions.drawdown:.2%} > {policy.drawdown_above:.2%}")
    return tuple(fired)


def clear(conditions: MarketConditions, policy: HedgePolicy) -> bool:
    """Every condition CLEAR_MARGIN inside its threshold (unknown ones count as clear)."""
    inside = 1.0 - CLEAR_MARGIN
    return ((conditions.adx is None or conditions.adx >= policy.adx_below / inside)
            and (conditions.daily_volatility is None
                 or conditions.daily_volatility <= policy.volatility_above * inside)
            and conditions.drawdown <= policy.drawdown_above * inside)


def hedge_step(fraction: float, conditions: MarketConditions, policy: HedgePolicy) -> HedgeStep:
    """The next hedge fraction from the current one."""
    if not policy.enabled:
        return HedgeStep(0.0, "unhedge" if fraction > 0 else "hold", ())
    fired = triggers(conditions, policy)
    if fired:
        new = min(fraction + policy.step, policy.max_stablecoin_pct)
        return HedgeStep(new, "hedge" if new > fraction else "hold", fired)
    if not clear(conditions, policy):
        return HedgeStep(fraction, "hold", ())
    new = max(fraction - policy.step, 0.0)
    return HedgeStep(new, "unhedge" if new < fraction else "hold", ())


def apply_hedge(target: dict[str, float], fraction: float) -> dict[str, float]:
    """Target weights scaled so `fraction` of equity stays in the quote currency."""
    invested = sum(target.values())
    room = 1.0 - fraction
    if invested <= room:
        return dict(target)
    return {asset: weight * room / invested for asset, weight in target.items()}
