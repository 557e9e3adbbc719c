"""Combine the strategies' opinions into one decision per bar.

Strategies emit events: BUY or SELL on the bar a condition starts, HOLD otherwise. The
ensemble votes on each strategy's *stance*: its latest BUY/SELL with that signal's
confidence, carried forward until the next BUY/SELL (HOLD, confidence 0, before its first
signal). `stance` does this for arrays; the live engine keeps each strategy's stance.

Rules (S strategies with weights w_i > 0, stances s_i in {-1, 0, +1}, confidences c_i):

majority_vote
    buy = #{s_i = +1}, sell = #{s_i = -1}. BUY wins if buy > sell and buy >= vote_ratio * S
    (SELL mirrored; a tie or a short share is HOLD). Its confidence is the mean c_i of the
    BUY voters; below `confidence_threshold` the decision is HOLD.
weighted_vote
    As majority_vote with each vote counted as w_i: BUY wins if W_buy > W_sell and
    W_buy >= vote_ratio * sum(w); confidence is the w-weighted mean c_i of the BUY voters.
confidence_average
    score = sum(w_i c_i s_i) / sum(w) (a HOLD stance pulls the score toward 0). BUY if
    score > 0 and score >= confidence_threshold, SELL if score < 0 and -score >=
    confidence_threshold, else HOLD; confidence = |score|. vote_ratio is not used.

A HOLD decision has confidence 0 and no contributors; a BUY/SELL decision's contributors
are the strategies whose stance is that side.

Dynamic weights (`dynamic_weights=True`): from each strategy's last `performance_window`
trade returns, with at least `min_trades` of them,

    sharpe_term = clip(mean / std, -1, 1)            (std with ddof=1; std 0: sign of mean)
    win_term    = 2 * win_rate - 1                   (win: return > 0)
    pf_term     = clip(log(profit_factor) / log 3, -1, 1)
                  (profit factor = gross profit / gross loss: 3 maps to +1, 1/3 to -1;
                   no losses: +1, no profits: -1, neither: 0)
    quality     = (sharpe_term + win_term + pf_term) / 3          in [-1, 1]
    multiplier  = max(0.1, 1 + quality)                           in [0.1, 2]

The strategies with enough trades share their total base weight in proportion to
base_i * multiplier_i; the others keep their base weight exactly. So the weights always
sum to the static total, and a poor strategy is turned down, never off.

Lifecycle (`lifecycle=LifecycleBook`, engine.lifecycle.book): bounded adaptive weights
([ensemble.adaptive], which replace the dynamic weights above when enabled) times each
strategy's status factor (retirement: DEGRADED halves, SUSPENDED and RETIRED zero). A
strategy with weight 0 does not vote: its stance counts as HOLD and, in majority_vote, it
leaves the pool of voters. With no strategy left to vote every decision is HOLD.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from engine.types import Side


class EnsembleMode(enum.StrEnum):
    MAJORITY_VOTE = "majority_vote"
    WEIGHTED_VOTE = "weighted_vote"
    CONFIDENCE_AVERAGE = "confidence_average"


def stance(side: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carry each BUY/SELL event and its confidence forward along the last axis.

    `side` int (..., n) in {-1, 0, 1}, `confidence` float (..., n). Before the first
    event the stance is HOLD with confidence 0.
    """
    side = np.asarray(side)
    confidence = np.asarray(confidence, dtype=np.float64)
    if side.shape != confidence.shape:
        raise ValueError(f"side {side.shape} and confidence {confidence.shape} differ in shape")
    n = side.shape[-1]
    if side.size == 0:
        return side.astype(np.int8), confidence.copy()
    # Index of the latest event at or before each bar (-1: none yet), then one flat gather.
    positions = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    last = np.maximum.accumulate(np.where(side != 0, positions, -1), axis=-1)
    rows = np.arange(side.size // n, dtype=last.dtype).reshape(side.shape[:-1] + (1,)) * n
    flat = (np.maximum(last, 0) + rows).ravel()
    # Where no event was seen yet, index 0 holds a HOLD, so the gathered side is already 0.
    out_side = side.ravel().take(flat).reshape(side.shape).astype(np.int8)
    out_conf = np.where(last >= 0, confidence.ravel().take(flat).reshape(side.shape), 0.0)
    return out_side, out_conf


@dataclass(frozen=True)
class EnsembleArrays:
    """Per-bar result of `EnsembleManager.combine`."""

    decision: np.ndarray  # int8 (n,): -1 SELL, 0 HOLD, 1 BUY
    confidence: np.ndarray  # float64 (n,), 0 where HOLD
    buy_votes: np.ndarray  # int32 (n,)
    sell_votes: np.ndarray
    hold_votes: np.ndarray
    buy_weight: np.ndarray  # float64 (n,)
    sell_weight: np.ndarray
    total_weight: float | np.ndarray  # per bar when bar_weights were given


@dataclass(frozen=True)
class EnsembleDecision:
    """One bar's decision with everything needed to explain it later."""

    symbol: str
    ts: datetime | None
    decision: Side
    contributors: tuple[str, ...]
    vote_counts: Mapping[str, int]
    total_weight: float
    confidence: float
    mode: EnsembleMode
    weights: Mapping[str, float]
    reason: str = ""

    def to_payload(self) -> dict[str, Any]:
        """A JSON-serialisable dict for the journal and the audit chain."""
        return {
            "symbol": self.symbol,
            "ts": None if self.ts is None else self.ts.isoformat(),
            "decision": self.decision.name,
            "contributors": list(self.contributors),
            "vote_counts": dict(self.vote_counts),
            "total_weight": self.total_weight,
            "confidence": self.confidence,
            "mode": self.mode.value,
            "weights": dict(self.weights),
            "reason": self.reason,
        }


class EnsembleManager:
    def __init__(
        self,
        mode: EnsembleMode | str,
        strategies: Sequence[tuple[str, float]],
        confidence_threshold: float = 0.5,
        vote_ratio: float = 0.5,
        dynamic_weights: bool = False,
        performance_window: int = 50,
        min_trades: int = 5,
        lifecycle=None,
    ) -> None:
        try:
            self.mode = EnsembleMode(mode)
        except ValueError:
            known = ", ".join(m.value for m in EnsembleMode)
            raise ValueError(f"unknown ensemble mode {mode!r}; expected one of {known}") from None
        if not strategies:
            raise ValueError("the ensemble needs at least one strategy")
        ids = [sid for sid, _ in strategies]
        dupes = sorted({sid for sid in ids if ids.count(sid) > 1})
        if dupes:
            raise ValueError(f"strategy ids listed more than once: {', '.join(dupes)}")
        for sid, w in strategies:
            if not (isinstance(w, int | float) and math.isfinite(w) and w > 0):
                raise ValueError(f"strategy {sid!r}: weight must be a positive number, got {w!r}")
        if not 0.0 <= confidence_threshold <= 1.0:
            raise ValueError(f"confidence_threshold must be in [0, 1], got {confidence_threshold}")
        if not 0.0 < vote_ratio <= 1.0:
            raise ValueError(f"vote_ratio must be in (0, 1], got {vote_ratio}")
        if performance_window < 1 or min_trades < 1:
            raise ValueError("performance_window and min_trades must be at least 1")
        self.ids: tuple[str, ...] = tuple(ids)
        self._known_ids = frozenset(self.ids)
        self.base_weights: dict[str, float] = {sid: float(w) for sid, w in strategies}
        self.confidence_threshold = float(confidence_threshold)
        self.vote_ratio = float(vote_ratio)
        self.dynamic_weights = dynamic_weights
        self.performance_window = performance_window
        self.min_trades = min_trades
        self._trades = {sid: deque(maxlen=performance_window) for sid in self.ids}
        self._multipliers: dict[str, float | None] = dict.fromkeys(self.ids)
        self.lifecycle = lifecycle  # engine.lifecycle.book.LifecycleBook or None
        # engine.optimize.policy.QPolicy when [ensemble] weights = "qlearn": it sets the
        # weights bar by bar (engine.signals.weighting.bar_weights, the live SymbolState).
        self.policy = None

    # ----- weights -------------------------------------------------------------------

    def record_trade(self, strategy_id: str, return_pct: float, ts: datetime | None = None,
                     regime: str | None = None, side: int = 1) -> None:
        """Remember a closed trade's return (a fraction, 0.02 = +2%) for dynamic weights
        and the lifecycle (closed at `ts` in `regime`, held `side`: +1 long, -1 short)."""
        self._check_known([strategy_id])
        if not math.isfinite(return_pct):
            raise ValueError(f"trade return must be finite, got {return_pct}")
        if self.lifecycle is not None:
            self.lifecycle.record(strategy_id, float(return_pct), ts, regime, side)
        trades = self._trades[strategy_id]
        trades.append(float(return_pct))
        # Cached per strategy: a backtest re-weights after every virtual trade.
        self._multipliers[strategy_id] = (
            performance_multiplier(trades) if len(trades) >= self.min_trades else None)

    def weights(self, regime: str | None = None) -> dict[str, float]:
        """Current weight per strategy in `regime`: static, re-weighted or adaptive, times
        the lifecycle's status factor (module doc)."""
        book = self.lifecycle
        if book is not None and book.active:
            if book.adaptive.enabled:
                return book.weights(regime)
            factors = book.weights(regime)  # base x status factor
            return {sid: w * factors[sid] / self.base_weights[sid]
                    for sid, w in self._legacy_weights().items()}
        return self._legacy_weights()

    def _legacy_weights(self) -> dict[str, float]:
        if not self.dynamic_weights:
            return dict(self.base_weights)
        raw = {
            sid: self.base_weights[sid] * multiplier
            for sid, multiplier in self._multipliers.items()
            if multiplier is not None
        }
        out = dict(self.base_weights)
        if raw:
            share = sum(self.base_weights[sid] for sid in raw) / sum(raw.values())
            out.update({sid: w * share for sid, w in raw.items()})
        return out

    # ----- vectorised, for backtests -----------------------------------------------

    def combine(
        self,
        sides: np.ndarray,
        confs: np.ndarray,
        weights: Mapping[str, float] | None = None,
        bar_weights: np.ndarray | None = None,
    ) -> EnsembleArrays:
        """Decide every bar at once from stances `sides` (S, n) int and `confs` (S, n).

        Rows follow the order of the strategies given at construction. `bar_weights`
        (S, n), positive, gives each strategy a weight per bar (dynamic weights, regime
        tilts); bar t then decides exactly as `decide` does with that column's weights.
        """
        sides = np.asarray(sides)
        confs = np.asarray(confs, dtype=np.float64)
        n_strats = len(self.ids)
        if sides.ndim != 2 or sides.shape[0] != n_strats or confs.shape != sides.shape:
            raise ValueError(
                f"sides and confs must both be ({n_strats}, n) for strategies {self.ids}; "
                f"got {sides.shape} and {confs.shape}"
            )
        if not np.all((sides >= -1) & (sides <= 1)):
            raise ValueError("sides must hold -1 (SELL), 0 (HOLD) or 1 (BUY)")
        _check_confidences(confs)
        if bar_weights is None:
            w = self._weights_vector(weights)
            total = _total(w)
        else:
            w = np.asarray(bar_weights, dtype=np.float64)
            if w.shape != sides.shape or not np.all(np.isfinite(w) & (w >= 0)):
                raise ValueError(f"bar_weights must be >= 0 and shaped {sides.shape}")
            total = np.zeros(sides.shape[1])
            for row in w:  # left to right, as `_total` sums for `decide`
                total = total + row
        n = sides.shape[1]
        # A strategy weighted 0 (suspended) does not vote: its stance counts as HOLD.
        voting = (w > 0) if np.ndim(w) == 2 else (w > 0)[:, None]
        sides = np.where(voting, sides, 0)
        voters = voting.sum(axis=0) if np.ndim(w) == 2 else np.full(n, int(voting.sum()))
        buy_votes = np.zeros(n, dtype=np.int32)
        sell_votes = np.zeros(n, dtype=np.int32)
        buy_w, sell_w = np.zeros(n), np.zeros(n)
        buy_c, sell_c = np.zeros(n), np.zeros(n)  # summed confidence (weighted if weighted)
        score = np.zeros(n)
        weighted = self.mode is EnsembleMode.WEIGHTED_VOTE
        # One pass per strategy, in order, so sums match `decide` to the last bit.
        for i in range(n_strats):
            is_buy, is_sell = sides[i] == 1, sides[i] == -1
            buy_votes += is_buy
            sell_votes += is_sell
            buy_w += np.where(is_buy, w[i], 0.0)
            sell_w += np.where(is_sell, w[i], 0.0)
            c = confs[i] * w[i] if weighted else confs[i]
            buy_c += np.where(is_buy, c, 0.0)
            sell_c += np.where(is_sell, c, 0.0)
            score += w[i] * confs[i] * sides[i]
        hold_votes = (n_strats - buy_votes - sell_votes).astype(np.int32)

        if self.mode is EnsembleMode.CONFIDENCE_AVERAGE:
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(total > 0, score / total, 0.0)
            buy = (score > 0) & (score >= self.confidence_threshold)
            sell = (score < 0) & (-score >= self.confidence_threshold)
            conf = np.abs(score)
        else:
            if weighted:
                b, s, need = buy_w, sell_w, self.vote_ratio * total
            else:
                b, s, need = buy_votes, sell_votes, self.vote_ratio * voters
            buy, sell = (b > s) & (b >= need), (s > b) & (s >= need)
            with np.errstate(divide="ignore", invalid="ignore"):
                conf = np.where(buy, buy_c / b, np.where(sell, sell_c / s, 0.0))
            buy &= conf >= self.confidence_threshold
            sell &= conf >= self.confidence_threshold
        decision = (buy.astype(np.int8) - sell.astype(np.int8)).astype(np.int8)
        return EnsembleArrays(
            decision=decision,
            confidence=np.where(decision != 0, conf, 0.0),
            buy_votes=buy_votes,
            sell_votes=sell_votes,
            hold_votes=hold_votes,
            buy_weight=buy_w,
            sell_weight=sell_w,
            total_weight=total,
        )

    # ----- per bar, for live use ---------------------------------------------------

    def decide(
        self,
        symbol: str,
        ts: datetime | None,
        signals: Mapping[str, tuple[Side, float]],
        weights: Mapping[str, float] | None = None,
    ) -> EnsembleDecision:
        """Decide one bar from the strategies' stances; a strategy left out counts as HOLD.
        `weights` overrides the manager's own for this bar (a regime tilt)."""
        self._check_known(signals)
        weights = self.weights() if weights is None else dict(weights)
        stances = []
        for sid in self.ids:
            side, conf = signals.get(sid, (Side.HOLD, 0.0))
            if type(side) is not Side:  # an int from an array; a Side needs no enum call
                side = Side(side)
            if not (0.0 <= conf <= 1.0):
                raise ValueError(f"strategy {sid!r}: confidence must be in [0, 1], got {conf}")
            if not weights[sid] > 0:  # suspended: no vote
                side = Side.HOLD
            stances.append((sid, side, float(conf)))
        total = _total([weights[sid] for sid in self.ids])
        counts = {"buy": 0, "sell": 0, "hold": 0}
        for _, side, _ in stances:
            counts[_WORD[side]] += 1
        decision, conf, reason = self._vote(stances, weights, total, counts)
        contributors = tuple(sid for sid, side, _ in stances if side is decision)
        return EnsembleDecision(
            symbol=symbol,
            ts=ts,
            decision=decision,
            contributors=contributors if decision is not Side.HOLD else (),
            vote_counts=counts,
            total_weight=total,
            confidence=conf if decision is not Side.HOLD else 0.0,
            mode=self.mode,
            weights=weights,
            reason=reason,
        )

    def _vote(
        self,
        stances: list[tuple[str, Side, float]],
        weights: Mapping[str, float],
        total: float,
        counts: Mapping[str, int],
    ) -> tuple[Side, float, str]:
        threshold = self.confidence_threshold
        if self.mode is EnsembleMode.CONFIDENCE_AVERAGE:
            score = 0.0
            for sid, side, conf in stances:
                score += weights[sid] * conf * int(side)
            score = score / total if total > 0 else 0.0
            side = Side.BUY if score > 0 else Side.SELL if score < 0 else Side.HOLD
            if side is Side.HOLD or abs(score) < threshold:
                return Side.HOLD, 0.0, f"hold: score {score:+.3f} within ±{threshold:.2f}"
            return side, abs(score), f"{_WORD[side]}: score {score:+.3f}"

        weighted = self.mode is EnsembleMode.WEIGHTED_VOTE
        tally = {Side.BUY: 0.0, Side.SELL: 0.0}
        conf_sum = {Side.BUY: 0.0, Side.SELL: 0.0}
        for sid, side, conf in stances:
            if side is Side.HOLD:
                continue
            tally[side] += weights[sid] if weighted else 1
            conf_sum[side] += conf * weights[sid] if weighted else conf
        pool = total if weighted else sum(1 for sid, _, _ in stances if weights[sid] > 0)
        need = self.vote_ratio * pool
        unit = "weight" if weighted else "votes"
        buy, sell = tally[Side.BUY], tally[Side.SELL]
        if buy > sell and buy >= need:
            side = Side.BUY
        elif sell > buy and sell >= need:
            side = Side.SELL
        elif buy == sell and buy > 0:
            return Side.HOLD, 0.0, f"hold: buy and sell tied at {buy:g} {unit}"
        else:
            return Side.HOLD, 0.0, (
                f"hold: no side reached {need:g} {unit} (buy {buy:g}, sell {sell:g})"
            )
        conf = conf_sum[side] / tally[side]
        name = _WORD[side]
        if conf < threshold:
            return Side.HOLD, 0.0, f"hold: {name} confidence {conf:.3f} < {threshold:.2f}"
        return side, conf, f"{name}: {tally[side]:g} of {pool:g} {unit}, confidence {conf:.3f}"

    # ----- helpers -------------------------------------------------------------------

    def _weights_vector(self, weights: Mapping[str, float] | None) -> np.ndarray:
        current = self.weights() if weights is None else dict(weights)
        missing = [sid for sid in self.ids if sid not in current]
        if missing:
            raise ValueError(f"weights missing for strategies: {', '.join(missing)}")
        self._check_known(current)
        w = np.array([current[sid] for sid in self.ids], dtype=np.float64)
        if not np.all(np.isfinite(w) & (w >= 0)):
            raise ValueError(f"weights must be numbers >= 0, got {current}")
        return w

    def _check_known(self, ids: Sequence[str] | Mapping[str, object]) -> None:
        if self._known_ids.issuperset(ids):  # the common case, once per decided bar
            return
        unknown = sorted(set(ids) - set(self.ids))
        if unknown:
            raise ValueError(
                f"unknown strategy ids {', '.join(map(repr, unknown))}; "
                f"the ensemble has {', '.join(self.ids)}"
            )


def performance_multiplier(returns: Sequence[float]) -> float:
    """Weight multiplier in [0.1, 2] from a strategy's trade returns (module doc)."""
    r = np.asarray(returns, dtype=np.float64)
    mean = float(r.mean())
    std = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    sharpe = mean / std if std > 0 else float(np.sign(mean))
    sharpe_term = min(1.0, max(-1.0, sharpe))
    win_term = 2.0 * float(np.mean(r > 0)) - 1.0
    profit, loss = float(r[r > 0].sum()), float(-r[r < 0].sum())
    if profit == 0.0 and loss == 0.0:
        pf_term = 0.0
    elif loss == 0.0:
        pf_term = 1.0
    elif profit == 0.0:
        pf_term = -1.0
    else:
        pf_term = min(1.0, max(-1.0, math.log(profit / loss) / math.log(3.0)))
    quality = (sharpe_term + win_term + pf_term) / 3.0
    return max(0.1, 1.0 + quality)


# A side as a word ("buy"), its key in `vote_counts`: a dict lookup, where
# `side.name.lower()` goes through the enum's property on every vote of every decided bar.
_WORD = {side: side.name.lower() for side in Side}


def _total(weights: Sequence[float] | np.ndarray) -> float:
    # Summed left to right in plain floats so `combine` and `decide` agree exactly.
    total = 0.0
    for w in weights:
        total += float(w)
    return total


def _check_confidences(confs: np.ndarray) -> None:
    if not np.all((confs >= 0.0) & (confs <= 1.0)):
        raise ValueError("confidences must be in [0, 1] (and not NaN)")
