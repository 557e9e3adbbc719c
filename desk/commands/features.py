"""`desk features rank`: candidate features ranked by mutual information with forward
returns, with each feature's entropy."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from engine.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.data.sources import load_source
    from engine.optimize.features import rank_features

    if args.json:
        check_output_path(args.json, "--json")
    if args.horizon < 1:
        raise ConfigError(f"--horizon: expected a positive number of bars, got {args.horizon}")
    market = load_source(args.data, bars=args.bars, seed=args.seed, start=args.start,
                         end=args.end)
    try:
        scores = rank_features(market.frames, args.horizon, seed=args.seed or 0)
    except ValueError as error:
        raise ConfigError(f"--data {args.data}: {error}") from None
    console = Console()
    table = Table(title=f"Features by mutual information with the {args.horizon}-bar forward "
                  f"return ({market.source}, {scores[0].rows:,} rows)", header_style="bold")
    for column in ("#", "Feature", "MI (nats)", "Entropy (nats)"):
        table.add_column(column, justify="left" if column == "Feature" else "right")
    for i, s in enumerate(scores, 1):
        table.add_row(str(i), s.name, f"{s.mutual_information:.4f}", f"{s.entropy:.3f}")
    console.print(table)
    if args.json:
        document = {"source": market.source, "horizon": args.horizon,
                    "rows": scores[0].rows,
                    "features": [{"name": s.name, "mutual_information": s.mutual_information,
                                  "entropy": s.entropy} for s in scores]}
        write_atomically(args.json, json.dumps(document, indent=2) + "\n", option="--json")
    return 0
