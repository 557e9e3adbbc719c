"""`desk stress`: the named scenarios applied to a backtest's final book or the live book."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace) -> int:

    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.config.schema import load_config_for
    from engine.risk.stress import worst
    from engine.risk.stress_job import stress_live, stress_run

    cfg = load_config_for(args.config, args.db)
    if args.json:
        check_output_path(args.json, "--json")
    if args.live:
        book, results, described = stress_live(cfg)
    else:
        book, results, described = stress_run(cfg, args.run, book=args.book)
    print(f"Stress on {described}: equity {book.equity:,.2f}, gross exposure "
          f"{sum(abs(v) for v in book.exposures.values()):,.2f}")
    if not book.exposures:
        hint = "" if args.live or args.book == "peak" else (
            " (--book peak stresses the largest book the run held)")
        print(f"  the book is flat: no scenario moves it{hint}")
    print(f"  {'scenario':<16} {'shock':>7} {'vol x':>6} {'P&L':>14} {'drawdown':>9} "
          f"{'VaR 95% 1d':>13}  breaches")
    for r in results:
        var = "—" if r.var_95_day is None else f"{r.var_95_day:,.2f}"
        print(f"  {r.scenario.name[:16]:<16} {r.scenario.shock:>7.1%} "
              f"{r.scenario.vol_multiplier:>6.1f} {r.pnl:>14,.2f} {r.drawdown:>9.2%} "
              f"{var:>13}  {'; '.join(r.breaches) or 'none'}")
    worst_case = worst(results)
    if worst_case is not None:
        print(f"  worst: {worst_case.scenario.name} ({worst_case.pnl:,.2f})")
    if args.json:
        document = {"source": described, "equity": round(book.equity, 2),
                    "exposures": {s: round(v, 2) for s, v in book.exposures.items()},
                    "scenarios": [r.as_dict() for r in results],
                    "worst": worst_case.scenario.name if worst_case else None}
        write_atomically(args.json, json.dumps(document, indent=2) + "\n", option="--json")
    return 0
