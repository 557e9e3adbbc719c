"""Verdicts: what each filter says about one decision, and the rule that drops it.

A filter judges entries: every BUY, and a SELL only when shorts are allowed (otherwise a
SELL only closes a long, and an exit is never blocked). For a judged decision:

    direction   vetoes a BUY predicted "down" (a SELL predicted "up") with probability
                >= threshold
    volatility  with block_high_volatility, vetoes while the forecast is "high" with
                P(high) >= threshold
    volume      with require_surge, vetoes unless a surge is seen (z-score rule) or
                predicted with probability >= threshold (classifier)

threshold = max([filters] confidence_threshold, the model's confidence_threshold). A filter
with no model yet (warm-up, before the first walk-forward fit) passes. Verdicts never
raise a decision's size or confidence: a decision passes unchanged or is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.signals.filters.predict import FilterPredictions
from engine.signals.filters.target import CLASS_NAMES, DOWN, UP


@dataclass(frozen=True, slots=True)
class Verdict:
    filter: str
    model: str
    prediction: str
    probability: float
    threshold: float
    veto: bool

    def as_dict(self) -> dict:
        return {"filter": self.filter, "model": self.model, "prediction": self.prediction,
                "probability": round(self.probability, 6), "threshold": self.threshold,
                "verdict": "veto" if self.veto else "pass"}


@dataclass(frozen=True, slots=True)
class FilterRules:
    floor: float  # [filters] confidence_threshold
    allow_short: bool
    thresholds: dict  # filter name -> its own confidence_threshold
    block_high_volatility: bool
    require_surge: bool

    @classmethod
    def from_config(cls, filters, allow_short: bool) -> FilterRules:
        return cls(
            floor=filters.confidence_threshold, allow_short=allow_short,
            thresholds={"direction": filters.direction.confidence_threshold,
                        "volatility": filters.volatility.confidence_threshold,
                        "volume": filters.volume.confidence_threshold},
            block_high_volatility=filters.volatility.block_high_volatility,
            require_surge=filters.volume.require_surge,
        )

    def judged(self, side: int) -> bool:
        return side == UP or (side == DOWN and self.allow_short)


def judge(predictions: list[FilterPredictions], rules: FilterRules, t: int,
          side: int) -> list[Verdict]:
    """Each filter's verdict on a decision `side` (+1 BUY, -1 SELL) at bar t's close."""
    out = []
    judged = rules.judged(side)
    for p in predictions:
        threshold = max(rules.floor, rules.thresholds[p.name])
        known = bool(p.known[t])
        prob = float(p.probability[t]) if known else 0.0
        if p.name == "direction":
            cls = int(p.value[t]) if known else None
            shown = CLASS_NAMES[cls] if cls is not None else "none"
            veto = judged and known and cls == -side and prob >= threshold
        elif p.name == "volatility":
            shown = (f"{'high' if p.flag[t] else 'low'} {float(p.value[t]):.4%}" if known
                     else "none")
            veto = (judged and rules.block_high_volatility and known and bool(p.flag[t])
                    and prob >= threshold)
        else:
            surge = known and bool(p.flag[t]) and prob >= threshold
            shown = ("surge" if surge else "no surge") if known else "none"
            if p.model == "zscore" and known:
                shown += f" z {float(p.value[t]):.2f}"
            veto = judged and rules.require_surge and not surge
        out.append(Verdict(p.name, p.model, shown, prob, threshold, bool(veto)))
    return out
