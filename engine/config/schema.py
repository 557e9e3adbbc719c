"""Desk's configuration: one typed, frozen `Config` built from desk.toml at the edge.

The packaged desk.toml is the single source of defaults: a user file is merged over it, and
the packaged [strategies] tables are the schema of strategy parameters. Every bad value stops
with one line naming the file, the key path, what was expected and what was found.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from engine.config import checks as c
from engine.errors import ConfigError
from engine.lifecycle.adaptive import AdaptiveSettings
from engine.lifecycle.health import RetirementSettings

CONFIG_NAME = "desk.toml"


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping (strategy parameters, strategies by id)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


@dataclass(frozen=True)
class StoreConfig:
    path: str
    busy_timeout_ms: int


@dataclass(frozen=True)
class FeedConfig:
    kind: str
    symbols: tuple[str, ...]
    seed: int
    freq: str
    speed: float
    history_bars: int
    source: str
    stream_url: str


@dataclass(frozen=True)
class BrokerConfig:
    kind: str
    cash: Decimal
    fee: Decimal
    slippage_bps: Decimal
    partial_fills: bool
    max_volume_fraction: Decimal
    exchange: str
    sandbox: bool
    # Seconds startup retries the exchange (load_markets) with backoff before failing.
    startup_timeout: float


@dataclass(frozen=True)
class EngineConfig:
    approval: str
    approval_timeout: int
    size: float
    allow_short: bool
    regime: bool
    regime_states: int
    regime_window: int
    regime_refit_every: int


@dataclass(frozen=True)
class RiskScoreConfig:
    elevated: float
    high: float
    critical: float


@dataclass(frozen=True)
class RiskConfig:
    max_position_pct: float
    max_daily_loss_pct: float
    max_drawdown_pct: float
    min_order_notional: Decimal
    max_correlation: float
    correlation_window: int
    correlation_action: str
    max_portfolio_volatility: float
    max_concentration: float
    max_assets: int
    score: RiskScoreConfig


@dataclass(frozen=True)
class TradingHours:
    symbol: str
    timezone: str
    days: tuple[str, ...]
    start: str  # "HH:MM", local time
    end: str  # "HH:MM", local time; end before start spans midnight


@dataclass(frozen=True)
class ComplianceConfig:
    enabled: bool
    max_position_pct: float
    max_daily_loss_pct: float
    min_adv: Decimal
    liquidity_window: int
    restricted_symbols: tuple[str, ...]
    trading_hours: tuple[TradingHours, ...]


@dataclass(frozen=True)
class StressScenarioConfig:
    name: str
    shock: float
    vol_multiplier: float
    shocks: FrozenMap  # symbol -> shock overriding `shock` for that asset

    def __post_init__(self) -> None:
        object.__setattr__(self, "shocks", FrozenMap(self.shocks))


@dataclass(frozen=True)
class StressConfig:
    scenarios: tuple[StressScenarioConfig, ...]


@dataclass(frozen=True)
class MetricsConfig:
    risk_free_rate: float


@dataclass(frozen=True)
class EnsembleThresholds:
    confidence: float
    vote_ratio: float


@dataclass(frozen=True)
class EnsembleMember:
    id: str
    weight: float


@dataclass(frozen=True)
class EnsembleConfig:
    enabled: bool
    mode: str
    dynamic_weights: bool
    performance_window: int
    thresholds: EnsembleThresholds
    strategies: tuple[EnsembleMember, ...]
    adaptive: AdaptiveSettings  # [ensemble.adaptive]
    weights: str = "base"  # "base" or "qlearn" (a stored Q-learning policy sets them)
    qlearn_run: int = 0  # the `desk optimize --method qlearn` run whose policy does


@dataclass(frozen=True)
class SmartExecution:
    split_threshold: Decimal
    max_parts: int
    delay_seconds: float
    fallback_mode: str


@dataclass(frozen=True)
class TwapExecution:
    duration_minutes: float
    parts: int
    fallback_mode: str


@dataclass(frozen=True)
class VwapExecution:
    duration_minutes: float
    parts: int
    lookback_minutes: float
    fallback_mode: str


@dataclass(frozen=True)
class DcaExecution:
    interval_minutes: float
    parts: int
    fallback_mode: str


@dataclass(frozen=True)
class ExecutionConfig:
    mode: str
    catch_up: str
    smart: SmartExecution
    twap: TwapExecution
    vwap: VwapExecution
    dca: DcaExecution


@dataclass(frozen=True)
class AuditConfig:
    checkpoint_every: int
    key_path: str


@dataclass(frozen=True)
class DeskConfig:
    theme: str


@dataclass(frozen=True)
class DirectionFilterConfig:
    enabled: bool
    type: str
    confidence_threshold: float
    lookback: int
    horizon: int
    dead_band: float
    model: str


@dataclass(frozen=True)
class VolatilityFilterConfig:
    enabled: bool
    type: str
    confidence_threshold: float
    lookback: int
    forecast_horizon: int
    threshold: float
    block_high_volatility: bool
    distribution: str
    model: str


@dataclass(frozen=True)
class VolumeFilterConfig:
    enabled: bool
    type: str
    confidence_threshold: float
    lookback: int
    threshold: float
    require_surge: bool
    model: str


@dataclass(frozen=True)
class FiltersConfig:
    enabled: bool
    confidence_threshold: float
    walk_forward: bool
    retrain_every: int
    train_window: int
    direction: DirectionFilterConfig
    volatility: VolatilityFilterConfig
    volume: VolumeFilterConfig


@dataclass(frozen=True)
class QualityConfig:
    enabled: bool
    min_score: float
    max_multiplier: float
    min_trades: int


@dataclass(frozen=True)
class CompositeWeights:
    sharpe: float
    total_return: float
    win_rate: float
    max_drawdown: float


@dataclass(frozen=True)
class GeneticSettings:
    population: int
    generations: int
    crossover_rate: float
    mutation_rate: float
    patience: int
    tolerance: float


@dataclass(frozen=True)
class EvolutionSettings:
    popsize: int
    mutation_min: float
    mutation_max: float
    recombination: float


@dataclass(frozen=True)
class McmcSettings:
    chains: int
    burn_in: int
    thin: int
    temperature: float
    target_acceptance: float
    initial_scale: float


@dataclass(frozen=True)
class WalkForwardSettings:
    unit: str
    train: int
    test: int
    anchored: bool
    min_observations: int
    improvement_threshold: float
    inner_method: str


@dataclass(frozen=True)
class QLearningSettings:
    alpha: float
    gamma: float
    epsilon: float
    epsilon_decay: float
    epsilon_min: float
    episodes: int
    reward: str
    reward_window: int
    step_bars: int
    trend_period: int
    vol_period: int
    actions: str


@dataclass(frozen=True)
class OptimizationConfig:
    fitness: str
    trials: int
    workers: int
    sensitivity_points: int
    composite: CompositeWeights
    ga: GeneticSettings
    de: EvolutionSettings
    mcmc: McmcSettings
    wfo: WalkForwardSettings
    qlearn: QLearningSettings


@dataclass(frozen=True)
class MicrostructureConfig:
    """[microstructure]: the order-flow analytics (engine.microstructure)."""

    window: int
    z_window: int
    min_periods: int
    spread_ratio: float
    depth_ratio: float
    sim_updates: int
    depth_levels: int
    alert_confidence: float


@dataclass(frozen=True)
class PortfolioRotation:
    method: str
    lookback: int
    top_n: int


@dataclass(frozen=True)
class PortfolioRebalancing:
    scheme: str
    window: int
    max_weight: float
    mode: str
    threshold: float
    relative_threshold: float
    period_days: float
    min_interval_days: float


@dataclass(frozen=True)
class PortfolioHedging:
    enabled: bool
    adx_below: float
    volatility_above: float
    drawdown_above: float
    max_stablecoin_pct: float
    step: float


@dataclass(frozen=True)
class PortfolioAllocation:
    min_position_size: Decimal
    max_position_size: Decimal
    max_assets: int
    risk_per_asset: float


@dataclass(frozen=True)
class PortfolioDrawdown:
    warning: float
    critical: float
    warning_scale: float
    critical_scale: float


@dataclass(frozen=True)
class PortfolioConfig:
    """[portfolio]: the capital layer (engine.portfolio)."""

    enabled: bool
    rotation: PortfolioRotation
    rebalancing: PortfolioRebalancing
    hedging: PortfolioHedging
    allocation: PortfolioAllocation
    drawdown: PortfolioDrawdown


@dataclass(frozen=True)
class Config:
    store: StoreConfig
    feed: FeedConfig
    broker: BrokerConfig
    engine: EngineConfig
    risk: RiskConfig
    ensemble: EnsembleConfig
    strategies: FrozenMap  # strategy id -> FrozenMap of its parameters
    execution: ExecutionConfig
    audit: AuditConfig
    desk: DeskConfig
    filters: FiltersConfig
    quality: QualityConfig
    metrics: MetricsConfig
    compliance: ComplianceConfig
    stress: StressConfig
    retirement: RetirementSettings  # [strategies.retirement]
    optimization: OptimizationConfig
    microstructure: MicrostructureConfig
    portfolio: PortfolioConfig
    instruments: FrozenMap  # symbol -> FrozenMap of its [instruments] settings (checked)
    # The file the values came from; not part of equality or the hash.
    source: Path = field(compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The values as plain JSON data shaped like desk.toml (Decimals as strings)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)
               if f.name not in ("source", "retirement")}
        out["strategies"]["retirement"] = _plain(self.retirement)  # where desk.toml has it
        return out

    def hash(self) -> str:
        """sha256 of the values: equal configurations hash equal whatever file they came from."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- schema ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    cls: type
    keys: dict[str, Any]  # key -> check, nested _Table, or _MEMBERS


