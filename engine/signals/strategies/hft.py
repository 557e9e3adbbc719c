"""The HFT strategy: engine.microstructure.hft's rules over per-bar order-flow features.

A bar's features are the order-flow state at its close (engine.microstructure.tracker
FEATURES, as `flow_*` columns of the frame or `Prices.flow`): the live engine samples its
trackers at each bar, a backtest replays a recording through the same trackers
(engine.microstructure.replay). Without a book stream the columns are absent or NaN and the
strategy holds.

BUY on the bar the rules turn to buying, SELL on the bar they turn to selling, like every
strategy's events; confidence is the rule's.
"""

from __future__ import annotations

import numpy as np

from engine.microstructure.hft import HftParams, hft_rules
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events

# Features the rules read; the others are shown in the desk but not traded on.
READS = ("composite_z", "confidence", "aggressor", "flow_run", "move_z", "since_withdrawal")


class Hft(Strategy):
    id = "hft"

    # The rules' own parameters: one definition for the strategy and the live board.
    Params = HftParams

    @classmethod
    def check(cls, params: Params) -> list[str]:
        problems = super().check(params)
        for name in ("entry_z", "reversion_z"):
            if not getattr(params, name) > 0.0:
                problems.append(f"{name} must be positive, got {getattr(params, name)!r}")
        for name in ("min_confidence", "sustain_imbalance"):
            if not 0.0 <= getattr(params, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(params, name)!r}")
        return problems

    @property
    def rules(self) -> HftParams:
        return self.params

    @property
    def warmup(self) -> int:
        return 1

    @property
    def memory(self) -> int:
        # A bar's rule reads that bar's features only; an event compares two bars.
        return 2

    def signals(self, prices: Prices) -> SignalArrays:
        n = len(prices.close)
        flow = prices.flow
        if flow is None or any(name not in flow for name in READS):
            hold = np.zeros(n, dtype=bool)
            return events(hold, hold, np.zeros(n), np.zeros(n), hold)
        side, confidence, _ = hft_rules(flow, self.rules)
        valid = np.isfinite(np.asarray(flow["since_withdrawal"], dtype=np.float64))
        return events(side > 0, side < 0, confidence, confidence, valid)
