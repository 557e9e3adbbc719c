"""`desk portfolio import FILE`: merge an export into a virtual portfolio, each trade once."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.virtual import read_virtual, record_virtual
    from engine.config.schema import load_config_for
    from engine.portfolio.errors import PortfolioInputError
    from engine.portfolio.virtual import merge, read_export

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise PortfolioInputError(f"{args.file}: cannot read: {reason}") from None
    name, trades, allocations = read_export(text, args.file)
    target = args.into or name
    if not target:
        raise PortfolioInputError(f"{args.file}: names no portfolio: give --into NAME")
    cfg = load_config_for(args.config, args.db)
    with open_store(cfg) as store:
        existing = read_virtual(store, target)
        uids = {row["uid"] for row in existing[0]} if existing else set()
        keys = {(row["ts"], row["source"]) for row in existing[1]} if existing else set()
        outcome = merge(uids, keys, trades, allocations)
        added, allocated = record_virtual(store, target, outcome.added,
                                          outcome.allocations_added,
                                          kind="portfolio.imported")
    print(f"{target}: {added} trades added, {outcome.duplicates} already there (skipped),"
          f" {allocated} allocation records added")
    return 0
