"""The figures every allocator and optimizer reports for its weights.

- `expected_return`, `volatility`: annualized, from the inputs' `mu` and `cov`.
- `sharpe`: (expected_return - rf) / volatility.
- `cvar_95`: historical conditional value at risk of the portfolio's per-bar simple return
  at 95%: the mean loss over the worst 5% of bars (a loss is positive), computed exactly as
  the Rockafellar-Uryasev function at its minimum, so fractional tails are weighted.
- `risk_contributions`: each asset's share of the portfolio variance,
  w_i (Σw)_i / w'Σw; they add up to 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.portfolio.inputs import MarketInputs


@dataclass(frozen=True)
class PortfolioResult:
    method: str
    assets: tuple[str, ...]
    weights: np.ndarray
    expected_return: float
    volatility: float
    sharpe: float
    cvar_95: float
    risk_contributions: np.ndarray
    status: str
    solve_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    def weights_by_asset(self) -> dict[str, float]:
        return {a: float(w) for a, w in zip(self.assets, self.weights, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `desk portfolio optimize --json`."""
        return {
            "method": self.method,
            "weights": self.weights_by_asset(),
            "expected_return": self.expected_return,
            "volatility": self.volatility,
            "sharpe": self.sharpe,
            "cvar_95": self.cvar_95,
            "risk_contributions": {
                a: float(r) for a, r in zip(self.assets, self.risk_contributions, strict=True)
            },
            "solver": {"status": self.status, "seconds": self.solve_seconds},
            "settings": dict(self.settings),
        }


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """w_i (Σw)_i / w'Σw: shares of the variance, adding up to 1."""
    marginal = cov @ weights
    variance = float(weights @ marginal)
    if variance <= 0:
        return np.zeros_like(weights)
    return weights * marginal / variance


def empirical_cvar(losses: np.ndarray, alpha: float = 0.95) -> float:
    """CVaR_α of equally likely `losses`: min over ζ of ζ + E[(L - ζ)+] / (1 - α).

    The minimum sits at the α-quantile; evaluating at the k-th smallest loss, where
    k = ceil(α T), gives the exact value, fractional tail weight included."""
    losses = np.sort(np.asarray(losses, dtype=float))
    count = len(losses)
    # round() first: (1 - 0.95) * 2000 is 100.00000000000009, whose ceil would be 101.
    k = max(math.ceil(round(alpha * count, 9)), 1)
    zeta = losses[k - 1]
    return float(zeta + np.maximum(losses - zeta, 0.0).sum() / ((1.0 - alpha) * count))


def summarize(
    inputs: MarketInputs,
    weights: np.ndarray,
    *,
    method: str,
    rf: float,
    status: str,
    solve_seconds: float,
    settings: dict[str, Any] | None = None,
) -> PortfolioResult:
    weights = np.asarray(weights, dtype=float)
    expected = float(weights @ inputs.mu)
    volatility = math.sqrt(max(float(weights @ inputs.cov @ weights), 0.0))
    return PortfolioResult(
        method=method,
        assets=inputs.assets,
        weights=weights,
        expected_return=expected,
        volatility=volatility,
        sharpe=(expected - rf) / volatility if volatility > 0 else float("nan"),
        cvar_95=empirical_cvar(-(inputs.returns @ weights), 0.95),
        risk_contributions=risk_contributions(weights, inputs.cov),
        status=status,
        solve_seconds=solve_seconds,
        settings=dict(settings or {}),
    )
