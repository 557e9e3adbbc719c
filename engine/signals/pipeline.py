"""From bars to decisions, vectorized over a whole frame: strategies, ensemble, regime.

A backtest runs this once per symbol; the event loop then visits only the bars where a
decision changes. The live engine asks the same strategies and the same ensemble bar by
bar (`Strategy.latest`, `EnsembleManager.decide`), and a test holds the two to the same
answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.signals.regime import adapt
from engine.signals.regime.labels import LABELS
from engine.signals.regime.policy import DEFAULT_REFIT_EVERY, RegimePolicy
from engine.signals.strategies.base import SignalArrays, Strategy, stance
from engine.signals.weighting import bar_weights


@dataclass(frozen=True, slots=True)
class SymbolPlan:
    """Per-bar arrays for one symbol."""

    decision: np.ndarray  # int8 stance of the ensemble (or the single strategy)
    confidence: np.ndarray  # float64
    strategy_stances: dict[str, SignalArrays]  # each strategy's latest BUY/SELL, held
    regime: np.ndarray  # int8 index into regime.labels.LABELS, -1 before the model is fitted
    size_multiplier: np.ndarray  # float64
    stop_atr: np.ndarray  # float64: stop width in ATR multiples, NaN = no stop
    atr: np.ndarray  # float64
    close: np.ndarray  # float64
    weights: np.ndarray | None = None  # (S, n) ensemble weights per bar, None if static
    regime_model: object | None = None  # the RegimeRun (every fit, per-bar P(label))
    # Filters + quality (engine.signals.filters.layer): bar of an ensemble change -> its
    # verdicts and quality score, and per-filter veto / pass counts. None when off.
    verdicts: dict | None = None
    filter_counts: dict | None = None

    def decision_changes(self) -> np.ndarray:
        """Bars where the decision becomes a new non-HOLD side."""
        d = self.decision
        prev = np.concatenate(([0], d[:-1]))
        return np.flatnonzero((d != prev) & (d != 0))


def plan_symbol(
    frame,
    strategies: Mapping[str, Strategy],
    ensemble=None,
    *,
    regime_window: int | None = 500,
    regime_states: int = 3,
    regime_refit_every: int = DEFAULT_REFIT_EVERY,
    layer=None,
    symbol: str = "",
) -> SymbolPlan:
    """Compute every strategy over `frame`, combine them, and label regimes causally.

    Regimes follow `engine.signals.regime.policy`: a fit every `regime_refit_every` bars on the
    trailing `regime_window` returns, the live desk's rule; no bar's label uses later data
    and bars before the first fit carry no regime (-1).

    `layer` (engine.signals.filters.layer.SignalLayer), when active, then vetoes or scales
    each decision after the ensemble and before sizing: the filters' models and the
    quality score see only bars up to the decision's.
    """
    from engine.signals.indicators import ATR_PERIOD, atr

    high = frame["high"].to_numpy()
    low = frame["low"].to_numpy()
    close = frame["close"].to_numpy()
    atr_values = atr(high, low, close, ATR_PERIOD)
    n = len(close)
    regime = np.full(n, -1, dtype=np.int8)
    # Without a regime model both are one number for every bar: read-only views of it, not
    # 16 bytes a bar (160 MB over 10M bars).
    size_multiplier = np.broadcast_to(np.float64(1.0), (n,))
    stop_atr = np.broadcast_to(np.float64(np.nan), (n,))
    model = None
    if regime_window and n > regime_window:
        policy = RegimePolicy(regime_window, regime_refit_every, regime_states)
        model = policy.run(close)
        regime = model.labels
        size_multiplier, stop_atr = np.ones(n), np.full(n, np.nan)
        for index, label in enumerate(LABELS):
            params = adapt(label)
            mask = regime == index
            size_multiplier[mask] = params.size_multiplier
            stop_atr[mask] = params.stop_atr

    stances = {sid: stance(s.compute(frame)) for sid, s in strategies.items()}
    weights = None
    if ensemble is None or len(stances) == 1:
        only = next(iter(stances.values()))
        decision, confidence = only.side, only.confidence
    else:
        sides = np.vstack([s.side for s in stances.values()])
        weights = bar_weights(ensemble, list(stances), sides, close,
                              regime if model is not None else None, LABELS,
                              times=frame.index,
                              symbol=symbol or str(frame.attrs.get("symbol", "")))
        combined = ensemble.combine(sides, np.vstack([s.confidence for s in stances.values()]),
                                    bar_weights=weights)
        decision, confidence = combined.decision, combined.confidence
    decision = np.asarray(decision, dtype=np.int8)
    confidence = np.asarray(confidence, dtype=np.float64)
    verdicts = counts = None
    if layer is not None and layer.active:
        from engine.signals.filters.features import Bars

        if weights is not None:
            bar_w = weights
        elif ensemble is not None and len(stances) > 1:
            static = ensemble.weights()
            bar_w = np.repeat(np.array([[static[sid]] for sid in stances]), n, axis=1)
        else:
            bar_w = np.ones((len(stances), n))
        applied = layer.apply(
            symbol, Bars.of(frame), decision=decision, confidence=confidence,
            size_multiplier=size_multiplier,
            stances={sid: s.side for sid, s in stances.items()}, weights=bar_w,
            regime=regime, regime_probs=None if model is None else model.probabilities)
        decision, confidence = applied.decision, applied.confidence
        size_multiplier = applied.size_multiplier
        verdicts, counts = applied.records, applied.counts
    return SymbolPlan(
        decision=decision,
        confidence=confidence,
        strategy_stances=stances,
        regime=regime,
        size_multiplier=size_multiplier,
        stop_atr=stop_atr,
        atr=atr_values,
        close=close,
        weights=weights,
        regime_model=model,
        verdicts=verdicts,
        filter_counts=counts,
    )
