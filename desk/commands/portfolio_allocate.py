"""`desk portfolio allocate`: the strategy x asset allocation matrix of a basket."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path, write_atomically
    from desk.commands.portfolio_args import count, number
    from engine.config.schema import load_config
    from engine.portfolio.inputs import check_prices
    from engine.portfolio.multi_strategy import allocate
    from engine.portfolio.prices import load_prices

    json_path = check_output_path(args.json, "--json") if args.json else None
    cfg = load_config(args.config)
    names = [name.strip() for name in args.strategies.split(",") if name.strip()]
    label = ",".join(args.data)
    prices = check_prices(load_prices(args.data, start=args.start, end=args.end,
                                      bars=count(args.bars, "--bars"),
                                      seed=count(args.seed, "--seed", low=0, high=2**32 - 1)),
                          label)
    # Each stream pays the configured fee and slippage on every change of position.
    cost = float(cfg.broker.fee) + float(cfg.broker.slippage_bps) / 10_000
    result = allocate(
        prices, names, cost=cost,
        risk_aversion=number(args.risk_aversion, "--risk-aversion", low=1e-9, high=1e9),
        diversification=number(args.diversification, "--diversification", low=0, high=1e9),
        max_weight=number(args.max_weight, "--max-weight", low=0, high=1))
    if json_path:
        write_atomically(json_path, json.dumps({**result.to_dict(), "data": label,
                                                "cost_per_change": cost}, indent=2) + "\n",
                         option="--json")
    console = Console()
    console.print(f"Allocation (% of capital) · {label}")
    # Assets down, strategies across: a basket has many assets and a desk few strategies,
    # so the matrix fits a terminal this way round.
    table = Table()
    table.add_column("Asset")
    for strategy in result.strategies:
        table.add_column(strategy, justify="right")
    table.add_column("Total", justify="right")
    for j, asset in enumerate(result.assets):
        column = result.weights[:, j]
        table.add_row(asset, *(f"{w * 100:.1f}" if w > 0 else "·" for w in column),
                      f"{column.sum() * 100:.1f}")
    table.add_row("Total", *(f"{w * 100:.1f}" for w in result.weights.sum(axis=1)), "100.0",
                  style="bold")
    console.print(table)
    console.print(f"expected return {result.expected_return * 100:.2f}% · volatility "
                  f"{result.volatility * 100:.2f}% (annualized, net of {cost * 1e4:.0f} bp a "
                  f"change of position) · diversification {result.diversification:.3f}")
    console.print(f"solver: {result.status}, {result.solve_seconds * 1e3:.1f} ms", style="dim")
    return 0
