"""A stored Q-learning policy as the ensemble's weights (`[ensemble] weights = "qlearn"`).

At every bar the policy reads the bar's market state, computed exactly as the training
computed it (`market_states`: the regime label the desk trades on, the trend and the
volatility of the bars up to and including this one, bucketed by the edges the training
fitted), and its greedy action becomes the weights:

- a strategy action weights that strategy alone, "equal" every strategy alike (the
  action's vector, scaled so the weights keep the base total);
- a state the training never visited has no learnt preference: the base weights;
- with the lifecycle's bounds on ([ensemble.adaptive] enabled), the vector is moved to the
  closest weights (least squares) within [min_mult, max_mult] x base that keep the base
  total, the adaptive weights' own rule (`engine.lifecycle.adaptive.project`);
- the lifecycle's status factor then applies (DEGRADED halves, SUSPENDED and RETIRED 0).

The backtest asks `bar_states` over a whole frame, the live desk `state_at` over its bar
window at each bar; both read each bar's own trailing window of closes (the indicators
reduce each window on its own), so they give the same state bar for bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import ConfigError
from engine.optimize import market_states as ms


@dataclass(frozen=True)
class QPolicy:
    run_id: int
    ids: tuple[str, ...]  # the strategies, in the ensemble's order
    actions: tuple[str, ...]
    vectors: np.ndarray  # (actions, strategies): each action's weight vector, sums to 1
    greedy: np.ndarray  # (N_STATES,) action index per state, -1 where never visited
    edges: ms.StateEdges  # for symbols the training did not see
    symbol_edges: Mapping[str, ms.StateEdges]
    trend_period: int
    vol_period: int
    base: Mapping[str, float]
    bounds: tuple[float, float] | None = None  # (min_mult, max_mult), or None: unbounded
    _cache: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, compare=False,
                                                      repr=False)

    @property
    def lookback(self) -> int:
        """Closes a bar's state reads: its own and the ones before it."""
        return max(self.trend_period, self.vol_period + 1)

    def edges_for(self, symbol: str) -> ms.StateEdges:
        return self.symbol_edges.get(symbol, self.edges)

    def bar_states(self, close: np.ndarray, regime: np.ndarray | None,
                   symbol: str = "") -> np.ndarray:
        """State index of every bar of a frame (`regime`: label index per bar, -1 before the
        first fit; None when the desk runs without regimes)."""
        trend, vol = ms.features(np.asarray(close, dtype=np.float64), self.trend_period,
                                 self.vol_period)
        labels = np.full(len(close), -1) if regime is None else regime
        return ms.encode(labels, trend, vol, self.edges_for(symbol))

    def state_at(self, closes: np.ndarray, regime_index: int, symbol: str = "") -> int:
        """The state of the last of `closes` (the live bar window, oldest first)."""
        tail = np.asarray(closes, dtype=np.float64)[-self.lookback:]
        trend, vol = ms.features(tail, self.trend_period, self.vol_period)
        return int(ms.encode(np.array([regime_index]), trend[-1:], vol[-1:],
                             self.edges_for(symbol))[0])

    def action_of(self, state: int) -> int:
        """The greedy action of `state`, -1 for a state the training never visited."""
        return int(self.greedy[int(state)])

    def weights_of(self, action: int) -> np.ndarray:
        """The weights (one per strategy, ensemble order) action `action` sets (-1: none)."""
        key = ("w", int(action))
        held = self._cache.get(key)
        if held is not None:
            return held
        base = np.array([self.base[sid] for sid in self.ids], dtype=np.float64)
        total = float(base.sum())
        proposal = base if action < 0 else self.vectors[action] * total
        if self.bounds is not None and action >= 0:
            from engine.lifecycle.adaptive import project

            lo, hi = self.bounds
            proposal = np.array(project(list(proposal), list(lo * base), list(hi * base),
                                        total))
        self._cache[key] = proposal
        return proposal

    def bar_weights(self, states: np.ndarray) -> np.ndarray:
        """(strategies, bars) weights of a run of states."""
        out = np.empty((len(self.ids), len(states)))
        actions = self.greedy[np.asarray(states, dtype=np.int64)]
        for action in np.unique(actions):
            out[:, actions == action] = self.weights_of(int(action))[:, None]
        return out