_MEMBERS = "ensemble members"  # marker: the [[ensemble.strategies]] array of tables


@dataclass(frozen=True)
class _Array:
    """An array of tables ([[table.key]]), each entry checked like a table."""

    cls: type
    keys: dict[str, Any]
    max_items: int = 100
    defaults: tuple[tuple[str, Any], ...] = ()  # keys an entry may leave out

_MARKET = c.choice("market")
# Bounds shared by several keys (see engine.config.checks for why each ceiling is where it is).
_PARTS = c.integer(1, c.MAX_PARTS)
_MINUTES = c.number(0, c.MINUTES_PER_YEAR)
_MONEY = c.amount(0, c.MAX_MONEY)
# An id as ccxt spells them ("binance", "coinbaseexchange"), and a websocket base URL.
_EXCHANGE = c.pattern(r"[a-z][a-z0-9_]{0,63}", "a ccxt exchange id (lower-case letters, digits, _)")
_WS_URL = c.pattern(r"wss?://[^\s]{1,2000}", 'a "ws://" or "wss://" URL')

_SCHEMA: dict[str, _Table] = {
    "store": _Table(
        StoreConfig,
        # Up to an hour; SQLite holds the timeout in a 32-bit int of milliseconds.
        {"path": c.path(), "busy_timeout_ms": c.integer(0, 3_600_000)},
    ),
    "feed": _Table(
        FeedConfig,
        {
            "kind": c.choice("sim", "replay", "ccxt"),
            "symbols": c.symbols(),
            "seed": c.integer(0, 2**32 - 1),  # what numpy's seeding takes as one word
            "freq": c.frequency(),
            # 0: as fast as the engine steps (a headless replay). Otherwise slower than
            # 1/1000 of real time leaves hours between bars; faster than a million times is
            # no longer a replay anyone watches.
            "speed": c.speed(),
            "history_bars": c.integer(1, 1_000_000),
            "source": c.text(c.MAX_PATH),
            "stream_url": _WS_URL,
        },
    ),
    "broker": _Table(
        BrokerConfig,
        {
            "kind": c.choice("paper", "ccxt"),
            "cash": _MONEY,
            "fee": c.amount(0, 1, low_open=False, high_open=True),
            "slippage_bps": c.amount(0, 10000, low_open=False, high_open=True),
            "partial_fills": c.boolean(),
            "max_volume_fraction": c.amount(0, 1),
            "exchange": _EXCHANGE,
            "sandbox": c.boolean(),
            "startup_timeout": c.number(0, 86_400),
        },
    ),
    "engine": _Table(
        EngineConfig,
        {
            "approval": c.choice("manual", "auto"),
            "approval_timeout": c.integer(1, c.SECONDS_PER_YEAR),
            "size": c.fraction(),
            "allow_short": c.boolean(),
            "regime": c.boolean(),
            # Beyond 10 states the labels (bull / bear / sideways) stop meaning anything
            # and a fit on a few hundred bars has too many parameters.
            "regime_states": c.integer(2, 10),
            # The lower bound, 10 x regime_states, is checked in _cross_check.
            "regime_window": c.integer(1, 1_000_000),
            # Each refit costs one EM fit (~0.1 s): the bound keeps a backtest's fits finite.
            "regime_refit_every": c.integer(1, 1_000_000),
        },
    ),
    "risk": _Table(
        RiskConfig,
        {
            "max_position_pct": c.fraction(),
            "max_daily_loss_pct": c.fraction(),
            "max_drawdown_pct": c.fraction(),
            "min_order_notional": c.amount(0, c.MAX_MONEY, low_open=False),
            "max_correlation": c.number(0, 1),
            # At least 2 returns make a correlation; 100,000 bars is over a year of minutes.
            "correlation_window": c.integer(2, 100_000),
            "correlation_action": c.choice("deny", "scale"),
            # Annualized; 10 (1,000%) is beyond any book a limit could mean.
            "max_portfolio_volatility": c.number(0, 10),
            "max_concentration": c.fraction(),
            "max_assets": c.integer(1, c.MAX_SYMBOLS),
            "score": _Table(
                RiskScoreConfig,
                {
                    # Their order (elevated < high < critical) is checked in _cross_check.
                    "elevated": c.number(0, 100),
                    "high": c.number(0, 100),
                    "critical": c.number(0, 100),
                },
            ),
        },
    ),
    "ensemble": _Table(
        EnsembleConfig,
        {
            "enabled": c.boolean(),
            "mode": c.choice("majority_vote", "weighted_vote", "confidence_average"),
            "dynamic_weights": c.boolean(),
            "performance_window": c.integer(1, 100_000),
            "thresholds": _Table(
                EnsembleThresholds,
                {
                    "confidence": c.number(0, 1, low_open=False),
                    # A winning side needs some share of the votes: 0 would let any
                    # single vote win (and the ensemble refuses it).
                    "vote_ratio": c.number(0, 1),
                },
            ),
            "strategies": _MEMBERS,
            "weights": c.choice("base", "qlearn"),
            "qlearn_run": c.integer(0, 2**63 - 1),  # an SQLite row id; 0: none
            "adaptive": _Table(
                AdaptiveSettings,
                {
                    "enabled": c.boolean(),
                    "update_every": c.integer(1, 100_000),
                    "max_change": c.number(0, 1),
                    "min_mult": c.number(0, 1),
                    "max_mult": c.number(1, 100, low_open=False),
                    "per_regime": c.boolean(),
                    "min_trades": c.integer(1, 100_000),
                    "update_hours": c.number(0, c.SECONDS_PER_YEAR / 3600, low_open=False),
                },
            ),
        },
    ),
    "execution": _Table(
        ExecutionConfig,
        {
            "mode": c.choice("market", "smart", "twap", "vwap", "dca"),
            "catch_up": c.choice("skip", "run"),
            "smart": _Table(
                SmartExecution,
                {
                    "split_threshold": _MONEY,
                    "max_parts": _PARTS,
                    "delay_seconds": c.number(0, c.SECONDS_PER_YEAR, low_open=False),
                    "fallback_mode": _MARKET,
                },
            ),
            "twap": _Table(
                TwapExecution,
                {"duration_minutes": _MINUTES, "parts": _PARTS, "fallback_mode": _MARKET},
            ),
            "vwap": _Table(
                VwapExecution,
                {
                    "duration_minutes": _MINUTES,
                    "parts": _PARTS,
                    "lookback_minutes": _MINUTES,
                    "fallback_mode": _MARKET,
                },
            ),
            "dca": _Table(
                DcaExecution,
                {"interval_minutes": _MINUTES, "parts": _PARTS, "fallback_mode": _MARKET},
            ),
        },
    ),
    "audit": _Table(
        AuditConfig,
        {
            "checkpoint_every": c.integer(1, 1_000_000),
            # The signing key is created where it is named: a typo must not create
            # directories, and a directory must not be taken for the key.
            "key_path": c.path(parent_must_exist=True),
        },
    ),
    "desk": _Table(DeskConfig, {"theme": c.choice("desk-dark", "desk-light")}),
    "portfolio": _Table(
        PortfolioConfig,
        {
            "enabled": c.boolean(),
            "rotation": _Table(PortfolioRotation, {
                "method": c.choice("momentum", "signal", "both"),
                "lookback": c.integer(1, 100_000),
                "top_n": c.integer(1, c.MAX_SYMBOLS),
            }),
            "rebalancing": _Table(PortfolioRebalancing, {
                "scheme": c.choice("max_sharpe", "min_vol", "risk_parity", "mean_variance",
                                   "min_cvar", "equal", "inverse_vol", "momentum", "kelly"),
                # Bars of returns the scheme is estimated on (covariances need some).
                "window": c.integer(20, 100_000),
                "max_weight": c.number(0, 1),
                "mode": c.choice("threshold", "periodic"),
                "threshold": c.fraction(),
                "relative_threshold": c.number(0, 10),
                "period_days": c.number(0, 366),
                "min_interval_days": c.number(0, 366, low_open=False),
            }),
            "hedging": _Table(PortfolioHedging, {
                "enabled": c.boolean(),
                "adx_below": c.number(0, 100, low_open=False),
                "volatility_above": c.number(0, 10),
                "drawdown_above": c.fraction(),
                "max_stablecoin_pct": c.number(0, 1, low_open=False),
                "step": c.fraction(),
            }),
            "allocation": _Table(PortfolioAllocation, {
                "min_position_size": c.amount(0, c.MAX_MONEY, low_open=False),
                "max_position_size": _MONEY,
                "max_assets": c.integer(1, c.MAX_SYMBOLS),
                "risk_per_asset": c.fraction(),
            }),
            "drawdown": _Table(PortfolioDrawdown, {
                "warning": c.fraction(),
                "critical": c.fraction(),
                "warning_scale": c.fraction(),
                "critical_scale": c.fraction(),
            }),
        },
    ),
    "microstructure": _Table(
        MicrostructureConfig,
        {
            # Windows in book updates (or trades); a z-score needs more values than it
            # has periods, and its window must hold the measure's own window.
            "window": c.integer(2, 100_000),
            "z_window": c.integer(10, 1_000_000),
            "min_periods": c.integer(2, 1_000_000),
            "spread_ratio": c.number(1, 1000),
            "depth_ratio": c.number(0, 1),
            "sim_updates": c.integer(2, 10_000),
            "depth_levels": c.integer(1, 50),
            "alert_confidence": c.number(0, 1),
        },
    ),
    "optimization": _Table(
        OptimizationConfig,
        {
            "fitness": c.choice("sharpe", "sortino", "calmar", "total_return", "composite"),
            "trials": c.integer(1, 1_000_000),
            "workers": c.integer(0, 4096),  # 0: the machine's cores
            "sensitivity_points": c.integer(0, 1000),
            "composite": _Table(
                CompositeWeights,
                {name: c.number(-1000, 1000, low_open=False)
                 for name in ("sharpe", "total_return", "win_rate", "max_drawdown")},
            ),
            "ga": _Table(
                GeneticSettings,
                {
                    "population": c.integer(2, 100_000),
                    "generations": c.integer(1, 100_000),
                    "crossover_rate": c.number(0, 1, low_open=False),
                    "mutation_rate": c.number(0, 1, low_open=False),
                    "patience": c.integer(1, 100_000),
                    "tolerance": c.number(0, 1000, low_open=False),
                },
            ),
            "de": _Table(
                EvolutionSettings,
                {
                    "popsize": c.integer(2, 10_000),
                    "mutation_min": c.number(0, 2, low_open=False),
                    "mutation_max": c.number(0, 2, high_open=True),
                    "recombination": c.number(0, 1, low_open=False),
                },
            ),
            "mcmc": _Table(
                McmcSettings,
                {
                    "chains": c.integer(2, 64),  # R-hat needs at least two
                    "burn_in": c.integer(0, 10_000_000),
                    "thin": c.integer(1, 1_000_000),
                    "temperature": c.number(0, 1e6),
                    "target_acceptance": c.number(0, 1, high_open=True),
                    "initial_scale": c.number(0, 10),
                },
            ),
            "wfo": _Table(
                WalkForwardSettings,
                {
                    "unit": c.choice("bars", "days"),
                    "train": c.integer(1, 10_000_000),
                    "test": c.integer(1, 10_000_000),
                    "anchored": c.boolean(),
                    "min_observations": c.integer(1, 10_000_000),
                    "improvement_threshold": c.number(0, 100, low_open=False),
                    "inner_method": c.choice("grid", "random", "ga", "de", "mcmc"),
                },
            ),
            "qlearn": _Table(
                QLearningSettings,
                {
                    "alpha": c.number(0, 1),
                    "gamma": c.number(0, 1, low_open=False, high_open=True),
                    "epsilon": c.fraction(),
                    "epsilon_decay": c.number(0, 1),
                    "epsilon_min": c.number(0, 1, low_open=False),
                    "episodes": c.integer(1, 1_000_000),
                    "reward": c.choice("pnl", "sharpe"),
                    "reward_window": c.integer(2, 100_000),
                    "step_bars": c.integer(1, 100_000),
                    "trend_period": c.integer(2, 100_000),
                    "vol_period": c.integer(2, 100_000),
                    "actions": c.choice("strategies", "weights"),
                },
            ),
        },
    ),
    "filters": _Table(
        FiltersConfig,
        {
            "enabled": c.boolean(),
            "confidence_threshold": c.number(0, 1, low_open=False),
            "walk_forward": c.boolean(),
            "retrain_every": c.integer(1, 10_000_000),
            "train_window": c.integer(100, 10_000_000),
            "direction": _Table(
                DirectionFilterConfig,
                {
                    "enabled": c.boolean(),
                    "type": c.choice("lightgbm", "random_forest", "logistic"),
                    "confidence_threshold": c.number(0, 1, low_open=False),
                    "lookback": c.integer(2, 10_000),
                    "horizon": c.integer(1, 10_000),
                    "dead_band": c.number(0, 10, low_open=False),
                    "model": c.text(),
                },
            ),
            "volatility": _Table(
                VolatilityFilterConfig,
                {
                    "enabled": c.boolean(),
                    "type": c.choice("garch", "lightgbm", "random_forest"),
                    "confidence_threshold": c.number(0, 1, low_open=False),
                    "lookback": c.integer(2, 10_000),
                    "forecast_horizon": c.integer(1, 10_000),
                    "threshold": c.number(0, 1),
                    "block_high_volatility": c.boolean(),
                    "distribution": c.choice("normal", "t"),
                    "model": c.text(),
                },
            ),
            "volume": _Table(
                VolumeFilterConfig,
                {
                    "enabled": c.boolean(),
                    "type": c.choice("zscore", "lightgbm"),
                    "confidence_threshold": c.number(0, 1, low_open=False),
                    "lookback": c.integer(2, 10_000),
                    "threshold": c.number(0, 100),
                    "require_surge": c.boolean(),
                    "model": c.text(),
                },
            ),
        },
    ),
    "quality": _Table(
        QualityConfig,
        {
            "enabled": c.boolean(),
            "min_score": c.number(0, 1, low_open=False),
            "max_multiplier": c.number(1, 10, low_open=False),
            "min_trades": c.integer(1, 100_000),
        },
    ),
    "metrics": _Table(
        MetricsConfig,
        # Annual; a negative rate is real (2015-2021 in the euro area), beyond 100% is a typo.
        {"risk_free_rate": c.number(-0.1, 1, low_open=False)},
    ),
    "compliance": _Table(
        ComplianceConfig,
        {
            "enabled": c.boolean(),
            "max_position_pct": c.fraction(),
            "max_daily_loss_pct": c.fraction(),
            "min_adv": c.amount(0, c.MAX_MONEY, low_open=False),
            # Days of quote volume averaged; 3,650 is ten years.
            "liquidity_window": c.integer(1, 3650),
            "restricted_symbols": c.symbol_list(),
            "trading_hours": _Array(
                TradingHours,
                {
                    "symbol": c.symbol(),
                    "timezone": c.timezone(),
                    "days": c.weekdays(),
                    "start": c.clock_time(),
                    "end": c.clock_time(),
                },
                defaults=(("days", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),),
            ),
        },
    ),
    "stress": _Table(
        StressConfig,
        {
            "scenarios": _Array(
                StressScenarioConfig,
                {
                    "name": c.pattern(r"[^\x00-\x1f]{1,64}", "a name of 1 to 64 characters"),
                    # A price can fall 100% at most; a rise of 1,000% is beyond any scenario.
                    "shock": c.number(-1, 10, low_open=False),
                    "vol_multiplier": c.number(0, 100),
                    "shocks": c.symbol_numbers(-1, 10),
                },
                defaults=(("shocks", {}),),
            ),
        },
    ),
}
_TOP_LEVEL = [*_SCHEMA, "strategies", "instruments"]
_RETIREMENT = _Table(
    RetirementSettings,
    {
        "enabled": c.boolean(),
        "window": c.integer(1, 100_000),
        "min_trades": c.integer(1, 100_000),
        "min_expectancy": c.number(-1, 1, low_open=False),
        "min_profit_factor": c.number(0, 100, low_open=False),
        "min_win_rate": c.number(0, 1, low_open=False),
        "max_drawdown": c.number(0, 1),
        "failed_checks": c.integer(1, 4),
        "degraded_factor": c.number(0, 1),
        "suspend_after": c.integer(1, 100_000),
        "recovery_trades": c.integer(1, 100_000),
        "cooldown_hours": c.number(0, c.SECONDS_PER_YEAR / 3600, low_open=False),
        "retire_after_days": c.number(0, 3660, low_open=False),
    },
)


