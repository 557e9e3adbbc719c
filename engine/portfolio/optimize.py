"""One entry point: optimize a wide price frame with a method named as on the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import MarketInputs, estimate_inputs
from engine.portfolio.mean_variance import DEFAULT_RISK_AVERSION
from engine.portfolio.min_cvar import DEFAULT_ALPHA
from engine.portfolio.result import PortfolioResult

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("max_sharpe", "min_vol", "risk_parity", "mean_variance", "min_cvar", "equal",
           "inverse_vol", "momentum", "kelly")


@dataclass(frozen=True)
class OptimizeSettings:
    method: str = "max_sharpe"
    max_weight: float = DEFAULT_MAX_WEIGHT
    rf: float = 0.02
    cov: str = "ledoit_wolf"
    risk_aversion: float = DEFAULT_RISK_AVERSION
    alpha: float = DEFAULT_ALPHA


def optimize_inputs(inputs: MarketInputs, settings: OptimizeSettings) -> PortfolioResult:
    """Run `settings.method` on prepared inputs."""
    method, cap, rf = settings.method, settings.max_weight, settings.rf
    if method not in METHODS:
        raise PortfolioInputError(f"method: expected one of {', '.join(METHODS)}, got {method}")
    check_max_weight(inputs.n, cap)
    if method == "max_sharpe":
        from engine.portfolio.max_sharpe import max_sharpe

        return max_sharpe(inputs, rf=rf, max_weight=cap)
    if method == "min_vol":
        from engine.portfolio.min_volatility import min_volatility

        return min_volatility(inputs, rf=rf, max_weight=cap)
    if method == "risk_parity":
        from engine.portfolio.risk_parity import risk_parity

        return risk_parity(inputs, rf=rf, max_weight=cap)
    if method == "mean_variance":
        from engine.portfolio.mean_variance import mean_variance

        return mean_variance(inputs, rf=rf, risk_aversion=settings.risk_aversion, max_weight=cap)
    if method == "min_cvar":
        from engine.portfolio.min_cvar import min_cvar

        return min_cvar(inputs, rf=rf, alpha=settings.alpha, max_weight=cap)
    if method == "kelly":
        from engine.portfolio.kelly import kelly

        return kelly(inputs, rf=rf, max_weight=cap)
    from engine.portfolio.simple import simple_allocation

    return simple_allocation(inputs, method, rf=rf, max_weight=cap)


def optimize_prices(
    prices: pd.DataFrame, settings: OptimizeSettings, *, source: str = "prices"
) -> PortfolioResult:
    """Estimate the inputs from `prices` (see `engine.portfolio.inputs`) and optimize."""
    return optimize_inputs(estimate_inputs(prices, cov=settings.cov, source=source), settings)
