"""The filters + quality layer on a live desk: the backtest's rules, one bar at a time.

Each stored model judges the newest bar of the symbol's window (features need the window
for their warm-up; only the last row is predicted). The quality score's setup history
follows the backtest's rule: a run of the ensemble's decision is a trade from the next
bar's open to the open after its next change, counted from the bar that open arrives. At
start it is primed from the warm-up bars by the backtest's own rule over them (`prime`), so
the desk's first decisions score as a backtest over the same bars scores them.

A stored GARCH model's recursion runs as the stored-model backtest runs it
(`predict.volatility_stored`): from the first bar after the model's training range, over
every return since. At start it is run over the warm-up bars (`prime_garch`), then stepped
bar by bar, so a live forecast is the backtest's over the same bars, bit for bit. A stored
regressor of realized volatility predicts from the newest row of the volatility features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from engine.signals import quality as q
from engine.signals.filters import classify, garch, realized, target
from engine.signals.filters.features import (
    Bars,
    direction_features_at_end,
    log_returns,
    model_columns,
    volatility_features_at_end,
    volume_zscore_at_end,
)
from engine.signals.filters.layer import SignalLayer, setup_trade, setups
from engine.signals.filters.predict import FilterPredictions, set_volatility
from engine.signals.filters.verdicts import FilterRules, judge

if TYPE_CHECKING:
    import pandas as pd

    from engine.backtest.run import BacktestSpec


@dataclass
class _Run:
    key: tuple
    side: int
    entry: float | None = None  # the open after the decision, once seen


@dataclass
class _SymbolBook:
    history: q.SetupHistory
    bar: int = -1  # index of the newest bar in the symbol's data (warm-up bars included)
    run: _Run | None = None  # the ensemble's current decision run
    previous: _Run | None = None  # the run that ended at the last bar's change
    changed_last_bar: bool = False
    last_record: dict = field(default_factory=dict)


# Bars of the window the features are computed over: their longest recursion (MACD's
# EMA(26) and its EMA(9) signal) weighs a bar this old by less than 1e-9.
FEATURE_TAIL = 300


class LiveFilters:
    def __init__(self, layer: SignalLayer, symbols) -> None:
        self.layer = layer
        self.rules = (FilterRules.from_config(layer.filters, layer.allow_short)
                      if layer.filters is not None else None)
        min_trades = layer.quality.min_trades if layer.quality is not None else 1
        self.books = {s: _SymbolBook(q.SetupHistory(min_trades)) for s in symbols}
        # symbol -> (bar number, sigma2[t+1 | t]) of the GARCH recursion: started over the
        # warm-up bars (`prime_garch`), then carried forward, so each bar costs one step.
        self._garch: dict[str, tuple[int, float]] = {}

    def garch_model(self, symbol: str) -> garch.GarchModel | None:
        """The symbol's stored GARCH model when the volatility filter uses one."""
        f = self.layer.filters
        if f is None or not f.volatility.enabled:
            return None
        stored = self.layer.stored.get(symbol, {}).get("volatility")
        model = stored.model if stored is not None else None
        return model if isinstance(model, garch.GarchModel) else None

    def prime_garch(self, symbol: str, close: np.ndarray, first_after: int) -> None:
        """Start the symbol's GARCH recursion from its warm-up closes as the stored-model
        backtest runs it over the same bars: from `first_after`, the first of them after
        the model's training range (`backtest.first_bar_after`), over every return since
        (r[0] of the bars is unknown: 0), to sigma2 of the bar after the last. A range
        ending after the last warm-up bar (which a backtest refuses: it overlaps) leaves
        the fit's own state, stepped from the first live bar on."""
        model = self.garch_model(symbol)
        if model is None:
            return
        returns = np.nan_to_num(log_returns(close)[first_after:], nan=0.0)
        n = len(close)
        self._garch[symbol] = (n - 1, float(model.next_variances(returns)[-1]))
        self.books[symbol].bar = n - 1

    def advance(self, symbol: str, close: np.ndarray) -> None:
        """Step the symbol's GARCH recursion to its newest bar; `close`: the closes of its
        window, newest last (call for every bar after `on_bar`, so a judgement after more
        quiet bars than the window holds still has every return)."""
        model = self.garch_model(symbol)
        if model is not None:
            self._garch_next(symbol, model, close)

    def prime(self, symbol: str, bars: Bars, decision: np.ndarray,
              stances: Mapping[str, np.ndarray], regime: np.ndarray) -> None:
        """Start the symbol's setup history from its warm-up bars: the setups a backtest over
        `bars` has closed by their last bar (`layer.setups`, `layer.setup_trade`), and the
        run still held, or just ended, for `on_bar` to close. `decision`, `stances` and
        `regime` are the backtest's per-bar arrays over `bars` (`prime_from_history`)."""
        book = _SymbolBook(q.SetupHistory(self.books[symbol].history.min_trades))
        n = len(bars)
        book.bar = n - 1
        for setup in setups(decision, stances, regime):
            if setup.end + 1 < n:  # its exit open is a warm-up bar: closed
                closes_at, won = setup_trade(bars, setup.start, setup.end, setup.side)
                book.history.add(closes_at, setup.key, won)
                continue
            # Entered at the open after its start, unless that open is the next live bar's.
            entry = float(bars.open[setup.start + 1]) if setup.start + 1 < n else None
            run = _Run(setup.key, setup.side, entry)
            if setup.end == n:
                book.run = run
            else:  # the decision changed at the last warm-up bar: it exits at the next open
                book.previous = run
        if n:
            book.changed_last_bar = bool(decision[-1] != (decision[-2] if n > 1 else 0))
        self.books[symbol] = book

    def on_bar(self, symbol: str, bar_open: float, side: int, changed: bool,
               agree: tuple[str, ...], regime: str) -> None:
        """Advance the symbol's setup history by one bar (call for every bar, first)."""
        book = self.books[symbol]
        book.bar += 1
        if book.run is not None and book.run.entry is None:
            book.run.entry = bar_open
        if book.changed_last_bar and book.previous is not None:
            prev = book.previous
            book.history.add(book.bar, prev.key, prev.side * (bar_open - prev.entry) > 0)
            book.previous = None
        book.changed_last_bar = False
        if changed:
            book.previous = book.run if book.run is not None and book.run.entry is not None \
                else None
            book.run = _Run((agree, side, regime), side) if side != 0 else None
            book.changed_last_bar = True

    def judge(self, symbol: str, window: Bars, *, side: int, regime: str,
              regime_probs: Mapping[str, float] | None, weights: Mapping[str, float],
              agree: tuple[str, ...], size_multiplier: float) -> dict:
        """The record of a decision at the newest bar: verdicts, quality, multiplier."""
        record: dict = {}
        dropped = False
        if self.rules is not None:
            preds = self.predictions(symbol, window, regime_probs)
            verdicts = judge(preds, self.rules, len(window) - 1, side)
            record["filters"] = [v.as_dict() for v in verdicts]
            dropped = any(v.veto for v in verdicts)
        multiplier = 1.0
        if self.layer.quality is not None:
            book = self.books[symbol]
            book.history.advance(book.bar)
            success, similar = book.history.rate((agree, side, regime))
            qc = self.layer.quality
            score = q.score(
                agree_weight=sum(weights[s] for s in agree), total_weight=sum(weights.values()),
                contributors=[(s, weights[s]) for s in agree], side=side, regime=regime,
                success=success, similar=similar, min_score=qc.min_score,
                max_multiplier=qc.max_multiplier, size=self.layer.size,
                regime_multiplier=size_multiplier, limit=self.layer.position_limit)
            record["quality"] = score.as_dict()
            multiplier = score.multiplier
            dropped = dropped or score.dropped
        record["dropped"] = dropped
        record["multiplier"] = 1.0 if dropped else multiplier
        self.books[symbol].last_record = record
        return record

    def predictions(self, symbol: str, window: Bars,
                    regime_probs: Mapping[str, float] | None) -> list[FilterPredictions]:
        f = self.layer.filters
        stored = self.layer.stored.get(symbol, {})
        full = window
        window = window.slice(max(len(window) - FEATURE_TAIL, 0), len(window))
        out = []
        probs = None  # the regime probabilities at the newest bar (the only row predicted)
        if regime_probs:
            probs = np.array([regime_probs.get(label, 0.0) for label in ("bull", "bear",
                                                                        "sideways")])
        if f.direction.enabled:
            s = stored["direction"]
            x = model_columns(direction_features_at_end(window, f.direction.lookback, probs),
                              s.columns)
            p = _one("direction", f.direction.type)
            if np.isfinite(x).all():
                proba = classify.class_probabilities(s.model, x, target.CLASSES)[0]
                best = int(np.argmax(proba))
                p.value[0], p.probability[0], p.known[0] = target.CLASSES[best], proba[best], \
                    True
            out.append(_at_end(p, len(full)))
        if f.volatility.enabled:
            model = stored["volatility"].model
            p = _one("volatility", f.volatility.type)
            if isinstance(model, garch.GarchModel):
                variance = model.horizon_mean(
                    np.array([self._garch_next(symbol, model, full.close)]),
                    f.volatility.forecast_horizon)
                set_volatility(p, np.array([0]), variance, f.volatility)
            else:
                # The regressor's features over the whole window, not a tail: ATR's Wilder
                # recursion is seeded at the window's first bar, and over a live window (at
                # least 600 bars) that seed weighs (13/14)**600 ~ 1e-19 of the newest value,
                # under a double's resolution, so the row is the backtest's bit for bit (a
                # test holds it); a 300-bar tail left the seed at 2e-10.
                x = volatility_features_at_end(full, f.volatility.lookback)
                if np.isfinite(x).all():
                    set_volatility(p, np.array([0]), realized.predict_variance(model, x),
                                    f.volatility)
            out.append(_at_end(p, len(full)))
        if f.volume.enabled:
            # `surge` at the newest bar: its z-score against the `lookback` bars before it.
            z = np.array([volume_zscore_at_end(window.volume, f.volume.lookback)])
            known = np.isfinite(z)
            p = FilterPredictions("volume", f.volume.type, z, known * 1.0,
                                  z >= f.volume.threshold, known.copy())
            if f.volume.type != "zscore":
                s = stored["volume"]
                x = model_columns(direction_features_at_end(window, f.volume.lookback, probs),
                                  s.columns)
                p.known[0] = bool(np.isfinite(x).all())
                if p.known[0]:
                    p.probability[0] = classify.class_probabilities(s.model, x, (0, 1))[0, 1]
                    p.flag[0] = p.probability[0] >= 0.5
            out.append(_at_end(p, len(full)))
        return out

    def _garch_next(self, symbol: str, model: garch.GarchModel, close: np.ndarray) -> float:
        """sigma2[t+1 | t] at the newest bar: the recursion stepped over the returns since
        the bar it was last carried to (`close`: the window's closes, newest last)."""
        bar = self.books[symbol].bar
        if symbol not in self._garch:
            raise GarchNotPrimed(f"{symbol}: the GARCH recursion was not started from the"
                                 " warm-up bars (prime_garch)")
        seen, state = self._garch[symbol]
        steps = bar - seen
        if not 0 <= steps < len(close):
            raise GarchNotPrimed(f"{symbol}: {steps} bars since the GARCH recursion's last"
                                 f" step, but the window holds {len(close)} closes")
        if steps:
            # Only the new returns: the logs of their closes alone.
            new = np.nan_to_num(np.diff(np.log(close[len(close) - steps - 1:])), nan=0.0)
            state = float(model.next_from(state, new))
            self._garch[symbol] = (bar, state)
        return state


