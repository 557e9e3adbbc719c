"""`desk portfolio optimize`: optimize a basket, print and store the weights."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def run(args: argparse.Namespace) -> int:
    from desk.commands.backtest import database_unwritable
    from desk.commands.output_paths import check_output_path, write_atomically
    from desk.commands.portfolio_args import count, number
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.portfolio import save_optimization
    from engine.config.schema import load_config_for
    from engine.portfolio.job import run_optimization
    from engine.portfolio.optimize import OptimizeSettings
    from store.paths import default_db_path

    # Every output is checked before the work starts.
    json_path = check_output_path(args.json, "--json") if args.json else None
    report_path = check_output_path(args.report, "--report") if args.report else None
    cfg = load_config_for(args.config, args.db)
    unwritable = database_unwritable(Path(cfg.store.path) if cfg.store.path
                                     else default_db_path())
    if unwritable:
        print(f"desk: {unwritable}", file=sys.stderr)
        return 2
    settings = OptimizeSettings(
        method=args.method, max_weight=number(args.max_weight, "--max-weight", low=0, high=1),
        rf=number(args.rf, "--rf", low=-1, high=1), cov=args.cov,
        risk_aversion=number(args.risk_aversion, "--risk-aversion", low=1e-9, high=1e9),
        alpha=number(args.alpha, "--alpha", low=0.5, high=0.9999))
    points = count(args.points, "--points", low=2, high=500)
    outcome = run_optimization(
        args.data, settings, start=args.start, end=args.end,
        bars=count(args.bars, "--bars"), seed=count(args.seed, "--seed", low=0, high=2**32 - 1),
        frontier_points=points if (args.frontier or report_path) else 0)
    result = outcome.result
    with open_store(cfg) as store:
        row_id = save_optimization(store, result, data_source=outcome.data_label,
                                   data_start=outcome.first, data_end=outcome.last)
    if json_path:
        document = {**result.to_dict(), "id": row_id, "data": outcome.data_label,
                    "start": outcome.first, "end": outcome.last,
                    "periods_per_year": outcome.inputs.periods_per_year}
        if outcome.frontier is not None and args.frontier:
            document["frontier"] = [
                {"expected_return": p.expected_return, "volatility": p.volatility,
                 "sharpe": p.sharpe, "weights": dict(zip(result.assets, p.weights.tolist(),
                                                         strict=True))}
                for p in outcome.frontier]
        write_atomically(json_path, json.dumps(_json_safe(document), indent=2) + "\n",
                         option="--json")
    if report_path:
        from engine.portfolio.report import render_optimization_report

        html = render_optimization_report(result, outcome.inputs, outcome.frontier or [],
                                          data_label=outcome.data_label,
                                          period=f"{outcome.first[:10]} to {outcome.last[:10]}")
        write_atomically(report_path, html, option="--report")
    console = Console()
    _print_result(console, outcome, row_id)
    if args.frontier and outcome.frontier is not None:
        _print_frontier(console, outcome.frontier)
    return 0


def _json_safe(value):
    """NaN and infinities are not JSON: null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _print_result(console: Console, outcome, row_id: int) -> None:
    result = outcome.result
    console.print(f"{result.method} · {outcome.data_label} · {outcome.first[:10]} to "
                  f"{outcome.last[:10]} · {len(outcome.inputs.returns):,} returns")
    table = Table()
    table.add_column("Asset")
    table.add_column("Weight", justify="right")
    table.add_column("Risk contribution", justify="right")
    rows = sorted(zip(result.assets, result.weights, result.risk_contributions, strict=True),
                  key=lambda row: -row[1])
    for asset, weight, contribution in rows:
        table.add_row(asset, f"{weight * 100:.2f}%", f"{contribution * 100:.2f}%")
    console.print(table)
    sharpe = "—" if not math.isfinite(result.sharpe) else f"{result.sharpe:.3f}"
    console.print(
        f"expected return {result.expected_return * 100:.2f}% · volatility "
        f"{result.volatility * 100:.2f}% (annualized, {outcome.inputs.periods_per_year:g} "
        f"bars/year) · Sharpe {sharpe} · CVaR 95 {result.cvar_95 * 100:.2f}% per bar")
    console.print(f"solver: {result.status}, {result.solve_seconds * 1e3:.1f} ms · stored as "
                  f"optimization #{row_id}", style="dim")


def _print_frontier(console: Console, frontier) -> None:
    table = Table(title="Efficient frontier (annualized)", title_justify="left")
    for name in ("#", "Expected return", "Volatility", "Sharpe"):
        table.add_column(name, justify="right")
    for i, point in enumerate(frontier, start=1):
        table.add_row(str(i), f"{point.expected_return * 100:.2f}%",
                      f"{point.volatility * 100:.2f}%", f"{point.sharpe:.3f}")
    console.print(table)
