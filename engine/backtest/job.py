"""A whole `desk --backtest` job: load data, build the strategies and the ensemble from the
configuration (or --strategy), run, optionally compare with each strategy alone, store the
run in SQLite with a `backtest.completed` audit entry, and hand back the JSON document.

The command line parses arguments, checks the output paths before the run, and writes
the JSON and HTML files the outcome describes (the engine writes no user files).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from engine.backtest.run import BacktestResult, BacktestSpec, run_backtest
from engine.errors import ConfigError


@dataclass(frozen=True)
class JobOptions:
    data: str
    bars: int | None = None
    seed: int | None = None
    freq: str | None = None
    start: str | None = None
    end: str | None = None
    clean: bool = False
    strategy_specs: Sequence[str] = ()
    compare: bool = False
    walk_forward_models: bool | None = None  # None: [filters] walk_forward decides


@dataclass
class JobOutcome:
    result: BacktestResult
    comparisons: list[BacktestResult] = field(default_factory=list)
    load_s: float = 0.0
    dropped: int = 0
    run_id: int | None = None
    source: str = ""
    symbols: tuple[str, ...] = ()
    document: dict = field(default_factory=dict)  # what --json writes
    report_data: dict = field(default_factory=dict)  # compare, benchmark, closes (--report)
    lifecycle: list = field(default_factory=list)  # weights.updated / status changes


def build_spec(cfg, strategy_specs: Sequence[str] = ()) -> BacktestSpec:
    """The strategies, ensemble and limits a run uses, from --strategy or the config."""
    from engine.signals.ensemble import EnsembleManager
    from engine.signals.strategies.registry import from_config, parse_spec
    from engine.trading.risk import RiskLimits

    weights = {member.id: member.weight for member in cfg.ensemble.strategies}
    if strategy_specs:
        built = [parse_spec(spec) for spec in strategy_specs]
        strategies = {s.id: s for s in built}
        if len(strategies) != len(built):
            raise ConfigError("--strategy: the same strategy is given twice")
    else:
        table = from_config(cfg.strategies)
        ids = list(weights) if cfg.ensemble.enabled else list(weights)[:1]
        strategies = {sid: table[sid] for sid in ids}
    ensemble = None
    if len(strategies) > 1:
        ensemble = EnsembleManager(
            mode=cfg.ensemble.mode,
            strategies=[(sid, float(weights.get(sid, 1.0))) for sid in strategies],
            confidence_threshold=cfg.ensemble.thresholds.confidence,
            vote_ratio=cfg.ensemble.thresholds.vote_ratio,
            dynamic_weights=cfg.ensemble.dynamic_weights,
            performance_window=cfg.ensemble.performance_window,
            lifecycle=lifecycle_book(cfg, {sid: float(weights.get(sid, 1.0))
                                           for sid in strategies}),
        )
        if cfg.ensemble.weights == "qlearn":  # a stored policy sets the weights bar by bar
            from engine.optimize.policy import load_policy

            ensemble.policy = load_policy(cfg, ensemble.ids, ensemble.base_weights)
    label = "ensemble" if ensemble else next(iter(strategies))
    return BacktestSpec(
        strategies=strategies,
        ensemble=ensemble,
        cash=cfg.broker.cash,
        fee=cfg.broker.fee,
        slippage_bps=cfg.broker.slippage_bps,
        size=cfg.engine.size,
        allow_short=cfg.engine.allow_short,
        risk_limits=RiskLimits.from_config(cfg),  # [risk] and [compliance]
        risk_free_rate=cfg.metrics.risk_free_rate,
        regime=cfg.engine.regime,
        regime_window=cfg.engine.regime_window,
        regime_states=cfg.engine.regime_states,
        regime_refit_every=cfg.engine.regime_refit_every,
        label=label,
        execution=cfg.execution,
        # The live desk warms up on [feed] history_bars before it trades; a backtest
        # primes the strategies on the same first bars so both trade the same span.
        warmup=cfg.feed.history_bars,
        multiplier=_multiplier(cfg),
        # [portfolio] enabled: the kernel's periodic rebalance check (engine.portfolio.mode)
        portfolio=_portfolio(cfg),
        stops=not cfg.portfolio.enabled,  # a portfolio book exits by rebalancing
    )


def _portfolio(cfg):
    if not cfg.portfolio.enabled:
        return None
    from engine.portfolio.backtest_settings import settings_from_config

    return settings_from_config(cfg)


def _multiplier(cfg):
    """Symbol -> contract multiplier: [instruments] tables, else each symbol's shape (an
    OCC option symbol is 100 shares; spot is 1)."""
    from engine.instruments.registry import Instruments

    return Instruments(cfg.instruments).multiplier


def lifecycle_book(cfg, base: dict[str, float]):
    """The ensemble's lifecycle ([ensemble.adaptive], [strategies.retirement])."""
    from engine.lifecycle.book import LifecycleBook

    adaptive = cfg.ensemble.adaptive
    if cfg.ensemble.weights == "qlearn":  # the policy learns the weights; the bounds stay
        adaptive = replace(adaptive, enabled=False)
    return LifecycleBook(base=base, adaptive=adaptive, retirement=cfg.retirement,
                         window=cfg.ensemble.performance_window,
                         long_only=not cfg.engine.allow_short)


