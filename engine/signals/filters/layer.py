"""The filters + quality layer of the pipeline: after the ensemble, before sizing.

`SignalLayer.apply` takes one symbol's per-bar ensemble decision and returns it with every
run of a decision either kept (its confidence times the quality score, its size times the
quality multiplier) or dropped whole (HOLD until the ensemble next changes its mind), and
the record of every verdict at each bar where the ensemble changed its mind. Live, the
desk asks the same layer about its history window, bar by bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from engine.signals import quality as q
from engine.signals.filters import fitpool, predict
from engine.signals.filters.features import Bars
from engine.signals.filters.verdicts import FilterRules, judge
from engine.signals.regime.labels import LABELS


@dataclass(frozen=True)
class StoredModel:
    """A model loaded from the store for a backtest without walk-forward refits."""

    name: str
    model: object
    first_bar_after: int = 0  # first bar of the frame after the model's training range
    # Indices into the features the configuration gives (`direction_feature_names`) of the
    # ones the model was fitted on, in its order; None: all of them.
    columns: tuple[int, ...] | None = None
    # The last bar of the training range (ISO 8601, the record's data_end): a live desk,
    # which has no frame when the model loads, finds its first bar after from it
    # (`backtest.first_bar_after`) once the warm-up history arrives.
    trained_until: str | None = None


@dataclass(frozen=True)
class SignalLayer:
    filters: object | None  # FiltersConfig when [filters] is on, else None
    quality: object | None  # QualityConfig when [quality] is on, else None
    allow_short: bool
    size: float
    position_limit: float  # [risk] max_position_pct
    walk_forward: bool = True
    stored: Mapping[str, Mapping[str, StoredModel]] = field(default_factory=dict)
    # symbol -> filter name -> model (stored mode)

    @property
    def active(self) -> bool:
        return self.filters is not None or self.quality is not None

    def predictions(self, symbol: str, bars: Bars, regime_probs: np.ndarray | None,
                    at: np.ndarray | None = None) -> list[predict.FilterPredictions]:
        """Each enabled filter's predictions; `at`: the bars wanted (None: every bar), so
        walk-forward windows holding none of them are not fitted (`predict`)."""
        f = self.filters
        if f is None:
            return []
        # Each filter's predictions as a task; walk-forward ones run side by side, so the
        # GARCH refits (under the GIL) overlap the LightGBM ones (released) (`fitpool`).
        tasks = []
        wf = {"train_window": f.train_window, "retrain_every": f.retrain_every, "at": at}
        stored = self.stored.get(symbol, {})
        if f.direction.enabled:
            if self.walk_forward:
                tasks.append(partial(predict.direction_walk_forward, bars, f.direction,
                                     regime_probs, **wf))
            else:
                s = stored["direction"]
                tasks.append(partial(predict.direction_stored, bars, f.direction,
                                     regime_probs, s.model, at, s.columns))
        if f.volatility.enabled:
            if self.walk_forward:
                tasks.append(partial(predict.volatility_walk_forward, bars, f.volatility,
                                     **wf))
            else:
                s = stored["volatility"]
                tasks.append(partial(predict.volatility_stored, bars, f.volatility, s.model,
                                     s.first_bar_after, at))
        if f.volume.enabled:
            if f.volume.type == "zscore":
                tasks.append(partial(predict.volume_zscore_predictions, bars, f.volume))
            elif self.walk_forward:
                tasks.append(partial(predict.volume_walk_forward, bars, f.volume,
                                     regime_probs, **wf))
            else:
                s = stored["volume"]
                tasks.append(partial(predict.volume_stored, bars, f.volume, regime_probs,
                                     s.model, at, s.columns))
        if not self.walk_forward:
            return [task() for task in tasks]
        return fitpool.side_by_side(tasks)

    def apply(self, symbol: str, bars: Bars, *, decision: np.ndarray,
              confidence: np.ndarray, size_multiplier: np.ndarray,
              stances: Mapping[str, np.ndarray], weights: np.ndarray,
              regime: np.ndarray, regime_probs: np.ndarray | None) -> LayerResult:
        """`stances`: strategy id -> (n,) side; `weights`: (S, n) ensemble weights in
        `stances` order; `regime`: (n,) index into LABELS (-1 unknown)."""
        runs = setups(decision, stances, regime)
        # Only a run's first bar is judged: the models predict those bars alone.
        preds = self.predictions(symbol, bars, regime_probs,
                                 at=np.array([r.start for r in runs], dtype=np.int64))
        rules = FilterRules.from_config(self.filters, self.allow_short) if self.filters \
            else None
        out_d, out_c, out_s = decision.copy(), confidence.copy(), size_multiplier.copy()
        history = q.SetupHistory(self.quality.min_trades) if self.quality else None
        ids = list(stances)
        records: dict[int, dict] = {}
        counts = {p.name: {"veto": 0, "pass": 0} for p in preds}
        if self.quality is not None:
            counts["quality"] = {"veto": 0, "pass": 0}
        for run in runs:
            start, end, side = run.start, run.end, run.side
            record: dict = {}
            dropped = False
            if rules is not None:
                verdicts = judge(preds, rules, start, side)
                record["filters"] = [v.as_dict() for v in verdicts]
                for v in verdicts:
                    counts[v.filter]["veto" if v.veto else "pass"] += 1
                dropped = any(v.veto for v in verdicts)
            if history is not None:
                history.advance(start)
                success, similar = history.rate(run.key)
                closes_at, won = setup_trade(bars, start, end, side)
                history.add(closes_at, run.key, won)
                w = weights[:, start]
                agree = list(run.rows)
                score = q.score(
                    agree_weight=float(w[agree].sum()), total_weight=float(w.sum()),
                    contributors=[(ids[i], float(w[i])) for i in agree], side=side,
                    regime=run.key[2], success=success, similar=similar,
                    min_score=self.quality.min_score,
                    max_multiplier=self.quality.max_multiplier, size=self.size,
                    regime_multiplier=float(size_multiplier[start]),
                    limit=self.position_limit)
                record["quality"] = score.as_dict()
                counts["quality"]["veto" if score.dropped else "pass"] += 1
                if not dropped and not score.dropped:
                    out_c[start:end] = confidence[start:end] * score.score
                    # Sizing reads the multiplier at the decision's own bar only.
                    out_s[start] = size_multiplier[start] * score.multiplier
                dropped = dropped or score.dropped
            if dropped:
                out_d[start:end] = 0
                out_c[start:end] = 0.0
            record["dropped"] = dropped
            records[start] = record
        return LayerResult(out_d, out_c, out_s, records, counts, preds)


@dataclass
class LayerResult:
    decision: np.ndarray
    confidence: np.ndarray
    size_multiplier: np.ndarray
    records: dict[int, dict]  # bar of a decision change -> verdicts and quality
    counts: dict[str, dict[str, int]]  # filter -> {"veto": n, "pass": n}
    predictions: list


def decision_runs(decision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of each run of one decision, [start, end); the first bar starts a run
    (a decision at bar 0 is a change from HOLD)."""
    prev = np.concatenate(([0], decision[:-1]))
    starts = np.flatnonzero(decision != prev)
    return starts, np.append(starts[1:], len(decision))[: len(starts)]


