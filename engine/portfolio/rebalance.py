"""When to rebalance a book to its target weights: a pure decision, journaled by the caller.

Weights are fractions of equity per asset; what is not in an asset is in the quote
currency. A decision, in order:

1. never closer than `min_interval_days` to the last rebalance;
2. `mode = "periodic"`: due every `period_days` after the last rebalance (at once when
   there was none); `mode = "threshold"`: due when any asset's weight is more than
   `threshold` away from its target (absolute), or more than `relative_threshold` of its
   target away (relative; assets targeted at 0 have only the absolute test);
3. skipped when the estimated cost exceeds the tracking benefit:
   - cost = (fee + slippage) x turnover x equity, turnover = Σ|target - current| over the
     assets (the notional bought and sold, as a fraction of equity; the quote-currency leg
     costs nothing itself);
   - benefit = equity x sqrt(d'Σd x period_days / 365), d = current - target and Σ the
     annualized covariance: one standard deviation of the return difference the drift
     would cause over `period_days` (calendar days). Without a covariance the benefit is
     unknown and nothing is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

# A weight exactly at a threshold is within it: 0.55 - 0.5 is 0.05000000000000004 in floats.
_ROUND_OFF = 1e-12


@dataclass(frozen=True)
class RebalancePolicy:
    mode: str = "threshold"  # "threshold" or "periodic"
    threshold: float = 0.05
    relative_threshold: float = 0.20
    period_days: float = 7.0
    min_interval_days: float = 1.0
    fee: float = 0.001  # fraction of notional
    slippage_bps: float = 5.0


@dataclass(frozen=True)
class RebalanceDecision:
    act: bool
    reason: str  # one line, for the journal
    turnover: float
    cost: float  # in quote currency
    benefit: float | None  # in quote currency; None without a covariance
    max_drift: float  # largest |current - target|


def drift(current: Mapping[str, float], target: Mapping[str, float]) -> dict[str, float]:
    """current - target for every asset in either (missing = 0)."""
    assets = sorted(set(current) | set(target))
    return {a: current.get(a, 0.0) - target.get(a, 0.0) for a in assets}


def threshold_breach(
    current: Mapping[str, float], target: Mapping[str, float], policy: RebalancePolicy
) -> str | None:
    """The first asset past a threshold, as words; None when all are within."""
    for asset, gap in drift(current, target).items():
        aim = target.get(asset, 0.0)
        if abs(gap) > policy.threshold + _ROUND_OFF:
            return f"{asset} drifted {gap:+.2%} (threshold {policy.threshold:.2%})"
        if aim > 0 and abs(gap) / aim > policy.relative_threshold + _ROUND_OFF:
            return (f"{asset} drifted {abs(gap) / aim:.1%} of its target"
                    f" (relative threshold {policy.relative_threshold:.0%})")
    return None


def decide_rebalance(
    now: datetime,
    last: datetime | None,
    current: Mapping[str, float],
    target: Mapping[str, float],
    policy: RebalancePolicy,
    *,
    equity: float,
    cov: np.ndarray | None = None,
    assets: tuple[str, ...] | None = None,
) -> RebalanceDecision:
    """Whether to rebalance now (see the module doc). `cov` is indexed by `assets`."""
    gaps = drift(current, target)
    turnover = float(sum(abs(g) for g in gaps.values()))
    max_drift = max((abs(g) for g in gaps.values()), default=0.0)
    cost = (policy.fee + policy.slippage_bps / 10_000) * turnover * equity
    benefit = None
    if cov is not None and assets is not None:
        d = np.array([gaps.get(a, 0.0) for a in assets])
        benefit = equity * math.sqrt(max(float(d @ cov @ d), 0.0) * policy.period_days / 365)

    def decision(act: bool, reason: str) -> RebalanceDecision:
        return RebalanceDecision(act, reason, turnover, cost, benefit, max_drift)

    if turnover == 0:
        return decision(False, "on target")
    if last is not None and now - last < timedelta(days=policy.min_interval_days):
        return decision(False, f"within min_interval ({policy.min_interval_days:g} days)"
                               f" of the last rebalance")
    if policy.mode == "periodic":
        if last is not None and now - last < timedelta(days=policy.period_days):
            return decision(False, f"not due (every {policy.period_days:g} days)")
        trigger = ("first allocation" if last is None
                   else f"periodic ({policy.period_days:g} days)")
    else:
        trigger = threshold_breach(current, target, policy)
        if trigger is None:
            return decision(False, "within thresholds")
    if benefit is not None and cost > benefit:
        return decision(False, f"skipped: cost {cost:,.2f} exceeds tracking benefit"
                               f" {benefit:,.2f} ({trigger})")
    return decision(True, trigger)


def rebalance_orders(
    current: Mapping[str, float], target: Mapping[str, float], *, equity: float,
    prices: Mapping[str, float], min_notional: float = 0.0,
) -> dict[str, float]:
    """Signed quantities (buy > 0) that take `current` weights to `target`, sells first in
    iteration order so cash is freed before it is spent; trades under `min_notional` are
    left out."""
    orders: dict[str, float] = {}
    for asset, gap in sorted(drift(current, target).items(), key=lambda kv: -kv[1]):
        notional = -gap * equity
        if abs(notional) < max(min_notional, 1e-12):
            continue
        orders[asset] = notional / prices[asset]
    return orders
