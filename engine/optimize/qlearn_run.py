"""`desk optimize --method qlearn`: learn which strategy (or weight vector over them) to
follow in each market state, from history, and say how the policy does out of sample.

Steps are `step_bars` bars apart after the warm-up. At step k (bar t) the state is the
market state of bar t (`market_states`); the action picks a strategy (or a weight vector:
one-hot per strategy, then equal weights); the position is that strategy's stance at t's
close (the weighted mean of stances for a vector; long-only unless shorts are allowed),
and the reward is the position times the return from t to the next step ("pnl"), or the
rolling Sharpe of the agent's last `reward_window` step returns ("sharpe"). Rewards are
before costs.

The first 70% of the steps train the policy (an episode is one pass over them, per
symbol); the last 30% are out of sample: the greedy policy's step returns there, next to
each action held throughout, are the report.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import numpy as np

from engine.optimize import market_states as ms
from engine.optimize.qlearn import QLearner, train
from engine.trading.metrics import per_bar_risk_free

TRAIN_SHARE = 0.7


class HistoryEnv:
    """The market as it was: states and each action's step return are fixed by history;
    an episode walks one symbol's training steps in order."""

    def __init__(self, states: list[np.ndarray], returns: list[np.ndarray], reward: str,
                 window: int) -> None:
        self.states, self.returns = states, returns
        self.n_states = ms.N_STATES
        self.n_actions = returns[0].shape[1]
        self.reward, self.window = reward, window
        self.episode = -1

    def reset(self, rng: np.random.Generator) -> int:
        self.episode += 1
        self.symbol = self.episode % len(self.states)
        self.k = 0
        self.recent: deque[float] = deque(maxlen=self.window)
        return int(self.states[self.symbol][0])

    def step(self, action: int) -> tuple[int, float, bool]:
        r = float(self.returns[self.symbol][self.k, action])
        self.recent.append(r)
        self.k += 1
        done = self.k >= len(self.states[self.symbol]) - 1
        return int(self.states[self.symbol][self.k]), self._reward(r), done

    def _reward(self, r: float) -> float:
        if self.reward == "pnl":
            return r
        if len(self.recent) < 2:
            return 0.0
        values = np.fromiter(self.recent, float)
        spread = values.std(ddof=1)
        return float(values.mean() / spread) if spread > 0 else 0.0


def action_weights(n_strategies: int, kind: str) -> np.ndarray:
    eye = np.eye(n_strategies)
    if kind == "strategies":
        return eye
    return np.vstack([eye, np.full(n_strategies, 1.0 / n_strategies)])


def _symbol_steps(frame, strategies, weights, cfg, q) -> dict[str, Any]:
    from engine.signals.regime.policy import RegimePolicy
    from engine.signals.strategies.base import stance

    close = frame["close"].to_numpy(dtype=np.float64)
    n = len(close)
    regime = np.full(n, -1, dtype=np.int64)
    if cfg.engine.regime and n > cfg.engine.regime_window:
        policy = RegimePolicy(cfg.engine.regime_window, cfg.engine.regime_refit_every,
                              cfg.engine.regime_states)
        regime = policy.run(close).labels.astype(np.int64)
    sides = np.vstack([stance(s.compute(frame)).side for s in strategies.values()]).astype(float)
    if not cfg.engine.allow_short:
        sides = np.maximum(sides, 0.0)
    position = weights @ sides  # (actions, bars)
    bars = np.arange(min(cfg.feed.history_bars, n - 1), n - q.step_bars, q.step_bars)
    step_returns = close[bars + q.step_bars] / close[bars] - 1.0
    trend, vol = ms.features(close, q.trend_period, q.vol_period)
    return {"bars": bars, "returns": (position[:, bars] * step_returns).T, "regime": regime,
            "trend": trend, "vol": vol, "index": frame.index}