def regime_label(index: int) -> str:
    """The label of a regime index into LABELS (-1: before the model's first fit)."""
    return LABELS[index] if index >= 0 else q.UNKNOWN_REGIME


def setup_trade(bars: Bars, start: int, end: int, side: int) -> tuple[int, bool]:
    """(bar it counts from, won) of a setup's own trade: entered at the open after the
    decision at `start`, out at the open after the ensemble's next change at `end` (or the
    last bar's close when the data ends first); it counts from the bar that exit filled."""
    n = len(bars)
    entry = bars.open[min(start + 1, n - 1)]
    exit_ = bars.open[end + 1] if end + 1 < n else bars.close[-1]
    return min(end + 1, n), bool(side * (exit_ - entry) > 0)


@dataclass(frozen=True, slots=True)
class Setup:
    """One run of a non-HOLD decision, [start, end), and its setup: `key` is (the agreeing
    strategies in `stances` order, the side, the regime label at `start`); `rows` are the
    agreeing strategies' indices in that order."""

    start: int
    end: int
    side: int
    key: tuple
    rows: tuple[int, ...]


def setups(decision: np.ndarray, stances: Mapping[str, np.ndarray],
           regime: np.ndarray) -> list[Setup]:
    """Every non-HOLD run of `decision` with its setup. `stances`: strategy id -> (n,) held
    side; `regime`: (n,) index into LABELS (-1 unknown)."""
    ids = list(stances)
    sides = np.vstack([stances[sid] for sid in ids]) if ids else np.zeros((0, len(decision)))
    out = []
    starts, ends = decision_runs(decision)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        side = int(decision[start])
        if side == 0:
            continue
        rows = tuple(np.flatnonzero(sides[:, start] == side).tolist())
        out.append(Setup(start, end, side, (tuple(ids[i] for i in rows), side,
                                            regime_label(int(regime[start]))), rows))
    return out