# The regime model's settings: the state's regime means what it meant in training only
# if the desk labels regimes the same way.
REGIME_KEYS = ("regime", "regime_states", "regime_window", "regime_refit_every")


def policy_from_run(run: Mapping[str, Any], ids: Sequence[str], base: Mapping[str, float],
                    bounds: tuple[float, float] | None,
                    engine: Mapping[str, Any] | None = None) -> QPolicy:
    """The policy stored with optimization run `run` (as `load_run` returns it) for an
    ensemble of `ids` on a desk whose [engine] settings are `engine`; a one-line
    ConfigError naming [ensemble] qlearn_run if it cannot drive them."""
    where = f"[ensemble] qlearn_run = {run['id']}"
    if run["method"] != "qlearn":
        raise ConfigError(f"{where}: that run is a {run['method']} run, not a qlearn run")
    stored = (run.get("result") or {}).get("policy")
    if run["status"] != "finished" or not stored:
        raise ConfigError(f"{where}: the run is {run['status']} and holds no policy "
                          "(finish it with desk optimize --resume)")
    actions = tuple(stored["actions"])
    trained = tuple(stored.get("strategies") or [a for a in actions if a != "equal"])
    if sorted(trained) != sorted(ids):
        raise ConfigError(f"{where}: the policy weights {', '.join(trained)}; the ensemble "
                          f"has {', '.join(ids)}")
    trained_engine = run["config"]["engine"]
    for key in REGIME_KEYS if engine is not None else ():
        if engine[key] != trained_engine[key]:
            raise ConfigError(f"{where}: the policy was trained with [engine] {key} = "
                              f"{_toml(trained_engine[key])}, the desk has "
                              f"{_toml(engine[key])}")
    order = [trained.index(sid) for sid in ids]
    vectors = np.asarray(stored["weights"], dtype=np.float64)[:, order]
    q = np.asarray(stored["q"], dtype=np.float64)
    greedy = np.argmax(q, axis=1)  # ties to the lowest index, as the learner's policy
    visited = np.zeros(len(q), dtype=bool)
    visited[_visited(stored)] = True
    qcfg = run["config"]["optimization"]["qlearn"]
    settings = stored.get("settings", {})
    return QPolicy(
        run_id=int(run["id"]), ids=tuple(ids), actions=actions, vectors=vectors,
        greedy=np.where(visited, greedy, -1), edges=_edges(stored["edges"]),
        symbol_edges={s: _edges(e) for s, e in stored.get("symbol_edges", {}).items()},
        trend_period=int(settings.get("trend_period", qcfg["trend_period"])),
        vol_period=int(settings.get("vol_period", qcfg["vol_period"])),
        base=dict(base), bounds=bounds)


def _toml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _visited(stored: Mapping[str, Any]) -> list[int]:
    if "visited" in stored:
        return [int(s) for s in stored["visited"]]
    names = set(stored["states"])  # older runs: the described states the table shows
    return [s for s in range(ms.N_STATES) if ms.describe(s) in names]


def _edges(raw: Mapping[str, Sequence[float]]) -> ms.StateEdges:
    return ms.StateEdges(tuple(float(x) for x in raw["trend"]),
                         tuple(float(x) for x in raw["vol"]))


def load_policy(cfg, ids: Sequence[str], base: Mapping[str, float]) -> QPolicy:
    """The policy `[ensemble] qlearn_run` names, read from the configured database."""
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import load_run

    run_id = cfg.ensemble.qlearn_run
    store = open_store(cfg)
    try:
        try:
            run = load_run(store, run_id)
        except ConfigError:
            raise ConfigError(f"[ensemble] qlearn_run = {run_id}: no such optimization run "
                              f"in {store.path.name}") from None
    finally:
        store.close()
    adaptive = cfg.ensemble.adaptive
    bounds = (adaptive.min_mult, adaptive.max_mult) if adaptive.enabled else None
    engine = {key: getattr(cfg.engine, key) for key in REGIME_KEYS}
    return policy_from_run(run, ids, base, bounds, engine)
