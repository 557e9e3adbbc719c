"""Bounded adaptive weights: a composite score per strategy sets a target weight, and each
update moves every weight toward it slowly and within bounds.

Composite score of a strategy's recent trade returns r (fractions, at least `min_trades`),
each term in [-1, 1]:

    expectancy_term = sum(r) / sum(|r|)                 (mean return over mean size)
    pf_term         = clip(log(profit_factor) / log 3, -1, 1)
                      (3 maps to +1, 1/3 to -1; no losses +1, no profits -1, neither 0)
    sharpe_term     = clip(mean / std, -1, 1)           (std ddof=1; std 0: sign of mean)
    drawdown_term   = 1 - 2 * min(1, max_drawdown / DRAWDOWN_SCALE)
                      (max drawdown of the compounded trade returns; 0 -> +1, 20% -> -1)
    score = 0.3 expectancy + 0.3 pf + 0.2 sharpe + 0.2 drawdown        (SCORE_WEIGHTS)

Target weight = base * clip(1 + score, min_mult, max_mult).

One update, with c the current weights (sum = sum of base weights, B) and p the proposal
p_i = c_i + clip(target_i - c_i, -max_change c_i, +max_change c_i) (a strategy without a
score proposes c_i), finds the weights closest to p (least squares) inside

    lo_i = max(min_mult b_i, (1 - max_change) c_i) <= w_i <= min(max_mult b_i,
    (1 + max_change) c_i) = hi_i,        sum(w) = B.

That is the Euclidean projection onto a box cut by a hyperplane: w_i = clip(p_i - lam,
lo_i, hi_i) with the one lam that makes the sum B (found exactly from the breakpoints of
the piecewise-linear sum). The box always holds c itself, so the problem is feasible, and
normalisation can never push a weight past max_change or out of [min_mult, max_mult] x
base: both bounds are constraints of the projection, not a clip before a rescale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SCORE_WEIGHTS = {"expectancy": 0.3, "profit_factor": 0.3, "sharpe": 0.2, "drawdown": 0.2}
DRAWDOWN_SCALE = 0.20


@dataclass(frozen=True, slots=True)
class AdaptiveSettings:
    """[ensemble.adaptive] of desk.toml (documented there)."""

    enabled: bool = False
    update_every: int = 10
    max_change: float = 0.15
    min_mult: float = 0.1
    max_mult: float = 2.0
    per_regime: bool = False
    min_trades: int = 5
    update_hours: float = 0.0  # also update at a trade close this long after the last (0: off)


def score_terms(returns: Sequence[float]) -> dict[str, float]:
    """The four terms of the composite score (module doc) and the score itself."""
    r = [float(x) for x in returns]
    if not r:
        raise ValueError("a score needs at least one trade return")
    total_abs = sum(abs(x) for x in r)
    expectancy = sum(r) / total_abs if total_abs > 0 else 0.0
    profit = sum(x for x in r if x > 0)
    loss = -sum(x for x in r if x < 0)
    if profit == 0.0 and loss == 0.0:
        pf = 0.0
    elif loss == 0.0:
        pf = 1.0
    elif profit == 0.0:
        pf = -1.0
    else:
        pf = _clip(math.log(profit / loss) / math.log(3.0), -1.0, 1.0)
    mean = sum(r) / len(r)
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / (len(r) - 1)) if len(r) > 1 else 0.0
    sharpe = _clip(mean / std, -1.0, 1.0) if std > 0 else float(math.copysign(1.0, mean)
                                                                   if mean else 0.0)
    drawdown = 1.0 - 2.0 * min(1.0, compounded_drawdown(r) / DRAWDOWN_SCALE)
    terms = {"expectancy": expectancy, "profit_factor": pf, "sharpe": sharpe,
             "drawdown": drawdown}
    terms["score"] = sum(SCORE_WEIGHTS[k] * terms[k] for k in SCORE_WEIGHTS)
    return terms


def compounded_drawdown(returns: Sequence[float]) -> float:
    """Deepest fall from a peak of prod(1 + r) over the trades, a fraction in [0, 1]."""
    equity, peak, deepest = 1.0, 1.0, 0.0
    for r in returns:
        equity *= max(1.0 + r, 0.0)
        peak = max(peak, equity)
        deepest = max(deepest, 1.0 - equity / peak if peak > 0 else 1.0)
    return deepest


def target_weight(base: float, score: float, settings: AdaptiveSettings) -> float:
    return base * _clip(1.0 + score, settings.min_mult, settings.max_mult)


def bounded_update(
    current: Mapping[str, float],
    base: Mapping[str, float],
    targets: Mapping[str, float | None],
    settings: AdaptiveSettings,
) -> dict[str, float]:
    """One update (module doc): every weight moves at most max_change of its current value,
    stays within [min_mult, max_mult] x base, and the weights keep the base total."""
    ids = list(base)
    mc = settings.max_change
    lo, hi, proposal = [], [], []
    for sid in ids:
        c, b = current[sid], base[sid]
        low = max(settings.min_mult * b, (1.0 - mc) * c)
        high = min(settings.max_mult * b, (1.0 + mc) * c)
        if low > high:  # c itself lies outside the bounds: a corrupted state
            raise ValueError(f"{sid}: current weight {c} is outside its bounds")
        t = targets.get(sid)
        p = c if t is None else c + _clip(t - c, -mc * c, mc * c)
        lo.append(low)
        hi.append(high)
        proposal.append(p)
    total = math.fsum(base[sid] for sid in ids)
    lam = _shift(proposal, lo, hi, total)
    out = [_clip(p - lam, a, z) for p, a, z in zip(proposal, lo, hi, strict=True)]
    return dict(zip(ids, out, strict=True))


def project(proposal: Sequence[float], lo: Sequence[float], hi: Sequence[float],
            total: float) -> list[float]:
    """The weights closest to `proposal` (least squares) within [lo_i, hi_i] that sum to
    `total` (module doc); the Q-learning policy's weights meet the bounds this way too."""
    lam = _shift(proposal, lo, hi, total)
    return [_clip(p - lam, a, z) for p, a, z in zip(proposal, lo, hi, strict=True)]


def _shift(p: Sequence[float], lo: Sequence[float], hi: Sequence[float], total: float) -> float:
    """The lam with sum(clip(p_i - lam, lo_i, hi_i)) = total (exact breakpoint search).

    The sum falls piecewise linearly as lam grows, with kinks at p_i - hi_i (where w_i
    leaves its upper bound) and p_i - lo_i (where it reaches its lower bound)."""
    def g(lam: float) -> float:
        return math.fsum(_clip(x - lam, a, z) for x, a, z in zip(p, lo, hi, strict=True))

    points = sorted({x - z for x, z in zip(p, hi, strict=True)}
                    | {x - a for x, a in zip(p, lo, strict=True)})
    if g(points[0]) <= total:  # every weight at its upper bound is still short: lam <= min
        return points[0]
    if g(points[-1]) >= total:
        return points[-1]
    left, right = 0, len(points) - 1  # g(points[left]) > total >= g(points[right])
    while right - left > 1:
        mid = (left + right) // 2
        if g(points[mid]) > total:
            left = mid
        else:
            right = mid
    a, z = points[left], points[right]
    ga, gz = g(a), g(z)
    # Linear between neighbouring kinks.
    return a + (ga - total) * (z - a) / (ga - gz) if ga != gz else a


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x
