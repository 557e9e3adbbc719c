"""Signal quality: a score in [0, 1] on every ensemble decision, and what it does.

    score = (confluence + alignment + success) / 3

    confluence  the weighted share of the ensemble's strategies whose stance is the
                decision's side (w_agree / w_total)
    alignment   the weighted share of those agreeing strategies whose style fits the regime:
                trend strategies in a trending regime of their side (a BUY in bull, a SELL
                in bear), mean-reversion strategies in sideways; 0.5 when the regime is
                unknown
    success     the win rate of similar past setups (same agreeing strategies, side and
                regime), 0.5 until `min_trades` of them have closed

A setup's trades are the ensemble's own decisions: each held from the next bar's open to
the open after the decision next changes, a win when it gained. One counts only from the
bar its exit filled, so a score at bar t uses nothing after t (and the same rule runs on
a live desk's history).

The score multiplies the decision's confidence (it can only lower it); a decision scoring
below `min_score` is dropped. Size is multiplied by min(max_multiplier, 2 x score), and a
multiplier above 1 never takes an entry past the risk limit on position size (the gate
still decides every order).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

MEAN_REVERSION_STRATEGIES = frozenset({"rsi", "mean_reversion"})
UNKNOWN_REGIME = "unknown"


@dataclass(frozen=True, slots=True)
class QualityScore:
    score: float
    confluence: float
    alignment: float
    success: float
    similar_trades: int
    multiplier: float
    dropped: bool

    def as_dict(self) -> dict:
        return {"score": round(self.score, 6), "confluence": round(self.confluence, 6),
                "alignment": round(self.alignment, 6), "success": round(self.success, 6),
                "similar_trades": self.similar_trades,
                "multiplier": round(self.multiplier, 6), "dropped": self.dropped}


def style(strategy_id: str) -> str:
    base = strategy_id.split(":")[0]
    return "mean_reversion" if base in MEAN_REVERSION_STRATEGIES else "trend"


def fits_regime(strategy_id: str, side: int, regime: str) -> bool:
    if style(strategy_id) == "mean_reversion":
        return regime == "sideways"
    return (side > 0 and regime == "bull") or (side < 0 and regime == "bear")


def confluence(agree_weight: float, total_weight: float) -> float:
    return 0.0 if total_weight <= 0 else min(1.0, max(0.0, agree_weight / total_weight))


def alignment(contributors: Sequence[tuple[str, float]], side: int, regime: str) -> float:
    """`contributors`: (strategy id, weight) of the strategies agreeing with `side`."""
    if regime == UNKNOWN_REGIME or not contributors:
        return 0.5
    total = sum(w for _, w in contributors)
    fit = sum(w for sid, w in contributors if fits_regime(sid, side, regime))
    return fit / total if total > 0 else 0.5


def size_multiplier(score: float, max_multiplier: float, *, size: float,
                    regime_multiplier: float, limit: float) -> float:
    """min(max_multiplier, 2 x score), and above 1 only up to what keeps size x regime x
    multiplier within `limit` ([risk] max_position_pct)."""
    m = min(max_multiplier, 2.0 * score)
    if m <= 1.0:
        return m
    base = size * regime_multiplier
    room = limit / base if base > 0 else 1.0
    return max(1.0, min(m, room)) if room >= 1.0 else 1.0


class SetupHistory:
    """Win rates of setups from closed trades, visible only once closed (causal)."""

    def __init__(self, min_trades: int) -> None:
        self.min_trades = min_trades
        self._pending: list[tuple[int, int, tuple, bool]] = []  # (closes at, seq, key, win)
        self._seq = 0
        self._wins: dict[tuple, int] = {}
        self._count: dict[tuple, int] = {}

    def add(self, closes_at: int, key: tuple, win: bool) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (closes_at, self._seq, key, win))

    def advance(self, bar: int) -> None:
        """Count every trade closed at or before `bar`."""
        while self._pending and self._pending[0][0] <= bar:
            _, _, key, win = heapq.heappop(self._pending)
            self._count[key] = self._count.get(key, 0) + 1
            self._wins[key] = self._wins.get(key, 0) + int(win)

    def rate(self, key: tuple) -> tuple[float, int]:
        count = self._count.get(key, 0)
        if count < self.min_trades:
            return 0.5, count
        return self._wins[key] / count, count


def score(*, agree_weight: float, total_weight: float,
          contributors: Sequence[tuple[str, float]], side: int, regime: str,
          success: float, similar: int, min_score: float, max_multiplier: float,
          size: float, regime_multiplier: float, limit: float) -> QualityScore:
    c = confluence(agree_weight, total_weight)
    a = alignment(contributors, side, regime)
    s = (c + a + success) / 3.0
    m = size_multiplier(s, max_multiplier, size=size, regime_multiplier=regime_multiplier,
                        limit=limit)
    return QualityScore(s, c, a, success, similar, m, s < min_score)
