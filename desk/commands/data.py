"""`desk data fetch EXCHANGE SYMBOL TIMEFRAME [--since DATE] [--out FILE]`.

A thin wrapper over engine.venues.ccxt.fetch.fetch_candles: a progress bar on a
terminal, then one summary line. Rerunning resumes the file. The exchange's API URLs can
be redirected with DESK_CCXT_URLS (a testing / proxy hook; see exchange_fetch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0


def default_out(exchange: str, symbol: str, timeframe: str) -> Path:
    """binance BTC/USDT 1h -> binance_BTC-USDT_1h.parquet (a derivative's :SETTLE too)."""
    market = symbol.upper().replace("/", "-").replace(":", "-")
    return Path(f"{exchange.lower()}_{market}_{timeframe}.parquet")


def run(args: argparse.Namespace) -> int:
    if args.data_command == "record":
        from desk.commands.data_record import run as record

        return record(args)
    if args.data_command != "fetch":
        raise ValueError(f"unknown data command {args.data_command!r}")
    from desk.commands.output_paths import check_output_path
    from engine.venues.ccxt.fetch import fetch_candles

    out = Path(args.out) if args.out else default_out(args.exchange, args.symbol, args.timeframe)
    check_output_path(out, "--out")  # before the first request; an existing file resumes
    if sys.stderr.isatty():
        with _ProgressBar(f"{args.exchange} {args.symbol} {args.timeframe}") as bar:
            summary = fetch_candles(args.exchange, args.symbol, args.timeframe,
                                    since=args.since, out=out, progress=bar.update)
    else:
        summary = fetch_candles(args.exchange, args.symbol, args.timeframe, since=args.since,
                                out=out)
    print(_summary_line(summary))
    return EXIT_OK


def _summary_line(s) -> str:
    span = "no candles" if s.first is None else f"{s.first:%Y-%m-%d %H:%M} to " \
        f"{s.last:%Y-%m-%d %H:%M} UTC"
    skipped = f", {s.dropped} malformed skipped" if s.dropped else ""
    return (f"fetched {s.fetched} candles{skipped}; {s.total} in file ({span}) "
            f"-> {s.path}")


class _ProgressBar:
    """A rich progress bar over the time range being downloaded (on stderr)."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[candles]} candles"),
            TextColumn("{task.fields[at]}"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )
        self.task = self.progress.add_task(label, total=None, candles=0, at="")

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, fetched: int, last, start, end) -> None:
        total = max((end - start).total_seconds(), 1.0)
        done = min(max((last - start).total_seconds(), 0.0), total)
        self.progress.update(self.task, total=total, completed=done, candles=fetched,
                             at=f"{last:%Y-%m-%d %H:%M}")