# --- where an error is reported -------------------------------------------------------------


def _toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 60 else shown[:56] + '..."'
    if isinstance(value, list | tuple):
        shown = "[" + ", ".join(_toml_text(item) for item in value[:8]) + "]"
        # A long array would turn the one-line error into a screenful.
        if len(value) > 8 or len(shown) > 80:
            shown = shown[:72] + f" ...{len(value)} items]"
        return shown
    if isinstance(value, dict):
        return "a table"
    return str(value)


class _Origin:
    """Formats errors for values read from one file: `file: [table] key: message`."""

    def __init__(self, display: str) -> None:
        self.display = display

    def show(self, value: Any) -> str:
        return _toml_text(value)

    def fail(self, where: str, key: str, message: str) -> NoReturn:
        place = f"{where} {key}" if where and key else where or key
        raise ConfigError(f"{self.display}: {place}: {message}")


class _FlagOrigin(_Origin):
    """Formats errors for values given on the command line: `--flag: message`."""

    def __init__(self, display: str, flags: dict[tuple[str, str], str]) -> None:
        super().__init__(display)
        self.flags = flags

    def show(self, value: Any) -> str:
        if isinstance(value, str) and value.isprintable() and len(value) <= 60:
            return value
        return _toml_text(value)

    def fail(self, where: str, key: str, message: str) -> NoReturn:
        flag = self.flags.get((where, key))
        if flag is None:
            super().fail(where, key, message)
        raise ConfigError(f"{flag}: {message}")


