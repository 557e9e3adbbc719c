"""`desk portfolio export NAME --out FILE`: positions, trades and allocation history of a
virtual portfolio as JSON (default) or CSV."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path, write_atomically
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.virtual import read_virtual
    from engine.config.schema import load_config_for
    from engine.portfolio.errors import PortfolioInputError
    from engine.portfolio.virtual import Allocation, export_csv, export_json, make_trade

    out = check_output_path(args.out, "--out")
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "json")
    cfg = load_config_for(args.config, args.db)
    with open_store(cfg) as store:
        found = read_virtual(store, args.name)
    if found is None:
        raise PortfolioInputError(f"{args.name}: no such virtual portfolio")
    trade_rows, allocation_rows = found
    trades = [make_trade(where=f"{args.name}: stored trade {row['uid']}", **row)
              for row in trade_rows]
    allocations = [Allocation(row["ts"], json.loads(row["weights_json"]), row["source"])
                   for row in allocation_rows]
    writer = export_csv if fmt == "csv" else export_json
    write_atomically(out, writer(args.name, trades, allocations), option="--out")
    print(f"{args.name}: {len(trades)} trades and {len(allocations)} allocation records"
          f" written to {out} ({fmt})")
    return 0