def run_job(
    cfg,
    options: JobOptions,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> JobOutcome:
    from engine.data.sources import load_source

    started = time.perf_counter()
    market = load_source(
        options.data, bars=options.bars, seed=options.seed, freq=options.freq,
        start=options.start, end=options.end, clean=options.clean,
    )
    if market.recording is not None:  # recorded microstructure: order-flow columns per bar
        from engine.microstructure.replay import market_with_flow

        market = market_with_flow(market, cfg)
    load_s = time.perf_counter() - started
    spec = build_spec(cfg, options.strategy_specs)
    from engine.signals.filters.backtest import build_layer

    spec = replace(spec, signal_layer=build_layer(cfg, market.frames,
                                                  options.walk_forward_models))
    for symbol, frame in market.frames.items():
        frame.attrs["symbol"] = symbol  # names each symbol's lifecycle book
    result = run_backtest(market.frames, spec, progress=progress)
    result.timing["load_s"] = load_s
    comparisons = []
    if options.compare and len(spec.strategies) > 1:
        for sid, strategy in spec.strategies.items():
            alone = BacktestSpec(**{**spec.__dict__, "strategies": {sid: strategy},
                                    "ensemble": None, "label": sid})
            comparisons.append(run_backtest(market.frames, alone))
    if options.compare and spec.signal_layer is not None:
        # The same run with the filters and the quality score off, beside it.
        comparisons.append(run_backtest(market.frames, replace(
            spec, signal_layer=None, label=f"{spec.label} (filters off)")))
    outcome = JobOutcome(result, comparisons, load_s, market.dropped, source=market.source,
                         symbols=tuple(market.frames))
    if spec.ensemble is not None and spec.ensemble.lifecycle is not None:
        outcome.lifecycle = spec.ensemble.lifecycle.log.drain()
    outcome.document = result_document(outcome, cfg)
    from engine.backtest.report_data import report_data

    outcome.report_data = report_data(market.frames, float(spec.cash), result.equity,
                                      comparisons, risk_free_rate=spec.risk_free_rate)
    outcome.run_id = record_run(cfg, outcome, outcome.document)
    return outcome


def result_document(outcome: JobOutcome, cfg) -> dict:
    """The --json document: metrics, trades, timing and the configuration used."""
    result = outcome.result
    timing = {
        "load_s": round(outcome.load_s, 6),
        "run_s": round(result.timing["run_s"], 6),
        "bars": result.timing["bars"],
        "bars_per_s": round(result.timing["bars_per_s"], 1),
    }
    document = {
        "metrics": _jsonable(result.metrics),
        "trades": [t.to_dict() for t in result.trades],
        "timing": timing,
        "config": cfg.to_dict() | {"run": {
            "source": outcome.source,
            "symbols": list(outcome.symbols),
            "strategies": list(result_strategies(outcome)),
            "label": result.label,
            "dropped_rows": outcome.dropped,
        }},
        "stats": _jsonable(result.stats),
        "regimes": result.regimes,
        # The ensemble's decisions where it changed its mind: votes, weights, confidence.
        "decisions": [_jsonable(d) for d in result.decisions],
    }
    from engine.lifecycle.report import lifecycle_document

    document.update(lifecycle_document(result.trades, outcome.lifecycle))
    if result.stats.get("signal_layer"):
        from engine.signals.filters.summary import total_counts

        # Per filter (and the quality score): decisions vetoed and passed, all symbols.
        document["filters"] = total_counts(result.stats["signal_layer"])
    if outcome.comparisons:
        document["compare"] = {r.label: _jsonable(r.metrics) for r in outcome.comparisons}
    return document


def result_strategies(outcome: JobOutcome) -> list[str]:
    return [r.label for r in outcome.comparisons] or [outcome.result.label]


def record_run(cfg, outcome: JobOutcome, document: dict) -> int:
    """Store the run (config hash, metrics, trades) and one `backtest.completed` entry."""
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.runs import save_run

    store = open_store(cfg)
    try:
        run_id = save_run(
            store,
            config_hash=cfg.hash(),
            config_json=json.dumps(document["config"], sort_keys=True),
            data_source=outcome.source,
            metrics_json=json.dumps(document["metrics"], sort_keys=True),
            timing_json=json.dumps(document["timing"], sort_keys=True),
            trades=document["trades"],
            equity=outcome.result.equity,  # per-bar curve: desk montecarlo --run resamples it
            report_data=outcome.report_data,
            audit={
                "config_hash": cfg.hash(),
                "source": outcome.source,
                "label": outcome.result.label,
                "bars": outcome.result.timing["bars"],
                "trades": len(outcome.result.trades),
                "total_return": document["metrics"].get("total_return"),
                "sharpe": document["metrics"].get("sharpe"),
            },
        )
        if "decomposition" in document:  # `desk report strategies --run ID` reads it
            from engine.adapters.sqlite.lifecycle import save_run_lifecycle

            save_run_lifecycle(store, run_id, document)
    finally:
        store.close()
    return run_id


def _jsonable(values: dict) -> dict:
    """Metrics as JSON: infinities and NaN become null so the file stays valid JSON."""
    out = {}
    for key, value in values.items():
        if isinstance(value, float) and (value != value or value in (float("inf"),
                                                                     float("-inf"))):
            out[key] = None
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        else:
            out[key] = value
    return out
