"""`desk report strategies [--run ID | --live] [--json PATH | --csv PATH]`: the performance
decomposition of a stored backtest run, or of the desk's own trades (from its stored fills),
by strategy, symbol, regime and strategy x regime.

Output paths are checked before any work; files are written atomically. Reading never
creates a database: a missing file is one line, exit 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from engine.errors import DeskError

EXIT_OK = 0


class ReportError(DeskError):
    exit_code = 2


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path

    for option, path in (("--json", args.json), ("--csv", args.csv)):
        if path:
            check_output_path(path, option)
    cfg = _config(args)
    from engine.adapters.sqlite.open import open_store

    _existing_database(cfg)
    store = open_store(cfg)
    try:
        decomposition, lifecycle, title = _load(store, args)
    finally:
        store.close()
    if args.json:
        _write(args.json, "--json", json.dumps(
            {"decomposition": decomposition, "lifecycle": lifecycle}, indent=2) + "\n")
    if args.csv:
        _write(args.csv, "--csv", _csv(decomposition))
    _print(decomposition, lifecycle, title)
    return EXIT_OK


def _config(args):
    from engine.config.schema import load_config_for

    return load_config_for(args.config, args.db)


def _existing_database(cfg) -> Path:
    from store.paths import default_db_path

    db = Path(cfg.store.path) if cfg.store.path else default_db_path()
    if not db.is_file():
        raise ReportError(f"{db}: no database here, so nothing to report")
    return db


def _load(store, args) -> tuple[dict, dict, str]:
    from engine.adapters.sqlite import lifecycle as stored

    if args.live:
        from engine.lifecycle.decomposition import decompose, to_jsonable

        trades = stored.live_trades(store)
        return to_jsonable(decompose(trades)), {}, "the desk's own trades"
    if args.run is None:
        raise ReportError("report strategies: give --run ID (a stored backtest) or --live")
    if not stored.run_exists(store, args.run):
        raise ReportError(f"--run {args.run}: no stored backtest run with that id "
                          "(desk runs list)")
    found = stored.run_lifecycle(store, args.run)
    if found is None:
        raise ReportError(f"--run {args.run}: stored before decompositions were kept; run "
                          "the backtest again")
    return found[0], found[1], f"backtest run {args.run}"


def _write(path: str, option: str, text: str) -> None:
    from desk.commands.output_paths import write_atomically

    write_atomically(path, text, option=option)


def _csv(decomposition: dict) -> str:
    from engine.lifecycle.table import COLUMNS, rows

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(decomposition))
    return buffer.getvalue()


def _print(decomposition: dict, lifecycle: dict, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from engine.lifecycle.decomposition import ranked
    from engine.lifecycle.table import SECTIONS, cells

    console = Console()
    console.print(f"Performance decomposition: {title}", style="bold", highlight=False)
    headers = ("Trades", "P&L", "Fees", "Expect.", "PF", "Win", "Sharpe", "Max DD")
    total = decomposition.get("total")
    if not total or not total.get("trades"):
        console.print("no closed trades yet", highlight=False)
        return
    for section, label in SECTIONS:
        groups = decomposition.get(section, {})
        if not groups:
            continue
        # One table per breakdown, numbers never wrapped: a name folds first at 80 columns.
        table = Table(title=f"by {label}", title_justify="left", header_style="bold underline",
                      box=None, pad_edge=False, padding=(0, 1))
        table.add_column(label.capitalize(), overflow="fold", min_width=8)
        for header in headers:
            table.add_column(header, justify="right", no_wrap=True)
        for name, m in groups.items():
            table.add_row(name, *cells(m, grouped=True))
        if total:
            table.add_section()
            table.add_row("total", *cells(total, grouped=True))
        console.print(table)
    strategies = decomposition.get("by_strategy", {})
    if strategies:
        best = ", ".join(ranked(strategies, "pnl", 3))
        worst = ", ".join(ranked(strategies, "pnl", 3, bottom=True))
        console.print(f"top by P&L: {best}; bottom: {worst}", highlight=False)
    changes = lifecycle.get("status_changes", []) if lifecycle else []
    if changes:
        console.print(f"{len(changes)} status changes, "
                      f"{len(lifecycle.get('weight_updates', []))} weight updates; the last:",
                      highlight=False)
        for change in changes[-5:]:
            console.print(f"  {(change.get('ts') or '-')[:10]}  {change['strategy']}  "
                          f"{change['old']} -> {change['new']}  ({change['reason']})",
                          highlight=False)
