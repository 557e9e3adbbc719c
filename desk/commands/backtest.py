"""`desk --backtest`: run a headless backtest and print its summary."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.signals.filters.summary import filters_line

METRIC_ROWS = (
    ("total_return", "Total return", "pct"),
    ("annualized_return", "Annualized return", "pct"),
    ("volatility", "Volatility (ann.)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("var_95", "VaR 95% historical (1 bar)", "pct"),
    ("expected_shortfall_95", "ES 95% historical (1 bar)", "pct"),
    ("var_99", "VaR 99% historical (1 bar)", "pct"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "num"),
    ("avg_trade", "Average trade", "num"),
    ("num_trades", "Trades", "int"),
    ("exposure", "Exposure", "pct"),
)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value * 100:,.2f}%"
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.3f}"


class _DelayedProgress:
    """A progress bar that appears only on a terminal and only once a run passes 1 s."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()
        self.progress = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.console.is_terminal:
            return
        if self.progress is None:
            if time.perf_counter() - self.started < 1.0 or done >= total:
                return
            from rich.progress import BarColumn, Progress, TimeRemainingColumn

            self.progress = Progress("[progress.description]{task.description}", BarColumn(),
                                     "{task.percentage:>3.0f}%", TimeRemainingColumn(),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("backtest", total=total)
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run(args: argparse.Namespace) -> int:
    from engine.backtest.job import JobOptions, run_job
    from engine.config.schema import apply_cli_overrides, load_config

    if not args.data:
        print("desk: --backtest needs --data SOURCE", file=sys.stderr)
        return 2
    cfg = apply_cli_overrides(load_config(args.config), args)
    check_outputs(args)
    # The run is stored at the end: a database that cannot take it must stop us now, not
    # after the whole run.
    unwritable = database_unwritable(_database_path(cfg))
    if unwritable:
        print(f"desk: {unwritable}", file=sys.stderr)
        return 2
    warning = size_warning(cfg)
    if warning:
        # Before the run: otherwise a user sees only "N denied by risk" at the end.
        print(f"desk: warning: {warning}", file=sys.stderr, flush=True)
    options = JobOptions(
        data=args.data, bars=args.bars, seed=args.seed, freq=args.freq, start=args.start,
        end=args.end, clean=args.clean, strategy_specs=tuple(args.strategy or ()),
        compare=args.compare,
        walk_forward_models=getattr(args, "walk_forward_models", None),
    )
    console = Console()
    progress = _DelayedProgress(console)
    try:
        outcome = run_job(cfg, options, progress=progress)
    finally:
        progress.close()
    write_outputs(args, outcome)
    warning = warmup_warning(cfg, options, outcome)
    if warning:
        print(f"desk: warning: {warning}", file=sys.stderr)
    print_summary(console, outcome, args)
    # A desk.toml in the current directory is picked up silently otherwise.
    console.print(f"config {cfg.source} (execution {cfg.execution.mode}, "
                  f"{'regime on' if cfg.engine.regime else 'regime off'})", style="dim")
    return 0


def check_outputs(args: argparse.Namespace) -> None:
    """--json and --report must be writable before the run starts (OutputPathError)."""
    from desk.commands.output_paths import check_output_path

    for option, path in (("--json", args.json), ("--report", args.report)):
        if path:
            check_output_path(path, option)


def write_outputs(args: argparse.Namespace, outcome) -> None:
    """The --json document and the --report page, each replaced atomically."""
    import json

    from desk.commands.output_paths import write_atomically

    if args.json:
        write_atomically(args.json, json.dumps(outcome.document, indent=2) + "\n",
                         option="--json")
    if args.report:
        from engine.backtest.report import render_report

        result = outcome.result
        html = render_report(
            title=f"Desk backtest: {result.label} on {outcome.source}",
            metrics=result.metrics,
            equity=result.equity,
            trades=[t.to_dict() for t in result.trades],
            subtitle=", ".join(outcome.symbols),
            extras=outcome.report_data,
            label=result.label,
        )
        write_atomically(args.report, html, option="--report")


def _database_path(cfg) -> Path:
    from store.paths import default_db_path

    return Path(cfg.store.path) if cfg.store.path else default_db_path()


def database_unwritable(path: Path) -> str | None:
    """Why the run could not be stored in `path`, or None. SQLite in WAL mode writes the
    file and creates -wal and -shm beside it, so the directory must be writable too; a
    database not yet created needs its nearest existing directory writable."""
    if path.is_dir():
        return f"{path}: the database is a directory"
    if path.exists():
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists() and not os.access(file, os.R_OK | os.W_OK):
                return f"{file}: the database is read-only: the run could not be stored"
        folder = path.parent
    else:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"{path}: cannot create the database: {folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"{path}: the database's directory {folder} is read-only:"
                " the run could not be stored")
    return None


