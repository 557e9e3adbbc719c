"""Shared builders for the portfolio optimizer tests: the shipped S&P 500 slice and
synthetic, well-conditioned inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.portfolio.inputs import MarketInputs, covariance

SP500_TAIL = Path(__file__).resolve().parents[1] / "data" / "sp500_20_stocks_daily_tail.csv"


def sp500_prices() -> pd.DataFrame:
    """1,000 daily closes of 20 stocks (tests/data/README.md)."""
    return pd.read_csv(SP500_TAIL, index_col="date", parse_dates=True)


def synthetic_inputs(seed: int, n: int, bars: int = 600, drift: float = 0.0004) -> MarketInputs:
    """Correlated daily returns from a random factor model, estimated like real data."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(0.0, 1.0, size=(n, 2))
    factors = rng.normal(0.0, 0.01, size=(bars, 2))
    noise = rng.normal(0.0, 0.012, size=(bars, n))
    returns = factors @ loadings.T + noise + rng.uniform(-drift, 3 * drift, size=n)
    # At least one asset beats a zero risk-free rate, so max Sharpe is defined.
    returns[:, 0] += max(0.0, 0.0008 - returns[:, 0].mean())
    cov = covariance(returns, "sample") * 252
    return MarketInputs(tuple(f"A{i}" for i in range(n)), returns, returns.mean(0) * 252, cov,
                        252.0)