class GarchNotPrimed(RuntimeError):
    """The live GARCH recursion is asked for a bar it cannot reach from its last state: it
    was never started from the warm-up bars, or bars went by without `advance`."""


def _one(name: str, model: str) -> FilterPredictions:
    return FilterPredictions(name, model, np.zeros(1), np.zeros(1), np.zeros(1, dtype=bool),
                             np.zeros(1, dtype=bool))


class _AtEnd:
    """A one-bar prediction read at the window's last index."""

    def __init__(self, values: np.ndarray, last: int) -> None:
        self.values, self.last = values, last

    def __getitem__(self, t: int):
        if t != self.last:
            raise IndexError(f"only the newest bar ({self.last}) is predicted live, not {t}")
        return self.values[0]


def _at_end(p: FilterPredictions, n: int) -> FilterPredictions:
    return FilterPredictions(p.name, p.model, _AtEnd(p.value, n - 1),
                             _AtEnd(p.probability, n - 1), _AtEnd(p.flag, n - 1),
                             _AtEnd(p.known, n - 1))


def step(filters: LiveFilters, bar, state, view) -> dict | None:
    """One bar of a live symbol (`engine.live.state.SymbolState` after `advance`): advance
    the setup history, and judge the decision when the ensemble changed its mind to a side.
    Returns the decision's record, None when there is nothing to judge."""
    side = int(state.side)
    weights = (dict(state.decision.weights) if state.decision is not None
               else {sid: 1.0 for sid in state.stances})
    agree = tuple(sid for sid, (s, _) in state.stances.items() if int(s) == side)
    filters.on_bar(bar.symbol, float(bar.open), side, bool(view.changed), agree,
                   state.regime_label)
    filters.advance(bar.symbol, state.data[:, 3])
    if not view.changed or side == 0:
        return None
    window = Bars(*(np.ascontiguousarray(state.data[:, i]) for i in range(5)))
    return filters.judge(bar.symbol, window, side=side, regime=state.regime_label,
                         regime_probs=state.probabilities or None, weights=weights,
                         agree=agree, size_multiplier=float(state.size_multiplier))