def size_warning(cfg) -> str | None:
    """A line saying that `[engine] size` (or `--size`) is above `[risk] max_position_pct`,
    so the risk gate denies every entry the trader sizes at full size; None when it is not.

    With the regime on, a regime's size multiplier below one can bring an entry under the
    limit, so the line says "not scaled down by the regime" rather than "every"."""
    size, limit = cfg.engine.size, cfg.risk.max_position_pct
    if size <= limit:
        return None
    which = ("every entry not scaled down by the regime" if cfg.engine.regime
             else "every entry")
    return (f"[engine] size ({size:g}) is above [risk] max_position_pct ({limit:g}):"
            f" {which} will be denied")


def warmup_warning(cfg, options, outcome) -> str | None:
    """A line saying why a run could not trade when its data is shorter than the
    warm-up of every strategy (the run itself 'succeeds' with 0 trades)."""
    from engine.backtest.job import build_spec

    strategies = build_spec(cfg, options.strategy_specs).strategies.values()
    warmup = min(strategy.warmup for strategy in strategies)
    bars = outcome.result.timing["bars"] // max(len(outcome.symbols), 1)
    if bars > warmup:
        return None
    return (f"{outcome.source}: {bars:,} bar{'s' if bars != 1 else ''} per symbol, but the"
            f" strategies need more than {warmup:,} to warm up: no trade is possible")


def deny_line(deny_reasons: dict[str, dict]) -> str:
    """"denied by risk: max_position 160 (e.g. ...), max_daily_loss 7 (e.g. ...)": one
    entry per rule id with its count and first message, or "" when nothing was denied."""
    parts = [f"{rule} {entry['count']:,} (e.g. {entry['example']})"
             for rule, entry in deny_reasons.items()]
    return "denied by risk: " + ", ".join(parts) if parts else ""


def print_summary(console: Console, outcome, args: argparse.Namespace) -> None:
    result = outcome.result
    title = f"{result.label} on {outcome.source} ({', '.join(outcome.symbols)})"
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("Metric")
    table.add_column(result.label, justify="right")
    for key, name, kind in METRIC_ROWS:
        table.add_row(name, _fmt(result.metrics.get(key), kind))
    console.print(table)
    timing = result.timing
    console.print(
        f"{timing['bars']:,} bars: load {outcome.load_s:.2f} s, run {timing['run_s']:.2f} s "
        f"({timing['bars_per_s']:,.0f} bars/s); "
        f"orders {result.stats['orders_filled']:,} filled, "
        f"{result.stats['orders_denied']:,} denied by risk; stops {result.stats['stops_hit']:,}"
    )
    denials = deny_line(result.stats.get("deny_reasons", {}))
    if denials:
        # Not markup: an example message may hold brackets; one line even when piped, so
        # that it can be grepped.
        console.print(denials, markup=False, highlight=False, soft_wrap=True)
    layer = filters_line(result.stats.get("signal_layer") or {})
    if layer:
        console.print(layer, markup=False, highlight=False, soft_wrap=True)
    if outcome.dropped:
        console.print(f"--clean dropped {outcome.dropped:,} bad rows")
    if outcome.comparisons:
        compare = Table(title="Ensemble against each strategy alone", header_style="bold")
        for column in ("Run", "Return", "Sharpe", "Max drawdown", "Trades"):
            compare.add_column(column, justify="right" if column != "Run" else "left")
        for run_result in (result, *outcome.comparisons):
            m = run_result.metrics
            compare.add_row(run_result.label, _fmt(m.get("total_return"), "pct"),
                            _fmt(m.get("sharpe"), "num"), _fmt(m.get("max_drawdown"), "pct"),
                            _fmt(m.get("num_trades"), "int"))
        console.print(compare)
    written = [p for p in (args.json, args.report) if p]
    console.print(f"stored as backtest run {outcome.run_id}"
                  + (f"; wrote {', '.join(written)}" if written else ""))
