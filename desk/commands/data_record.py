"""`desk data record --out FILE [--bars N] [--symbols A,B] [--seed N] [--freq F]` records the
simulated market's microstructure (bars, book updates, trades) to Parquet;
`desk data record --stream --seconds S --out FILE` records the exchange stream the
configuration names ([feed] stream_url, [broker] exchange). A backtest replays the file:
`desk --backtest --data FILE` (engine.microstructure.replay).

The output path is checked before anything is recorded and written through a temp file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import DeskError

EXIT_OK = 0


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path
    from engine.config.schema import load_config

    out = check_output_path(Path(args.out), "--out")
    cfg = load_config(args.config)
    symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip()) \
        if args.symbols else cfg.feed.symbols
    freq = args.freq or cfg.feed.freq
    if args.stream:
        recording = _record_stream(cfg, symbols, args.seconds, freq)
    else:
        from engine.microstructure.recording import record_sim

        recording = record_sim(symbols, bars=args.bars, freq=freq,
                               seed=cfg.feed.seed if args.seed is None else args.seed,
                               updates=cfg.microstructure.sim_updates,
                               levels=cfg.microstructure.depth_levels)
    from engine.microstructure.recording import write_recording

    write_recording(recording, out)
    books = sum(1 for events in recording.events.values() for e in events
                if type(e).__name__ == "OrderBook")
    trades = sum(len(events) for events in recording.events.values()) - books
    bars = len(next(iter(recording.frames.values())))
    print(f"recorded {bars} bars x {len(recording.frames)} symbols, {books:,} book updates, "
          f"{trades:,} trades -> {out}")
    return EXIT_OK


def _record_stream(cfg, symbols, seconds: float, freq: str):
    if not cfg.feed.stream_url or not cfg.broker.exchange:
        raise DeskError("--stream needs [feed] stream_url and [broker] exchange in the "
                        "configuration")
    if not seconds or seconds <= 0:
        raise DeskError("--stream needs --seconds S (how long to record), S > 0")
    from engine.microstructure.recording import record_stream
    from engine.venues.ccxt.fetch import build_exchange, url_overrides
    from engine.venues.ccxt.market_stream import MarketStream

    exchange = build_exchange(cfg.broker.exchange, symbol=symbols[0])
    if cfg.broker.sandbox and hasattr(exchange, "set_sandbox_mode"):
        exchange.set_sandbox_mode(True)
        exchange.urls["api"].update(url_overrides())
    exchange.load_markets()
    stream = MarketStream(cfg.feed.stream_url, {s: exchange.market(s)["id"] for s in symbols},
                          depth=cfg.microstructure.depth_levels, rest_exchange=exchange)
    return record_stream(stream, symbols, seconds=seconds, freq=freq)


def add_parser(data_commands) -> argparse.ArgumentParser:
    """`desk data record`, under `desk data` (desk.cli adds --config and --db)."""
    record = data_commands.add_parser(
        "record", help="record the simulated market's (or a stream's) book and trades to "
        "Parquet, for backtests to replay")
    record.add_argument("--out", required=True, metavar="FILE", help="Parquet file to write")
    record.add_argument("--bars", type=int, default=2000, metavar="N",
                        help="bars of the simulated market (default 2000)")
    record.add_argument("--symbols", metavar="A,B", help="default: [feed] symbols")
    record.add_argument("--seed", type=int, metavar="N", help="default: [feed] seed")
    record.add_argument("--freq", metavar="F", help="bar interval (default: [feed] freq)")
    record.add_argument("--stream", action="store_true",
                        help="record the exchange stream of [feed] stream_url instead")
    record.add_argument("--seconds", type=float, metavar="S",
                        help="with --stream: how long to record")
    return record
