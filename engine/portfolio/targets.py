"""Target weights of the book at one time, from a trailing window only (causal).

rotation (top_n by momentum over `lookback`) -> the scheme's weights over the chosen
assets on the trailing `window` of returns -> `risk_per_asset` (weight x daily volatility,
the excess stays in the quote currency) -> the drawdown controller's scalar -> the hedge
fraction (kept in the quote currency). Weights are fractions of equity; what they leave
is held in the quote currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.portfolio.errors import PortfolioInputError, PortfolioSolverError
from engine.portfolio.hedging import apply_hedge
from engine.portfolio.inputs import MarketInputs, covariance
from engine.portfolio.optimize import OptimizeSettings, optimize_inputs
from engine.portfolio.rotation import momentum_by_asset, select_assets


@dataclass(frozen=True)
class TargetRules:
    scheme: str
    window: int
    max_weight: float
    rotation_method: str
    lookback: int
    top_n: int
    max_assets: int
    risk_per_asset: float
    rf: float = 0.02


@dataclass(frozen=True)
class Targets:
    weights: dict[str, float]  # before the drawdown scalar and the hedge
    chosen: tuple[str, ...]
    note: str  # how they were made, for the journal
    cov: np.ndarray | None  # annualized, over `chosen`


def scheme_targets(
    closes: np.ndarray, assets: tuple[str, ...], rules: TargetRules, periods_per_year: float,
    signal: dict[str, float] | None = None, bars_per_day: float = 1.0,
) -> Targets:
    """`closes` is the trailing window (bars x assets) up to and including now; `signal`
    the strategies' signal strength per asset now (rotation "signal" and "both")."""
    momentum = momentum_by_asset({a: closes[:, i] for i, a in enumerate(assets)},
                                 rules.lookback)
    method = rules.rotation_method if signal is not None else "momentum"
    note = f"rotation by {method}"
    chosen = tuple(select_assets(method=method, top_n=rules.top_n, max_assets=rules.max_assets,
                                 momentum=momentum, signal=signal))
    if not chosen:
        return Targets({}, (), f"{note}: no asset chosen, all in the quote currency", None)
    columns = [assets.index(a) for a in chosen]
    window = closes[-(rules.window + 1):, columns]
    returns = window[1:] / window[:-1] - 1.0
    cov = covariance(returns, "ledoit_wolf") * periods_per_year if len(chosen) > 1 else (
        np.var(returns, ddof=1, keepdims=True).reshape(1, 1) * periods_per_year)
    if len(chosen) == 1:
        # The cap is raised to 1 / (assets chosen) so the weights can add up to 1.
        weights = np.array([1.0])
    else:
        inputs = MarketInputs(chosen, returns, returns.mean(axis=0) * periods_per_year, cov,
                              periods_per_year)
        cap = max(rules.max_weight, 1.0 / len(chosen))
        try:
            weights = optimize_inputs(inputs, OptimizeSettings(
                method=rules.scheme, max_weight=cap if rules.scheme != "risk_parity" else 1.0,
                rf=rules.rf)).weights
            note += f", {rules.scheme}"
        except (PortfolioInputError, PortfolioSolverError) as error:
            # e.g. max Sharpe when nothing beats rf over the window: equal weight this time.
            weights = np.full(len(chosen), 1.0 / len(chosen))
            note += f", equal weight ({rules.scheme} failed: {error})"
    daily_vol = returns.std(axis=0, ddof=1) * np.sqrt(bars_per_day)
    limit = np.where(daily_vol > 0, rules.risk_per_asset / np.maximum(daily_vol, 1e-12), 1.0)
    capped = np.minimum(weights, limit)
    if np.any(capped < weights - 1e-12):
        note += ", capped by risk_per_asset"
    return Targets({a: float(w) for a, w in zip(chosen, capped, strict=True)}, chosen, note,
                   cov)


def final_targets(base: dict[str, float], scalar: float, hedge_fraction: float
                  ) -> dict[str, float]:
    """The drawdown scalar, then the hedge fraction held in the quote currency."""
    return apply_hedge({a: w * scalar for a, w in base.items()}, hedge_fraction)
