"""`desk --backtest`: run a headless backtest and print its summary."""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table

METRIC_ROWS = (
    ("total_return", "Total return", "pct"),
    ("annualized_return", "Annualized return", "pct"),
    ("volatility", "Volatility (ann.)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("var_95", "VaR 95 (per bar)", "pct"),
    ("expected_shortfall_95", "Expected shortfall 95", "pct"),
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
    from engine.backtest_job import JobOptions, run_job
    from engine.config import apply_cli_overrides, load_config

    if not args.data:
        print("desk: --backtest needs --data SOURCE", file=sys.stderr)
        return 2
    cfg = apply_cli_overrides(load_config(args.config), args)
    options = JobOptions(
        data=args.data, bars=args.bars, seed=args.seed, freq=args.freq, start=args.start,
        end=args.end, clean=args.clean, strategy_specs=tuple(args.strategy or ()),
        compare=args.compare, json_path=args.json, report_path=args.report,
    )
    console = Console()
    progress = _DelayedProgress(console)
    try:
        outcome = run_job(cfg, options, progress=progress)
    finally:
        progress.close()
    print_summary(console, outcome, options)
    # A desk.toml in the current directory is picked up silently otherwise.
    console.print(f"config {cfg.source} (execution {cfg.execution.mode}, "
                  f"{'regime on' if cfg.engine.regime else 'regime off'})", style="dim")
    return 0


def print_summary(console: Console, outcome, options) -> None:
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
    written = [p for p in (options.json_path, options.report_path) if p]
    console.print(f"stored as backtest run {outcome.run_id}"
                  + (f"; wrote {', '.join(written)}" if written else ""))