def train_policy(cfg, request, market, objective, started: float, run_id: int | None):
    from engine.optimize.ledger import LedgerStats
    from engine.optimize.run import OptimizeOutcome, seed_of

    q = cfg.optimization.qlearn
    ids = ([m.id for m in cfg.ensemble.strategies] if request.strategy == "ensemble"
           else [s.strip() for s in request.strategy.split(",") if s.strip()])
    # The strategies with their [strategies] tables: the ones the desk trades.
    strategies = _strategies(cfg, ids)
    weights = action_weights(len(strategies), q.actions)
    labels = ([*ids] if q.actions == "strategies" else [*ids, "equal"])
    steps = {s: _symbol_steps(f, strategies, weights, cfg, q) for s, f in market.frames.items()}
    train_states, train_returns, tests, trained = [], [], {}, {}
    for symbol, st in steps.items():
        cut = int(len(st["bars"]) * TRAIN_SHARE)
        if cut < 2 or len(st["bars"]) - cut < 2:
            from engine.errors import ConfigError

            raise ConfigError(f"--method qlearn: {symbol} has {len(st['bars'])} steps of "
                              f"{q.step_bars} bars after the warm-up: too few to train and test")
        edges = ms.fit_edges(st["trend"][: st["bars"][cut]], st["vol"][: st["bars"][cut]])
        trained[symbol] = (st["trend"][: st["bars"][cut]], st["vol"][: st["bars"][cut]])
        states = ms.encode(st["regime"][st["bars"]], st["trend"][st["bars"]],
                           st["vol"][st["bars"]], edges)
        train_states.append(states[:cut])
        train_returns.append(st["returns"][:cut])
        tests[symbol] = (states[cut:], st["returns"][cut:], st["index"][st["bars"][cut:]],
                         edges)
    rng = np.random.default_rng(seed_of(request))
    learner = QLearner(ms.N_STATES, len(labels), q.alpha, q.gamma, q.epsilon, q.epsilon_decay,
                       q.epsilon_min, rng)
    env = HistoryEnv(train_states, train_returns, q.reward, q.reward_window)
    totals = train(env, learner, q.episodes * len(train_states))
    policy = learner.policy()
    report = _out_of_sample(policy, tests, labels, q.step_bars, cfg.metrics.risk_free_rate)
    visited = np.flatnonzero(learner.visits.sum(axis=1))
    # Edges for a symbol the training never saw: those of every training bar pooled.
    pooled = ms.fit_edges(np.concatenate([t for t, _ in trained.values()]),
                          np.concatenate([v for _, v in trained.values()]))
    extras = {
        "policy": {"actions": labels, "strategies": ids, "weights": weights.tolist(),
                   "states": {ms.describe(s): labels[int(policy[s])] for s in visited},
                   "visited": [int(s) for s in visited],
                   "q": learner.q.tolist(),
                   "edges": {"trend": list(pooled.trend), "vol": list(pooled.vol)},
                   "symbol_edges": {symbol: {"trend": list(t[3].trend), "vol": list(t[3].vol)}
                                    for symbol, t in tests.items()},
                   "trained_until": {symbol: t[2][0].isoformat() for symbol, t in tests.items()},
                   "settings": {"alpha": q.alpha, "gamma": q.gamma, "episodes": q.episodes,
                                "reward": q.reward, "step_bars": q.step_bars,
                                "trend_period": q.trend_period, "vol_period": q.vol_period}},
        "episode_rewards": [float(t) for t in totals],
        "out_of_sample": report,
    }
    stats = LedgerStats(done=len(totals), started=started)
    best_metrics = report["policy"]
    return OptimizeOutcome(
        run_id, request, market.source, tuple(market.frames), None, "sharpe",
        {"params": {"policy": "qlearn", "actions": labels}, "fitness":
         best_metrics["sharpe"] or 0.0, "metrics": best_metrics},
        [], time.perf_counter() - started, stats, 1, extras)


def _strategies(cfg, ids):
    from engine.signals.strategies.registry import from_config

    return from_config(cfg.strategies, ids)


def _out_of_sample(policy, tests, labels, step_bars, risk_free_rate) -> dict[str, Any]:
    chosen, fixed = [], {label: [] for label in labels}
    stamps = []
    for states, returns, index, _edges in tests.values():
        chosen.append(returns[np.arange(len(states)), policy[states]])
        for a, label in enumerate(labels):
            fixed[label].append(returns[:, a])
        stamps.append(index)
    span_years = max(sum((ix[-1] - ix[0]).total_seconds() for ix in stamps)
                     / (365.25 * 86400), 1e-9)
    steps_per_year = sum(len(ix) for ix in stamps) / span_years
    rf = per_bar_risk_free(risk_free_rate, steps_per_year)  # [metrics], per step
    summary = {"policy": _step_metrics(np.concatenate(chosen), steps_per_year, rf)}
    summary["each_action"] = {label: _step_metrics(np.concatenate(v), steps_per_year, rf)
                              for label, v in fixed.items()}
    summary["steps"] = int(sum(len(c) for c in chosen))
    summary["start"] = min(ix[0] for ix in stamps).isoformat()
    summary["end"] = max(ix[-1] for ix in stamps).isoformat()
    return summary


def _step_metrics(r: np.ndarray, per_year: float, rf: float) -> dict[str, float | None]:
    """Sharpe of the step returns in excess of the per-step risk-free rate, as
    engine.trading.metrics defines it."""
    total = float(np.prod(1.0 + r) - 1.0)
    spread = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    sharpe = float((r.mean() - rf) / spread * math.sqrt(per_year)) if spread > 1e-12 else None
    return {"total_return": total, "sharpe": sharpe, "exposure": float(np.mean(r != 0))}
