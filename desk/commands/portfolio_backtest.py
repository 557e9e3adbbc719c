"""`desk --backtest --portfolio`: run the [portfolio] book over many assets, print and store
its summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def run(args: argparse.Namespace) -> int:
    from desk.commands.backtest import database_unwritable
    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.config.schema import apply_cli_overrides, load_config
    from engine.portfolio.backtest_job import PortfolioJob, jsonable, run_portfolio_job
    from store.paths import default_db_path

    if not args.data:
        print("desk: --backtest --portfolio needs --data PRICES", file=sys.stderr)
        return 2
    json_path = check_output_path(args.json, "--json") if args.json else None
    report_path = check_output_path(args.report, "--report") if args.report else None
    cfg = apply_cli_overrides(load_config(args.config), args)
    unwritable = database_unwritable(Path(cfg.store.path) if cfg.store.path
                                     else default_db_path())
    if unwritable:
        print(f"desk: {unwritable}", file=sys.stderr)
        return 2
    job = PortfolioJob(data=args.data, start=args.start, end=args.end, bars=args.bars,
                       seed=args.seed, scheme=args.scheme, mode=args.rebalance)
    result, run_id = run_portfolio_job(cfg, job)
    scheme = args.scheme or cfg.portfolio.rebalancing.scheme
    mode = args.rebalance or cfg.portfolio.rebalancing.mode
    title = f"Portfolio backtest: {scheme}, {mode} rebalancing"
    subtitle = (f"{args.data} · {result.weights.shape[1]} assets · "
                f"{str(result.equity.index[0])[:10]} to {str(result.equity.index[-1])[:10]}"
                f" · run #{run_id}")
    if json_path:
        document = {"run_id": run_id, "data": args.data, "scheme": scheme, "mode": mode,
                    "metrics": jsonable(result.summary), "journal": result.journal,
                    "final_weights": {a: float(w) for a, w in result.weights.iloc[-1].items()},
                    "timing": result.timing}
        write_atomically(json_path, json.dumps(document, indent=2) + "\n", option="--json")
    if report_path:
        from engine.portfolio.backtest_report import render_portfolio_report

        write_atomically(report_path, render_portfolio_report(result, title=title,
                                                              subtitle=subtitle),
                         option="--report")
    from engine.portfolio.backtest_job import virtual_name

    _print_summary(Console(), result, title, subtitle, virtual_name(run_id))
    return 0


def _print_summary(console: Console, result, title: str, subtitle: str, virtual: str
                   ) -> None:
    from engine.portfolio.backtest_report import _SUMMARY, format_value

    console.print(title, style="bold")
    console.print(subtitle, style="dim")
    table = Table(show_header=False)
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for key, label, kind in _SUMMARY:
        table.add_row(label, format_value(result.summary.get(key), kind))
    console.print(table)
    console.print(f"{len(result.journal):,} journal entries · {result.timing['bars']:,} bars"
                  f" in {result.timing['seconds']:.2f} s", style="dim")
    console.print(f"trades kept as virtual portfolio {virtual}"
                  f" (desk portfolio export {virtual} --out FILE)", style="dim")