def _suggest(name: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


# --- building the typed object --------------------------------------------------------------


def _checked(check: Any, value: Any, where: str, key: str, origin: _Origin) -> Any:
    try:
        return check(value)
    except c.Invalid as bad:
        origin.fail(where, key, f"expected {bad.expected}, got {origin.show(value)}{bad.hint}")


def _table(spec: _Table, data: Any, where: str, origin: _Origin, context: dict) -> Any:
    for key in data:
        if key not in spec.keys:
            origin.fail(where, key, "unknown key" + _suggest(key, list(spec.keys)))
    values = {}
    for key, sub in spec.keys.items():
        if key not in data:
            origin.fail(where, key, "missing key")
        raw = data[key]
        inner = f"[{where[1:-1]}.{key}]"
        if isinstance(sub, _Table):
            if not isinstance(raw, dict):
                origin.fail(where, key, f"expected a table, got {origin.show(raw)}")
            values[key] = _table(sub, raw, inner, origin, context)
        elif sub is _MEMBERS:
            values[key] = _members(raw, f"[{inner}]", where, key, origin, context)
        elif isinstance(sub, _Array):
            values[key] = _array(sub, raw, f"[{inner}]", where, key, origin, context)
        else:
            values[key] = _checked(sub, raw, where, key, origin)
    return spec.cls(**values)


def _array(
    spec: _Array, raw: Any, label: str, where: str, key: str, origin: _Origin, context: dict
) -> tuple[Any, ...]:
    """Each entry of an array of tables, named `[[table.key]] #n` in errors."""
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        origin.fail(where, key, f"expected an array of tables, got {origin.show(raw)}")
    if len(raw) > spec.max_items:
        origin.fail(where, key, f"expected at most {spec.max_items} entries, got {len(raw)}")
    table = _Table(spec.cls, spec.keys)
    return tuple(_table(table, dict(spec.defaults) | entry, f"{label} #{number}", origin,
                        context) for number, entry in enumerate(raw, start=1))


def _members(
    raw: Any, label: str, where: str, key: str, origin: _Origin, context: dict
) -> tuple[EnsembleMember, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(m, dict) for m in raw):
        expected = "a non-empty array of tables with id and weight"
        origin.fail(where, key, f"expected {expected}, got {origin.show(raw)}")
    known = list(context["strategies"])
    members: list[EnsembleMember] = []
    for number, entry in enumerate(raw, start=1):
        here = f"{label} #{number}"
        for name in entry:
            if name not in ("id", "weight"):
                origin.fail(here, name, "unknown key" + _suggest(name, ["id", "weight"]))
        for name in ("id", "weight"):
            if name not in entry:
                origin.fail(here, name, "missing key")
        member_id = _checked(c.text(), entry["id"], here, "id", origin)
        if member_id not in known:
            found = origin.show(member_id)
            origin.fail(
                here,
                "id",
                f"expected a strategy id from [strategies], got {found}"
                + _suggest(member_id, known),
            )
        if any(m.id == member_id for m in members):
            origin.fail(here, "id", f'expected each strategy once, got "{member_id}" twice')
        weight = _checked(c.number(0, 10**6), entry["weight"], here, "weight", origin)
        members.append(EnsembleMember(member_id, weight))
    return tuple(members)


def _strategies(data: Any, schema: Mapping[str, Any], origin: _Origin) -> FrozenMap:
    if not isinstance(data, dict):
        origin.fail("", "strategies", f"expected a table, got {origin.show(data)}")
    known = list(schema)
    result = {}
    for strategy_id, params in data.items():
        if strategy_id not in schema:
            origin.fail(
                "[strategies]", strategy_id, "unknown strategy" + _suggest(strategy_id, known)
            )
        if not isinstance(params, dict):
            origin.fail("[strategies]", strategy_id, f"expected a table, got {origin.show(params)}")
        defaults = schema[strategy_id]
        where = f"[strategies.{strategy_id}]"
        values = {}
        for key, value in params.items():
            if key not in defaults:
                origin.fail(where, key, "unknown key" + _suggest(key, list(defaults)))
            values[key] = _checked(c.like(defaults[key]), value, where, key, origin)
        result[strategy_id] = FrozenMap({**defaults, **values})
    return FrozenMap(result)


def _instruments(data: Any, origin: _Origin) -> FrozenMap:
    """[instruments."SYMBOL"] tables: each is built into its instrument once, so a bad one
    stops here naming the symbol and key. Dates are kept as YYYY-MM-DD text (JSON data)."""
    from engine.instruments.errors import InstrumentSettingError
    from engine.instruments.registry import instrument_for

    if not isinstance(data, dict):
        origin.fail("", "instruments", f"expected a table, got {origin.show(data)}")
    result = {}
    for symbol, settings in data.items():
        where = f'[instruments."{symbol}"]'
        if not isinstance(settings, dict):
            origin.fail("[instruments]", f'"{symbol}"',
                        f"expected a table, got {origin.show(settings)}")
        plain = {key: value.isoformat() if hasattr(value, "isoformat") else value
                 for key, value in settings.items()}
        try:
            instrument_for(symbol, plain)
        except InstrumentSettingError as error:
            origin.fail(where, error.key, error.reason)
        result[symbol] = FrozenMap(plain)
    return FrozenMap(result)


def _build(data: dict[str, Any], origin: _Origin, source: Path) -> Config:
    for key in data:
        if key not in _TOP_LEVEL:
            kind = "unknown table" if isinstance(data[key], dict) else "unknown key"
            origin.fail("", key, kind + _suggest(key, _TOP_LEVEL))
    schema = _packaged()["strategies"]
    schema.pop("retirement", None)  # [strategies.retirement] is the lifecycle's, not a strategy
    strategies = data.get("strategies", {})
    retirement = strategies.pop("retirement", {}) if isinstance(strategies, dict) else {}
    values: dict[str, Any] = {"strategies": _strategies(strategies, schema, origin)}
    values["instruments"] = _instruments(data.get("instruments", {}), origin)
    if not isinstance(retirement, dict):
        found = origin.show(retirement)
        origin.fail("[strategies]", "retirement", f"expected a table, got {found}")
    values["retirement"] = _table(_RETIREMENT, retirement, "[strategies.retirement]", origin, {})
    context = {"strategies": values["strategies"]}
    for name, spec in _SCHEMA.items():
        if name not in data:
            origin.fail("", name, "missing table")
        if not isinstance(data[name], dict):
            origin.fail("", name, f"expected a table, got {origin.show(data[name])}")
        values[name] = _table(spec, data[name], f"[{name}]", origin, context)
    config = Config(source=source, **values)
    _cross_check(config, origin)
    return config


def _check_qlearn_weights(ensemble: EnsembleConfig, origin: _Origin) -> None:
    """weights = "qlearn" needs a run to read the policy from, and a policy to replace the
    other weight learners (the run itself is checked against the store when the engine is
    built: engine.optimize.policy)."""
    if ensemble.weights != "qlearn":
        return
    if ensemble.qlearn_run < 1:
        origin.fail("[ensemble]", "qlearn_run",
                    'expected the id of a `desk optimize --method qlearn` run when weights ='
                    ' "qlearn", got 0')
    if ensemble.dynamic_weights:
        origin.fail("[ensemble]", "dynamic_weights",
                    'expected false when weights = "qlearn" (the policy sets the weights)')
    if not ensemble.enabled:
        origin.fail("[ensemble]", "enabled",
                    'expected true when weights = "qlearn" (the policy weights the ensemble)')


def _cross_check(config: Config, origin: _Origin) -> None:
    """Rules that tie two keys together."""
    if config.feed.kind == "replay" and not config.feed.source:
        origin.fail(
            "[feed]", "source", 'expected a file or "arch:..." dataset when kind = "replay", got ""'
        )
    if "ccxt" in (config.feed.kind, config.broker.kind) and not config.broker.exchange:
        origin.fail(
            "[broker]", "exchange", 'expected a ccxt exchange id when a kind is "ccxt", got ""'
        )
    feed = config.feed
    span = c.bar_seconds(feed.freq) or 0.0  # the freq check has already read it
    if feed.history_bars * span > c.MAX_HISTORY_YEARS * c.SECONDS_PER_YEAR:
        origin.fail(
            "[feed]",
            "history_bars",
            f"expected history_bars x freq within {c.MAX_HISTORY_YEARS} years,"
            f" got {feed.history_bars} x {origin.show(feed.freq)}",
        )
    engine = config.engine
    if engine.regime_window < 10 * engine.regime_states:
        # Fewer than ten returns per state leaves the HMM's variances undetermined.
        origin.fail(
            "[engine]",
            "regime_window",
            f"expected an integer >= {10 * engine.regime_states} (10 x regime_states),"
            f" got {engine.regime_window}",
        )
    flow = config.microstructure
    for key in ("window", "min_periods"):
        if getattr(flow, key) > flow.z_window:
            origin.fail("[microstructure]", key, f"expected at most z_window ({flow.z_window}),"
                        f" got {getattr(flow, key)}")
    _check_schedule_spans(config.execution, origin)
    _check_strategy_rules(config.strategies, origin)
    _check_qlearn_weights(config.ensemble, origin)
    de = config.optimization.de
    if de.mutation_min > de.mutation_max:
        origin.fail("[optimization.de]", "mutation_min",
                    f"expected at most mutation_max ({de.mutation_max:g}),"
                    f" got {de.mutation_min:g}")
    _check_portfolio(config.portfolio, origin)
    score = config.risk.score
    if not score.elevated < score.high < score.critical:
        origin.fail("[risk.score]", "high", "expected elevated < high < critical, got "
                    f"{score.elevated:g}, {score.high:g}, {score.critical:g}")


def _check_portfolio(portfolio: PortfolioConfig, origin: _Origin) -> None:
    """[portfolio] keys that bound each other."""
    dd, alloc = portfolio.drawdown, portfolio.allocation
    if not dd.warning < dd.critical:
        origin.fail("[portfolio.drawdown]", "critical",
                    f"expected more than warning ({dd.warning:g}), got {dd.critical:g}")
    if not dd.critical_scale <= dd.warning_scale:
        origin.fail("[portfolio.drawdown]", "critical_scale",
                    f"expected at most warning_scale ({dd.warning_scale:g}),"
                    f" got {dd.critical_scale:g}")
    if alloc.min_position_size > alloc.max_position_size:
        origin.fail("[portfolio.allocation]", "min_position_size",
                    f"expected at most max_position_size ({alloc.max_position_size}),"
                    f" got {alloc.min_position_size}")


def _check_schedule_spans(execution: ExecutionConfig, origin: _Origin) -> None:
    """Each key is bounded alone; a whole schedule must also end within a year, so its due
    times stay far inside what datetime and pandas can hold."""
    smart, dca = execution.smart, execution.dca
    spans = (
        # (table, key reported, parts, the key's value, its value in minutes, what)
        ("[execution.smart]", "delay_seconds", smart.max_parts, smart.delay_seconds,
         smart.delay_seconds / 60, "max_parts x delay_seconds"),
        ("[execution.dca]", "interval_minutes", dca.parts, dca.interval_minutes,
         dca.interval_minutes, "parts x interval_minutes"),
    )
    for where, key, parts, value, minutes, what in spans:
        if parts * minutes > c.MINUTES_PER_YEAR:
            origin.fail(where, key, f"expected {what} up to a year, got {parts} x {value:g}")


def _check_strategy_rules(strategies: FrozenMap, origin: _Origin) -> None:
    """Each strategy's own rules (fast < slow, 0 < oversold < overbought < 100), reported
    against the file like every other value rather than later, when a run starts."""
    from engine.signals.strategies.registry import STRATEGIES

    for strategy_id, params in strategies.items():
        cls = STRATEGIES.get(strategy_id)
        if cls is None:  # the packaged schema names a strategy the code lacks
            continue
        problems = cls.check(cls.Params(**params))
        if problems:
            origin.fail(f"[strategies.{strategy_id}]", "", "; ".join(problems))


# --- files ----------------------------------------------------------------------------------


def default_config_path() -> Path:
    """The packaged desk.toml: the repository root in a source checkout, else the data file
    pip installs under sys.prefix."""
    candidates = [
        Path(__file__).resolve().parents[2] / CONFIG_NAME,
        Path(sys.prefix) / "share" / "desk" / CONFIG_NAME,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = " and ".join(str(candidate) for candidate in candidates)
    raise ConfigError(f"the packaged {CONFIG_NAME} is missing (looked in {looked})")


def _read_toml(path: Path, display: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ConfigError(f"{display}: cannot read: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{display}: line {line}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        # "(at end of document)": the last line is where the reader gave up.
        line = int(found.group(1)) if found else max(len(text.splitlines()), 1)
        raise ConfigError(f"{display}: line {line}: malformed TOML: {message}") from None


@lru_cache(maxsize=4)
def _parse_packaged(path: Path) -> dict[str, Any]:
    return _read_toml(path, str(path))


def _packaged() -> dict[str, Any]:
    return copy.deepcopy(_parse_packaged(default_config_path()))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (arrays of tables included) is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def find_config(path: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The file to read and how to name it in messages, in the documented lookup order."""
    if path is not None:
        display = os.fspath(path)
        chosen = Path(display)
        if not chosen.exists():
            raise ConfigError(f"{display}: configuration file not found")
        if not chosen.is_file():
            raise ConfigError(f"{display}: not a file")
        return chosen.resolve(), display
    local = Path(CONFIG_NAME)
    if local.is_file():
        return local.resolve(), CONFIG_NAME
    from engine.adapters.sqlite.paths import config_home

    user = config_home() / CONFIG_NAME
    if user.is_file():
        return user, str(user)
    packaged = default_config_path()
    return packaged, str(packaged)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, merge over the packaged defaults and validate the configuration."""
    chosen, display = find_config(path)
    defaults = _packaged()
    packaged = default_config_path()
    if chosen.resolve() == packaged.resolve():
        data = defaults
    else:
        data = _merge(defaults, _read_toml(chosen, display))
    return _build(data, _Origin(display), chosen)


def config_from_dict(
    data: Mapping[str, Any], *, name: str = "<dict>", source: Path | None = None
) -> Config:
    """Validate desk.toml-shaped data (merged over the packaged defaults); `name` is used in
    error messages. Useful for tests and for configs recorded with `Config.to_dict()`."""
    return _build(_merge(_packaged(), dict(data)), _Origin(name), source or Path(name))


# --- command-line overrides -----------------------------------------------------------------

# args attribute -> (table, key, flag as typed)
_FLAGS: dict[str, tuple[str, str, str]] = {
    "db": ("store", "path", "--db"),
    "cash": ("broker", "cash", "--cash"),
    "fee": ("broker", "fee", "--fee"),
    "slippage": ("broker", "slippage_bps", "--slippage"),
    "size": ("engine", "size", "--size"),
    "allow_short": ("engine", "allow_short", "--allow-short"),
    "ensemble": ("ensemble", "mode", "--ensemble"),
    "seed": ("feed", "seed", "--seed"),
    "freq": ("feed", "freq", "--freq"),
    "execution": ("execution", "mode", "--execution"),
}
_NUMERIC_FLAGS = {"size"}


def _as_number(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text  # left as text: the check then reports it as found


def load_config_for(config: str | os.PathLike | None, db: str | os.PathLike | None) -> Config:
    """The configuration a subcommand runs on: the file, with --db over `[store] path`
    (validated as the flag it is). Only --db: a subcommand's own options are not config."""
    from types import SimpleNamespace

    return apply_cli_overrides(load_config(config), SimpleNamespace(db=db))


def apply_cli_overrides(cfg: Config, args: Any) -> Config:
    """A new Config with the command line's values, validated like a file's. Flags absent
    from `args` or None are ignored, and so is --allow-short when not given (False)."""
    overrides: dict[str, dict[str, Any]] = {}
    flags: dict[tuple[str, str], str] = {}
    for attribute, (table, key, flag) in _FLAGS.items():
        value = getattr(args, attribute, None)
        if value is None or (attribute == "allow_short" and value is False):
            continue
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if attribute in _NUMERIC_FLAGS:
            value = _as_number(value)
        overrides.setdefault(table, {})[key] = value
        flags[(f"[{table}]", key)] = flag
    if not overrides:
        return cfg
    data = _merge(cfg.to_dict(), overrides)
    return _build(data, _FlagOrigin(str(cfg.source), flags), cfg.source)
