"""Per-bar strategy weights for the ensemble: performance-based (dynamic) weights and the
regime tilt toward mean reversion in sideways markets.

Dynamic weights are walked forward: each strategy's *virtual trades* — holding its stance
from the close where it turns to the close where it turns again — are recorded when they
close, and the weights at bar t use the trades closed at or before t (the live engine
records a trade at the close it ends on, then decides). Each symbol keeps its own trade
history, in backtests and live alike.

The lifecycle (engine.lifecycle.book: bounded adaptive weights, health and retirement) is
walked forward the same way: each virtual trade is recorded with its close's time and
regime, and with per-regime weights bar t takes the weights of its own regime.
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


def per_symbol(ensemble, symbol: str = ""):
    """A copy of the manager with no trade history: each symbol learns its own weights
    (its lifecycle book is named after `symbol`; the log of entries stays shared)."""
    copied = copy.deepcopy(ensemble)
    if getattr(copied, "lifecycle", None) is not None:
        copied.lifecycle.symbol = symbol
    return copied


def _learns(ensemble) -> bool:
    book = getattr(ensemble, "lifecycle", None)
    return bool(ensemble.dynamic_weights or (book is not None and book.active))


def bar_weights(
    ensemble, ids: Sequence[str], sides: np.ndarray, close: np.ndarray,
    regime: np.ndarray | None, regime_labels: Sequence[str], times=None, symbol: str = "",
) -> np.ndarray | None:
    """(S, n) weights for `ensemble.combine`, or None when they never change (static
    weights and no sideways bars): then `combine` uses the static ones."""
    if getattr(ensemble, "policy", None) is not None:
        return policy_bar_weights(ensemble, ids, sides, close, regime, regime_labels, times,
                                  symbol)
    n = sides.shape[1]
    tilted = None
    if regime is not None:
        favoured = [i for i, label in enumerate(regime_labels)
                    if adapt(label).prefers_mean_reversion]
        sideways = np.isin(regime, favoured)
        if sideways.any():
            row = np.where(sideways, SIDEWAYS_TILT, 1.0)
            tilted = np.vstack([row if sid in MEAN_REVERTING else np.ones(n) for sid in ids])
    dynamic = _walk_forward(per_symbol(ensemble, symbol), ids, sides, close, regime,
                            regime_labels, times) if _learns(ensemble) else None
    if dynamic is None and tilted is None:
        return None
    weights = dynamic if dynamic is not None else np.tile(
        np.array([ensemble.base_weights[sid] for sid in ids])[:, None], (1, n))
    return weights * tilted if tilted is not None else weights


def policy_bar_weights(
    ensemble, ids: Sequence[str], sides: np.ndarray, close: np.ndarray,
    regime: np.ndarray | None, regime_labels: Sequence[str], times=None, symbol: str = "",
) -> np.ndarray:
    """[ensemble] weights = "qlearn" (engine.optimize.policy): the weights of each bar's
    state under the policy, times each strategy's lifecycle status factor walked forward as
    above. No regime tilt: the policy's state holds the regime already."""
    policy = ensemble.policy
    if tuple(ids) != policy.ids:
        raise ValueError(f"the policy weights {policy.ids}, the frame's strategies are {ids}")
    weights = policy.bar_weights(policy.bar_states(close, regime, symbol))
    if _learns(ensemble):  # retirement: the book's weights are base x status factor
        walked = _walk_forward(per_symbol(ensemble, symbol), ids, sides, close, regime,
                               regime_labels, times)
        base = np.array([ensemble.base_weights[sid] for sid in ids])[:, None]
        weights = weights * (walked / base)
    return weights


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


def _walk_forward(manager, ids: Sequence[str], sides: np.ndarray, close: np.ndarray,
                  regime: np.ndarray | None = None, regime_labels: Sequence[str] = (),
                  times=None) -> np.ndarray:
    """Weights per bar from the virtual trades closed so far (the manager learns as it
    goes: it must be a fresh per-symbol copy). `regime` (label index per bar, -1 unknown)
    and `times` (a DatetimeIndex) date and place each trade for the lifecycle."""
    n = sides.shape[1]
    closes = virtual_trades(sides, close)
    out = np.empty((len(ids), n))
    labels = [*regime_labels, "unknown"]  # index -1 reads "unknown"
    book = getattr(manager, "lifecycle", None)
    per_regime = book is not None and book.adaptive.enabled and book.adaptive.per_regime

    def label(t: int) -> str:
        return labels[int(regime[t])] if regime is not None else "unknown"

    def fill(lo: int, hi: int) -> None:
        if lo >= hi:
            return
        if not per_regime:
            weights = manager.weights()
            out[:, lo:hi] = np.array([weights[sid] for sid in ids])[:, None]
            return
        span = regime[lo:hi] if regime is not None else np.full(hi - lo, -1)
        for code in np.unique(span):
            weights = manager.weights(labels[int(code)])
            mask = np.flatnonzero(span == code) + lo
            out[:, mask] = np.array([weights[sid] for sid in ids])[:, None]

    start = 0
    for bar, row, value in closes:
        fill(start, bar)
        ts = None if times is None else times[bar].to_pydatetime()
        manager.record_trade(ids[row], value, ts=ts, regime=label(bar),
                             side=int(sides[row, bar - 1]))  # the stance it held
        start = bar
    fill(start, n)
    return out
