"""`desk runs list` and `desk runs show ID [--json PATH] [--report PATH.html]`: the stored
backtest runs, listed and reopened (summary, compare table, benchmark, JSON, HTML report).

Reading never creates a database: a missing file is one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.errors import DeskError

EXIT_OK = 0


class RunNotFoundError(DeskError):
    exit_code = 2


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path
    from engine.config.schema import load_config_for

    if args.runs_command == "show":
        for option, path in (("--json", args.json), ("--report", args.report)):
            if path:
                check_output_path(path, option)
    cfg = load_config_for(args.config, args.db)
    db = _existing_database(cfg)
    from engine.adapters.sqlite.open import open_store

    store = open_store(cfg)
    try:
        if args.runs_command == "list":
            return _list(store, db, args.limit)
        return _show(store, db, args)
    finally:
        store.close()


def _existing_database(cfg) -> Path:
    from store.paths import default_db_path

    db = Path(cfg.store.path) if cfg.store.path else default_db_path()
    if not db.is_file():
        raise RunNotFoundError(f"{db}: no database here, so no stored runs (a `desk "
                               "--backtest` stores one)")
    return db


def _list(store, db: Path, limit: int) -> int:
    from engine.adapters.sqlite.run_reads import stored_runs

    rows = stored_runs(store, limit)
    console = Console()
    if not rows:
        console.print(f"no stored backtest runs in {db}", highlight=False)
        return EXIT_OK
    # Narrow enough for 80 columns: the data source, the longest, comes last and wraps.
    table = Table(title=f"Stored backtest runs in {db.name}, newest first",
                  header_style="bold underline", box=None, pad_edge=False, padding=(0, 1))
    for name in ("ID", "Stored", "Run", "Bars", "Return", "Sharpe", "Max DD", "Trades",
                 "Data"):
        table.add_column(name, justify="left" if name in ("Stored", "Run", "Data")
                         else "right", no_wrap=name not in ("Run", "Data"),
                         overflow="fold")
    for row in rows:
        m = row.metrics
        table.add_row(str(row.run_id), row.created_at[:10], _label(row.config),
                      _fmt(m.get("bars"), "int"), _fmt(m.get("total_return"), "pct"),
                      _fmt(m.get("sharpe"), "num"), _fmt(m.get("max_drawdown"), "pct"),
                      f"{row.trades:,}", row.data_source)
    console.print(table)
    return EXIT_OK


def _show(store, db: Path, args: argparse.Namespace) -> int:
    from engine.adapters.sqlite.run_reads import stored_run, stored_runs

    view = stored_run(store, args.run_id)
    if view is None:
        ids = [r.run_id for r in stored_runs(store)]
        held = f"the database holds runs {min(ids)}..{max(ids)}" if ids else "it holds none"
        raise RunNotFoundError(f"{db}: no stored backtest run {args.run_id} ({held})")
    console = Console()
    _print_run(console, view)
    written = []
    if args.json:
        from desk.commands.output_paths import write_atomically

        write_atomically(args.json, json.dumps(run_document(view), indent=2) + "\n",
                         option="--json")
        written.append(args.json)
    if args.report:
        from desk.commands.output_paths import write_atomically
        from engine.backtest.report import render_report

        html = render_report(
            title=f"Desk backtest run {view.run_id}: {_label(view.config)} on "
                  f"{view.data_source}",
            metrics=view.metrics, equity=_equity_or_empty(view.equity), trades=view.trades,
            subtitle=f"stored {view.created_at[:19].replace('T', ' ')} UTC",
            extras=view.report_data, label=_label(view.config),
        )
        write_atomically(args.report, html, option="--report")
        written.append(args.report)
    if written:
        console.print(f"wrote {', '.join(written)}", highlight=False)
    return EXIT_OK


def run_document(view) -> dict:
    """The --json of a stored run: what `desk --backtest --json` wrote, as far as the store
    keeps it, plus the report extras."""
    return {"run_id": view.run_id, "created_at": view.created_at,
            "data_source": view.data_source, "metrics": view.metrics, "trades": view.trades,
            "config": view.config, **view.report_data}


def _print_run(console: Console, view) -> None:
    from desk.commands.backtest import METRIC_ROWS

    table = Table(title=f"Run {view.run_id}: {_label(view.config)} on {view.data_source}",
                  header_style="bold")
    table.add_column("Metric")
    table.add_column(_label(view.config), justify="right")
    benchmark = view.report_data.get("benchmark")
    if benchmark:
        table.add_column("Buy and hold", justify="right")
    for key, name, kind in METRIC_ROWS:
        cells = [name, _fmt(view.metrics.get(key), kind)]
        if benchmark:
            cells.append(_fmt(benchmark["metrics"].get(key), kind) if key in (
                "total_return", "annualized_return", "volatility", "sharpe", "sortino",
                "calmar", "max_drawdown", "var_95", "expected_shortfall_95") else "")
        table.add_row(*cells)
    console.print(table)
    compare = view.report_data.get("compare")
    if compare:
        rows = Table(title="Ensemble against each strategy alone", header_style="bold")
        for column in ("Run", "Return", "Sharpe", "Max drawdown", "Trades"):
            rows.add_column(column, justify="left" if column == "Run" else "right")
        for label, m in [(_label(view.config), view.metrics),
                         *((entry["label"], entry["metrics"]) for entry in compare)]:
            rows.add_row(label, _fmt(m.get("total_return"), "pct"), _fmt(m.get("sharpe"), "num"),
                         _fmt(m.get("max_drawdown"), "pct"), _fmt(m.get("num_trades"), "int"))
        console.print(rows)
    console.print(f"stored {view.created_at[:19].replace('T', ' ')} UTC; "
                  f"{len(view.trades):,} trades", highlight=False)


def _label(config: dict) -> str:
    run_info = config.get("run", {}) if isinstance(config, dict) else {}
    return str(run_info.get("label") or ", ".join(run_info.get("strategies", [])) or "run")


def _fmt(value, kind: str) -> str:
    from desk.commands.backtest import _fmt as fmt

    return fmt(value, kind)


def _equity_or_empty(equity):
    import pandas as pd

    return equity if equity is not None else pd.Series([], dtype=float)
