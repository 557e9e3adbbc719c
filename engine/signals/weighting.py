"""Per-bar strategy weights for the ensemble: performance-based (dynamic) weights and the
regime tilt toward mean reversion in sideways markets.

Dynamic weights are walked forward: each strategy's *virtual trades* — holding its stance
from the close where it turns to the close where it turns again — are recorded when they
close, and the weights at bar t use the trades closed at or before t (the live engine
records a trade at the close it ends on, then decides). Each symbol keeps its own trade
history, in backtests and live alike.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from engine.signals.regime import adapt

# Strategies that buy weakness and sell strength: favoured when the regime is sideways.
MEAN_REVERTING = frozenset({"mean_reversion", "rsi"})
SIDEWAYS_TILT = 2.0


def tilt(strategy_id: str, regime: str) -> float:
    """The regime's multiplier on a strategy's weight."""
    if regime in ("bull", "bear", "sideways") and adapt(regime).prefers_mean_reversion:
        return SIDEWAYS_TILT if strategy_id in MEAN_REVERTING else 1.0
    return 1.0


def virtual_trade_return(side: int, entry_close: float, exit_close: float) -> float:
    """The return of holding a stance from one close to another."""
    return side * (exit_close / entry_close - 1.0)


def per_symbol(ensemble):
    """A copy of the manager with no trade history: each symbol learns its own weights."""
    return copy.deepcopy(ensemble)


def bar_weights(
    ensemble, ids: Sequence[str], sides: np.ndarray, close: np.ndarray,
    regime: np.ndarray | None, regime_labels: Sequence[str],
) -> np.ndarray | None:
    """(S, n) weights for `ensemble.combine`, or None when they never change (static
    weights and no sideways bars): then `combine` uses the static ones."""
    n = sides.shape[1]
    tilted = None
    if regime is not None:
        favoured = [i for i, label in enumerate(regime_labels)
                    if adapt(label).prefers_mean_reversion]
        sideways = np.isin(regime, favoured)
        if sideways.any():
            row = np.where(sideways, SIDEWAYS_TILT, 1.0)
            tilted = np.vstack([row if sid in MEAN_REVERTING else np.ones(n) for sid in ids])
    dynamic = _walk_forward(per_symbol(ensemble), ids, sides, close) \
        if ensemble.dynamic_weights else None
    if dynamic is None and tilted is None:
        return None
    weights = dynamic if dynamic is not None else np.tile(
        np.array([ensemble.base_weights[sid] for sid in ids])[:, None], (1, n))
    return weights * tilted if tilted is not None else weights


def virtual_trades(sides: np.ndarray, close: np.ndarray) -> list[tuple[int, int, float]]:
    """Every closed virtual trade as (bar it closed on, strategy row, return), in time
    order (strategy order within a bar, as the live engine records them)."""
    closes: list[tuple[int, int, float]] = []
    for row, side in enumerate(sides):
        changes = np.flatnonzero(np.diff(side) != 0) + 1
        entries = [t for t in changes if side[t] != 0]
        for entry, exit_ in zip(entries, entries[1:], strict=False):
            closes.append((int(exit_), row, virtual_trade_return(int(side[entry]), close[entry],
                                                                 close[exit_])))
    closes.sort()
    return closes


def _walk_forward(manager, ids: Sequence[str], sides: np.ndarray,
                  close: np.ndarray) -> np.ndarray:
    """Weights per bar from the virtual trades closed so far (the manager learns as it
    goes: it must be a fresh per-symbol copy)."""
    n = sides.shape[1]
    closes = virtual_trades(sides, close)
    out = np.empty((len(ids), n))
    start = 0
    def current() -> np.ndarray:
        weights = manager.weights()
        return np.array([weights[sid] for sid in ids])

    now = current()
    for bar, row, value in closes:
        out[:, start:bar] = now[:, None]
        manager.record_trade(ids[row], value)
        now = current()
        start = bar
    out[:, start:] = now[:, None]
    return out