def prime_from_history(filters: LiveFilters, history: Mapping[str, pd.DataFrame],
                       spec: BacktestSpec) -> None:
    """Prime every symbol from the warm-up bars the live engine loaded, as a backtest over
    the same bars has run: a stored GARCH model's recursion (`LiveFilters.prime_garch`, from
    the first bar after its training range), and with [quality] the setup history, from
    decisions, stances and regime labels of the backtest's own pipeline over them
    (`plan_symbol`, called as `run_backtest` calls it), so a live desk's first decisions see
    the closed setups a backtest over the same bars has seen."""
    from engine.signals.filters.backtest import first_bar_after

    for symbol, frame in history.items():
        stored = filters.layer.stored.get(symbol, {}).get("volatility")
        if filters.garch_model(symbol) is not None:
            first_after = first_bar_after(frame.index, stored.trained_until) \
                if stored.trained_until is not None else 0
            filters.prime_garch(symbol, frame["close"].to_numpy(dtype=np.float64),
                                first_after)
        if filters.layer.quality is None:
            continue
        from engine.signals.pipeline import plan_symbol

        plan = plan_symbol(frame, spec.strategies, spec.ensemble,
                           regime_window=spec.regime_window if spec.regime else None,
                           regime_states=spec.regime_states,
                           regime_refit_every=spec.regime_refit_every, symbol=symbol)
        filters.prime(symbol, Bars.of(frame), plan.decision,
                      {sid: s.side for sid, s in plan.strategy_stances.items()}, plan.regime)


def build_live_filters(cfg, store, symbols) -> LiveFilters | None:
    """The live layer from the configuration and the models stored by `desk train`, or None
    when [filters] and [quality] are off."""
    from engine.signals.filters.backtest import load_stored_models

    filters = cfg.filters if cfg.filters.enabled else None
    quality = cfg.quality if cfg.quality.enabled else None
    if filters is None and quality is None:
        return None
    stored = load_stored_models(cfg, {s: None for s in symbols}, store=store) \
        if filters is not None else {}
    layer = SignalLayer(filters, quality, cfg.engine.allow_short, cfg.engine.size,
                        cfg.risk.max_position_pct, walk_forward=False, stored=stored)
    return LiveFilters(layer, symbols)
