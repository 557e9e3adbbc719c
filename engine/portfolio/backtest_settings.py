"""Portfolio backtest settings from the configuration (and command-line overrides)."""

from __future__ import annotations

from typing import Any

from engine.portfolio.backtest import PortfolioBacktestSettings
from engine.portfolio.drawdown_control import DrawdownPolicy
from engine.portfolio.hedging import HedgePolicy
from engine.portfolio.rebalance import RebalancePolicy
from engine.portfolio.targets import TargetRules


def settings_from_config(
    cfg: Any, *, scheme: str | None = None, mode: str | None = None
) -> PortfolioBacktestSettings:
    """`cfg` is an `engine.config.schema.Config`; `scheme`/`mode` override
    [portfolio.rebalancing] scheme and mode."""
    p = cfg.portfolio
    rb, hd, dd, al = p.rebalancing, p.hedging, p.drawdown, p.allocation
    return PortfolioBacktestSettings(
        rules=TargetRules(
            scheme=scheme or rb.scheme, window=rb.window, max_weight=rb.max_weight,
            rotation_method=p.rotation.method, lookback=p.rotation.lookback,
            top_n=p.rotation.top_n, max_assets=al.max_assets, risk_per_asset=al.risk_per_asset,
            rf=cfg.metrics.risk_free_rate),
        rebalance=RebalancePolicy(
            mode=mode or rb.mode, threshold=rb.threshold,
            relative_threshold=rb.relative_threshold, period_days=rb.period_days,
            min_interval_days=rb.min_interval_days, fee=float(cfg.broker.fee),
            slippage_bps=float(cfg.broker.slippage_bps)),
        hedge=HedgePolicy(
            enabled=hd.enabled, adx_below=hd.adx_below, volatility_above=hd.volatility_above,
            drawdown_above=hd.drawdown_above, max_stablecoin_pct=hd.max_stablecoin_pct,
            step=hd.step),
        drawdown=DrawdownPolicy(warning=dd.warning, critical=dd.critical,
                                warning_scale=dd.warning_scale,
                                critical_scale=dd.critical_scale),
        cash=float(cfg.broker.cash),
        min_position_size=float(al.min_position_size),
        max_position_size=float(al.max_position_size),
        signal_members=tuple((m.id, m.weight) for m in cfg.ensemble.strategies),
        signal_params={m.id: dict(cfg.strategies.get(m.id, {}))
                       for m in cfg.ensemble.strategies},
    )
