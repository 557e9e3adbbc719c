"""`desk portfolio optimize` as one library call: load prices, estimate, optimize, and
(optionally) trace the efficient frontier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.portfolio.frontier import FrontierPoint, efficient_frontier
from engine.portfolio.inputs import MarketInputs, estimate_inputs
from engine.portfolio.optimize import OptimizeSettings, optimize_inputs
from engine.portfolio.result import PortfolioResult


@dataclass(frozen=True)
class OptimizationOutcome:
    result: PortfolioResult
    inputs: MarketInputs
    frontier: list[FrontierPoint] | None
    data_label: str
    first: str  # time of the first price used (ISO 8601)
    last: str  # time of the last price used


def run_optimization(
    sources: Sequence[str],
    settings: OptimizeSettings,
    *,
    start: str | None = None,
    end: str | None = None,
    bars: int | None = None,
    seed: int | None = None,
    frontier_points: int = 0,
) -> OptimizationOutcome:
    """Optimize the prices `sources` name (see `engine.portfolio.prices`); with
    `frontier_points` > 0, also that many points of the efficient frontier."""
    from engine.portfolio.inputs import check_prices
    from engine.portfolio.prices import load_prices

    label = ",".join(sources)
    prices = check_prices(load_prices(sources, start=start, end=end, bars=bars, seed=seed),
                          label)
    inputs = estimate_inputs(prices, cov=settings.cov, source=label)
    result = optimize_inputs(inputs, settings)
    frontier = None
    if frontier_points > 0:
        frontier = efficient_frontier(inputs, max_weight=settings.max_weight, rf=settings.rf,
                                      points=frontier_points)
    return OptimizationOutcome(result, inputs, frontier, label, prices.index[0].isoformat(),
                               prices.index[-1].isoformat())
