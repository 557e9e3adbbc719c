"""The HFT signal generator: three rules over the order-flow features of one symbol.

- imbalance momentum: |composite z| >= entry_z and the detector's confidence >=
  min_confidence: trade with the pressure (sign of the composite z), at that confidence.
- maker-withdrawal reversion: a withdrawal within the last `withdrawal_recent` book
  updates and a mid move of |move z| >= reversion_z: fade the move (the price ran into an
  empty book and tends to come back when the maker returns); confidence tanh(|move z| / 2).
- sustained-flow momentum: the aggressor imbalance has kept its sign for at least
  `sustain_trades` trades and is at least `sustain_imbalance` in size: follow it;
  confidence tanh(|run| / sustain_trades), 0.76 at the threshold.

Reversion wins over both momentum rules (with the maker gone, momentum readings describe
an empty book); the two momentum rules opposing each other give no signal.

Written with numpy operations only, so one function serves a scalar reading (the live pane,
the live strategy's latest bar) and whole arrays of per-bar features (backtests): the same
rule by construction. NaN features never fire a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

KINDS = ("", "imbalance", "reversion", "sustained")  # index = the `kind` code


@dataclass(frozen=True, slots=True)
class HftParams:
    """The defaults are the packaged desk.toml's [strategies.hft]."""

    entry_z: float = 2.0
    min_confidence: float = 0.7
    reversion_z: float = 2.5
    withdrawal_recent: int = 20
    sustain_trades: int = 30
    sustain_imbalance: float = 0.3


def hft_rules(features: Mapping[str, object], params: HftParams
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(side int8: +1 / -1 / 0, confidence in [0, 1], kind int8 into KINDS) per element of
    the features `composite_z`, `confidence`, `aggressor`, `flow_run`, `move_z` and
    `since_withdrawal` (scalars or equal-length arrays)."""
    composite = np.asarray(features["composite_z"], dtype=np.float64)
    detector = np.asarray(features["confidence"], dtype=np.float64)
    aggressor = np.asarray(features["aggressor"], dtype=np.float64)
    run = np.asarray(features["flow_run"], dtype=np.float64)
    move = np.asarray(features["move_z"], dtype=np.float64)
    since = np.asarray(features["since_withdrawal"], dtype=np.float64)
    p = params
    with np.errstate(invalid="ignore"):
        reversion = (since <= p.withdrawal_recent) & (np.abs(move) >= p.reversion_z)
        imbalance = (np.abs(composite) >= p.entry_z) & (detector >= p.min_confidence)
        sustained = ((np.abs(run) >= p.sustain_trades)
                     & (np.abs(aggressor) >= p.sustain_imbalance)
                     & (np.sign(aggressor) == np.sign(run)))
        imbalance_side = np.where(imbalance, np.sign(composite), 0.0)
        sustained_side = np.where(sustained, np.sign(run), 0.0)
        opposed = imbalance_side * sustained_side < 0
        side = np.where(reversion, -np.sign(move),
                        np.where(opposed, 0.0,
                                 np.where(imbalance, imbalance_side, sustained_side)))
        confidence = np.where(
            reversion, np.tanh(np.abs(move) / 2.0),
            np.where(opposed, 0.0,
                     np.where(imbalance, detector,
                              np.where(sustained, np.tanh(np.abs(run) / max(
                                  p.sustain_trades, 1)), 0.0))))
        kind = np.where(reversion, 2, np.where(opposed, 0,
                                               np.where(imbalance, 1,
                                                        np.where(sustained, 3, 0))))
    side = np.nan_to_num(side).astype(np.int8)
    confidence = np.where(side != 0, np.clip(np.nan_to_num(confidence), 0.0, 1.0), 0.0)
    return side, confidence, np.where(side != 0, kind, 0).astype(np.int8)
