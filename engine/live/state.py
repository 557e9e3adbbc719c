"""What the live engine keeps per symbol: a bar window, each strategy's stance, the
ensemble's last decision and the regime tracker (`engine.signals.regime.policy`, the backtest's
rule: same fit bars, same windows, same labels bar for bar).

Strategies see the last `window` bars. Their indicators are causal and their longest
memory (an EMA) forgets geometrically, so a window many times the longest period gives the
same signals as the full history, which the backtest sees; `tests/engine/test_live.py`
holds the two to the same decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.microstructure.tracker import FEATURES, FLOW_COLUMNS
from engine.signals.regime.labels import LABELS
from engine.signals.regime.policy import RegimeTracker
from engine.signals.strategies.base import Prices
from engine.signals.weighting import per_symbol, tilt, virtual_trade_return, virtual_trades
from engine.types import Bar, Side

COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass
class StepView:
    """What one bar changed for a symbol."""

    new_signals: dict[str, tuple[Side, float]]
    side: Side  # the ensemble's (or single strategy's) stance after this bar
    changed: bool
    decision: object | None  # EnsembleDecision, when an ensemble runs


@dataclass
class SymbolState:
    symbol: str
    strategies: dict
    ensemble: object | None
    window: int
    times: list[datetime]
    data: np.ndarray  # (capacity, 5) ring of the last bars, oldest first
    stances: dict[str, tuple[Side, float]] = field(default_factory=dict)
    latest_signals: dict[str, tuple[Side, float, datetime]] = field(default_factory=dict)
    side: Side = Side.HOLD
    decision: object | None = None
    regime_tracker: RegimeTracker | None = None
    regime_labels: tuple[str, ...] = ()
    transition: tuple[tuple[float, ...], ...] = ()
    probabilities: dict[str, float] = field(default_factory=dict)
    regime_label: str = "unknown"
    held_bars: int = 0
    size_multiplier: float = 1.0
    last_close: float = float("nan")
    # Each strategy's current virtual trade (side, entry close), for dynamic weights.
    entries: dict[str, tuple[Side, float]] = field(default_factory=dict)
    # Order-flow features at each bar's close, rows aligned with `data` (NaN where no book
    # stream was there); None until the first bar that has them.
    flow: np.ndarray | None = None

    @classmethod
    def warm_up(cls, symbol, frame, strategies, ensemble, cfg, window: int) -> SymbolState:
        from engine.signals.strategies.base import stance

        tail = frame.iloc[-window:]
        state = cls(symbol=symbol, strategies=dict(strategies),
                    ensemble=per_symbol(ensemble, symbol) if ensemble is not None else None,
                    window=window, times=list(tail.index.to_pydatetime()),
                    data=tail[list(COLUMNS)].to_numpy(dtype=np.float64).copy())
        if all(c in frame.columns for c in FLOW_COLUMNS):  # a recording's replay
            state.flow = tail[list(FLOW_COLUMNS)].to_numpy(dtype=np.float64).copy()
        # The strategies and the ensemble's record of virtual trades start from the whole
        # history, as the backtest's do; only the bar window kept for `advance` is a tail.
        close = frame["close"].to_numpy()
        sides = []
        for sid, strategy in strategies.items():
            held = stance(strategy.compute(frame))
            sides.append(held.side)
            state.stances[sid] = (Side(int(held.side[-1])), float(held.confidence[-1]))
            turns = np.flatnonzero(np.diff(held.side) != 0) + 1
            if len(turns) and held.side[-1] != 0:
                state.entries[sid] = (Side(int(held.side[-1])), float(close[turns[-1]]))
        if state.ensemble is not None:
            # The history's closed virtual trades, as the backtest records them.
            ids = list(strategies)
            times = frame.index
            stacked = np.vstack(sides)
            for bar, row, value in virtual_trades(stacked, close):
                state.ensemble.record_trade(ids[row], value, ts=times[bar].to_pydatetime(),
                                            regime="unknown", side=int(stacked[row, bar - 1]))
        state.last_close = float(close[-1])
        if cfg.engine.regime:
            state._start_regime(frame["close"].to_numpy(), cfg)
        state.side, state.decision = state._decide(state.times[-1])
        return state

    def _start_regime(self, close: np.ndarray, cfg) -> None:
        """Warm the regime tracker up on the whole history: the start of this desk's data,
        from which fit bars are counted as the backtest counts them."""
        from engine.signals.regime.policy import RegimePolicy

        engine = cfg.engine
        policy = RegimePolicy(engine.regime_window, engine.regime_refit_every,
                              engine.regime_states)
        self.regime_tracker = policy.tracker()
        self.regime_tracker.warm_up(close)
        self._sync_regime()

    def _sync_regime(self) -> None:
        from engine.signals.regime import adapt

        tracker = self.regime_tracker
        if tracker is None or tracker.label is None:
            return
        self.regime_labels = tracker.state_labels
        self.transition = tuple(tuple(float(p) for p in row) for row in tracker.transition)
        self.probabilities = {label: float(p)
                              for label, p in zip(LABELS, tracker.probabilities,
                                                  strict=True)}
        self.regime_label = tracker.label
        self.held_bars = tracker.held_bars
        self.size_multiplier = adapt(tracker.label).size_multiplier

    def advance(self, bar: Bar, flow: Mapping[str, float] | None = None) -> StepView:
        """Take one bar (and the order-flow features at its close, when a book stream
        exists): update the window, the strategies' stances, the ensemble and the regime.
        Touches only this symbol's state."""
        row = np.array([[bar.open, bar.high, bar.low, bar.close, bar.volume]])
        self._advance_flow(flow)
        self.data = np.vstack([self.data[-(self.window - 1):], row])
        self.times = [*self.times[-(self.window - 1):], bar.ts]
        prices = Prices(*(np.ascontiguousarray(self.data[:, i]) for i in range(len(COLUMNS))),
                        flow=None if self.flow is None else {
                            name: np.ascontiguousarray(self.flow[:, k])
                            for k, name in enumerate(FEATURES)})
        new: dict[str, tuple[Side, float]] = {}
        turned: list[tuple[str, Side]] = []
        for sid, strategy in self.strategies.items():
            side, confidence = strategy.latest_of(prices)
            if side != Side.HOLD:
                new[sid] = (side, confidence)
                self.stances[sid] = (side, confidence)
                self.latest_signals[sid] = (side, confidence, bar.ts)
                turned.append((sid, side))
        # The regime after this bar's return is known at its close, before the decision.
        if self.regime_tracker is not None:
            self.regime_tracker.update(bar.close)
            self._sync_regime()
        for sid, side in turned:  # virtual trades close in this bar's regime, as backtests do
            self._turn(sid, side, bar.close, bar.ts)
        self.last_close = bar.close
        previous = self.side
        self.side, self.decision = self._decide(bar.ts)
        return StepView(new, self.side, self.side != previous,
                        self.decision if new else None)

    def _advance_flow(self, flow: Mapping[str, float] | None) -> None:
        if flow is None and self.flow is None:
            return
        if self.flow is None:
            self.flow = np.full((len(self.data), len(FEATURES)), np.nan)
        row = np.array([[np.nan if flow is None else flow[name] for name in FEATURES]])
        self.flow = np.vstack([self.flow[-(self.window - 1):], row])

    def _turn(self, sid: str, side: Side, close: float, ts: datetime | None = None) -> None:
        """A strategy's stance turned: its virtual trade closes (dynamic weights, the
        lifecycle)."""
        held = self.entries.get(sid)
        if held is not None and held[0] == side:
            return
        if held is not None and self.ensemble is not None:
            self.ensemble.record_trade(sid, virtual_trade_return(int(held[0]), held[1], close),
                                       ts=ts, regime=self.regime_label, side=int(held[0]))
        self.entries[sid] = (side, close)

    def _decide(self, ts: datetime):
        if self.ensemble is None or len(self.strategies) == 1:
            side, _ = next(iter(self.stances.values()), (Side.HOLD, 0.0))
            return side, None
        if self.ensemble.policy is not None:
            weights = self._policy_weights()
        else:
            weights = {sid: w * tilt(sid, self.regime_label)
                       for sid, w in self.ensemble.weights(self.regime_label).items()}
        decision = self.ensemble.decide(self.symbol, ts, self.stances, weights=weights)
        return decision.decision, decision

    def _policy_weights(self) -> dict[str, float]:
        """[ensemble] weights = "qlearn": the policy's weights for this bar's state (read
        from the bar window as the backtest reads the frame: engine.optimize.policy), times
        each strategy's lifecycle status factor (engine.signals.weighting.policy_bar_weights)."""
        policy = self.ensemble.policy
        state = policy.state_at(self.data[:, 3], self.regime_index, self.symbol)
        vector = policy.weights_of(policy.action_of(state))
        current = self.ensemble.weights(self.regime_label)
        base = self.ensemble.base_weights
        return {sid: float(w * (current[sid] / base[sid]))
                for sid, w in zip(policy.ids, vector, strict=True)}

    def recent_returns(self, n: int) -> np.ndarray:
        close = self.data[-(n + 1):, 3]
        return np.diff(np.log(close))

    @property
    def regime_index(self) -> int:
        return LABELS.index(self.regime_label) if self.regime_label in LABELS \
            else -1
