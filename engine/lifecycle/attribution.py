"""Attribution: which strategies opened a trade, and how its P&L splits among them.

A trade opened by an ensemble decision belongs to the strategies that voted for the side
it took, in proportion to their weight in that decision (a stop or exit closing the trade
belongs with the trade: attribution is fixed when the trade opens). A trade opened without
votes (a single strategy, a manual order) belongs wholly to its label.

Exact sums. Amounts are split in integer units of 1e-8 (the precision trades are reported
at) by the largest-remainder rule: each strategy first gets floor(P * w_i / W) units, and the
units left over go one each to the largest fractional remainders, ties broken by strategy
id. Weights enter as exact fractions of their float values, so the split is deterministic
and the parts add up to the trade's amount exactly; sums by strategy, symbol or regime then
add up to the run's total exactly. `to_cents` rounds a set of group totals to cents with
the same rule, so the printed parts add up to the printed total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import lru_cache

UNIT = Decimal("0.00000001")  # 1e-8: the smallest amount attribution splits
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Attribution:
    """The votes behind an opening decision: (strategy id, weight) and the regime then."""

    votes: tuple[tuple[str, float], ...]
    regime: str = "unknown"

    @classmethod
    def of(cls, weights: Mapping[str, float], regime: str = "unknown") -> Attribution:
        return cls(tuple(sorted((sid, float(w)) for sid, w in weights.items() if w > 0)),
                   regime)

    def to_dict(self) -> dict:
        return {"votes": {sid: w for sid, w in self.votes}, "regime": self.regime}


def to_units(amount: Decimal) -> int:
    """`amount` in integer 1e-8 units (rounded half-even at the ninth decimal)."""
    return int(amount.scaleb(8).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_units(units: int) -> Decimal:
    return Decimal(units) * UNIT


@lru_cache(maxsize=4096)
def integer_weights(weights: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...],
                                                                    tuple[int, ...]]:
    """The positive weights, sorted by id, as exact integers in the same proportions: each
    float is n / 2^k, so on the largest denominator every weight is an integer."""
    pairs = sorted((sid, float(w)) for sid, w in weights if w > 0)
    if not pairs:
        raise ValueError("attribution needs at least one positive weight")
    ratios = [w.as_integer_ratio() for _, w in pairs]
    denominator = max(d for _, d in ratios)
    return (tuple(sid for sid, _ in pairs),
            tuple(n * (denominator // d) for n, d in ratios))


def split_units(units: int, weights: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Split an integer amount among strategies in proportion to positive weights, exactly
    (module doc). Negative amounts split as the negation of their absolute value's split."""
    ids, scaled = integer_weights(tuple(weights))
    if len(ids) == 1:
        return {ids[0]: units}
    if units < 0:
        return {sid: -part for sid, part in split_units(-units, weights).items()}
    total = sum(scaled)
    out, remainders = {}, []
    for sid, w in zip(ids, scaled, strict=True):
        share, rest = divmod(units * w, total)
        out[sid] = share
        remainders.append((-rest, sid))
    left = units - sum(out.values())
    # Largest remainder first; equal remainders go to the smaller id first.
    for _, sid in sorted(remainders)[:left]:
        out[sid] += 1
    return out


def to_cents(parts: Mapping[str, int]) -> dict[str, Decimal]:
    """Group totals in 1e-8 units as cents whose sum is the rounded total, exactly."""
    if not parts:
        return {}
    cent_units = 10**6  # 1e-8 units in a cent
    total = sum(parts.values())
    target = int((Decimal(total) / cent_units).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    floors = {key: int((Decimal(v) / cent_units).to_integral_value(rounding=ROUND_FLOOR))
              for key, v in parts.items()}
    left = target - sum(floors.values())
    # 0 <= left < len(parts): each floor is at most one cent below its value.
    order = sorted(parts, key=lambda key: (-(parts[key] - floors[key] * cent_units), key))
    for key in order[:left]:
        floors[key] += 1
    return {key: Decimal(cents) * CENT for key, cents in floors.items()}
