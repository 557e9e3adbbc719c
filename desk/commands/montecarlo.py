"""`desk montecarlo`: simulate equity paths from a run, a data source or a returns file."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation

    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.config.schema import load_config_for
    from engine.risk.mc_job import MonteCarloInputError, MonteCarloOptions, run_montecarlo
    from engine.risk.montecarlo import run_local, run_on_cluster

    cfg = load_config_for(args.config, args.db)
    if args.json:
        check_output_path(args.json, "--json")
    if args.report:
        check_output_path(args.report, "--report")
    capital = None
    if args.capital is not None:
        try:
            capital = Decimal(args.capital)
        except InvalidOperation:
            raise MonteCarloInputError(f"--capital: expected an amount, got {args.capital!r}")\
                from None
        if not capital.is_finite() or capital <= 0:
            raise MonteCarloInputError(f"--capital: expected a positive amount, got "
                                       f"{args.capital}")
    options = MonteCarloOptions(
        method=args.method, run_id=args.run, data=args.data, returns_file=args.returns,
        paths=args.paths, horizon=args.horizon, seed=args.seed, capital=capital,
        block=args.block, block_length=args.block_length, dist=args.dist,
        loss_threshold=args.loss,
    )
    runner = run_on_cluster(args.cluster) if args.cluster else run_local
    result, described = run_montecarlo(cfg, options, runner=runner)
    summary = result.summary()
    _print(summary, described)
    if args.json:
        write_atomically(args.json, json.dumps(summary, indent=2) + "\n", option="--json")
    if args.report:
        from engine.risk.mc_report import render_montecarlo

        html = render_montecarlo(result, title=f"Monte Carlo ({args.method})",
                                 subtitle=described)
        write_atomically(args.report, html, option="--report")
    return 0


def _print(summary: dict, described: str) -> None:
    final, dd = summary["final_value"], summary["max_drawdown"]
    print(f"Monte Carlo {summary['method']} on {described}: {summary['paths']:,} paths x "
          f"{summary['horizon']:,} periods, seed {summary['seed']}")
    print(f"  initial            {summary['initial']:>16,.2f}")
    print(f"  mean final value   {final['mean']:>16,.2f}")
    for p in ("5", "50", "95"):
        print(f"  final value p{p:<3}  {final['quantiles'][p]:>16,.2f}")
    print(f"  P(profit)          {summary['probability_of_profit']:>15.2%}")
    loss = summary["probability_of_loss"]
    print(f"  P(loss > {loss['threshold']:.0%})      {loss['probability']:>15.2%}")
    print(f"  max drawdown p50   {dd['quantiles']['50']:>15.2%}")
    print(f"  max drawdown p95   {dd['quantiles']['95']:>15.2%}")
    for level in ("95", "99"):
        print(f"  VaR {level}% / CVaR    {summary['var'][level]:>16,.2f} / "
              f"{summary['cvar'][level]:,.2f}")
