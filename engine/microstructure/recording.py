"""Recorded microstructure: bars, book updates and trades of several symbols in one Parquet
file, written by `desk data record` and replayed by backtests (engine.microstructure.replay).

One row per event, time-ordered per symbol: `kind` is "bar" (open..volume; `ts` is the
bar's open time), "book" (bid_px / bid_sz / ask_px / ask_sz lists, best first) or "trade"
(price, size, aggressor +1 buyer / -1 seller, trade_id, maker: the resting side's
participant hint, "" when unknown). The file's metadata holds `desk.recording` (the format
version) and `desk.freq` (the bar interval), so a recording is told from a bar file by its
metadata, not its name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.data.microstructure import OrderBook, TradePrint
from engine.errors import DataError
from engine.types import OrderSide

FORMAT = b"1"
KEY, FREQ_KEY = b"desk.recording", b"desk.freq"
BAR_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass
class Recording:
    freq: str
    frames: dict  # symbol -> OHLCV DataFrame (one shared UTC index of bar open times)
    events: dict[str, list[OrderBook | TradePrint]]  # symbol -> events in time order


def record_sim(symbols: Sequence[str], *, bars: int, seed: int, freq: str, updates: int,
               levels: int, start: datetime | None = None) -> Recording:
    """`bars` bars of the simulated market with the stream of each bar (SimMarket.flow):
    the events the live desk sees on the same market."""
    from engine.data.sim import SimMarket

    if bars < 1:
        raise DataError(f"record: bars must be at least 1, got {bars}")
    market = SimMarket(symbols, seed=seed, freq=freq, start=start)
    market.history(0)
    events: dict[str, list] = {s: [] for s in market.symbols}
    for _ in range(bars):
        market.next_bars()
        for symbol in market.symbols:
            events[symbol].extend(market.flow(symbol, updates, levels))
    frames = market.history(bars)  # the same bars, as frames (history is deterministic)
    return Recording(freq, frames, events)


def write_recording(recording: Recording, path: str | os.PathLike[str]) -> Path:
    """Write `recording` to `path` through a temp file renamed over it (never half-written)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list] = {name: [] for name in (
        "symbol", "ts", "kind", *BAR_COLUMNS, "price", "size", "aggressor", "trade_id", "maker",
        "bid_px", "bid_sz", "ask_px", "ask_sz")}

    def row(**values) -> None:
        for name, column in columns.items():
            column.append(values.get(name))

    for symbol, frame in recording.frames.items():
        for ts, bar in zip(frame.index, frame[list(BAR_COLUMNS)].itertuples(index=False),
                           strict=True):
            row(symbol=symbol, ts=ts.to_pydatetime(), kind="bar",
                **dict(zip(BAR_COLUMNS, map(float, bar), strict=True)))
        for event in recording.events.get(symbol, ()):
            if isinstance(event, OrderBook):
                row(symbol=symbol, ts=event.ts, kind="book",
                    bid_px=[p for p, _ in event.bids], bid_sz=[q for _, q in event.bids],
                    ask_px=[p for p, _ in event.asks], ask_sz=[q for _, q in event.asks])
            else:
                row(symbol=symbol, ts=event.ts, kind="trade", price=event.price,
                    size=event.size, aggressor=1 if event.aggressor == OrderSide.BUY else -1,
                    trade_id=event.trade_id, maker=event.maker)
    floats, lists = pa.float64(), pa.list_(pa.float64())
    schema = pa.schema(
        [("symbol", pa.string()), ("ts", pa.timestamp("ns", tz="UTC")), ("kind", pa.string())]
        + [(c, floats) for c in (*BAR_COLUMNS, "price", "size")]
        + [("aggressor", pa.int8()), ("trade_id", pa.string()), ("maker", pa.string())]
        + [(c, lists) for c in ("bid_px", "bid_sz", "ask_px", "ask_sz")],
        metadata={KEY: FORMAT, FREQ_KEY: recording.freq.encode()})
    table = pa.table(columns, schema=schema)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def is_recording(path: str | os.PathLike[str]) -> bool:
    """True for a Parquet file whose metadata marks a Desk recording."""
    if not str(path).lower().endswith(".parquet") or not Path(path).is_file():
        return False
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not Parquet at all: the bar loader says why
        return False
    return KEY in metadata


def load_recording(path: str | os.PathLike[str]) -> Recording:
    import pandas as pd
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # noqa: BLE001 - one line, whatever pyarrow raised
        raise DataError(f"{path}: not a readable recording ({type(error).__name__})") from None
    metadata = table.schema.metadata or {}
    if metadata.get(KEY) != FORMAT:
        raise DataError(f"{path}: not a Desk recording of format {FORMAT.decode()}")
    freq = metadata.get(FREQ_KEY, b"").decode()
    data = table.to_pydict()
    frames_rows: dict[str, list] = {}
    events: dict[str, list] = {}
    for i, kind in enumerate(data["kind"]):
        symbol, ts = data["symbol"][i], data["ts"][i]
        if kind == "bar":
            frames_rows.setdefault(symbol, []).append(
                (ts, *(data[c][i] for c in BAR_COLUMNS)))
        elif kind == "book":
            events.setdefault(symbol, []).append(OrderBook(
                symbol, ts, tuple(zip(data["bid_px"][i], data["bid_sz"][i], strict=True)),
                tuple(zip(data["ask_px"][i], data["ask_sz"][i], strict=True))))
        elif kind == "trade":
            events.setdefault(symbol, []).append(TradePrint(
                symbol, ts, data["price"][i], data["size"][i],
                OrderSide.BUY if data["aggressor"][i] > 0 else OrderSide.SELL,
                data["trade_id"][i] or "", data["maker"][i] or ""))
        else:
            raise DataError(f"{path}: row {i}: unknown event kind {kind!r}")
    if not frames_rows:
        raise DataError(f"{path}: the recording holds no bars")
    frames = {}
    for symbol, rows in frames_rows.items():
        frame = pd.DataFrame(rows, columns=["ts", *BAR_COLUMNS]).set_index("ts")
        frame.index = pd.DatetimeIndex(frame.index, name="ts")
        frames[symbol] = frame.sort_index()
    return Recording(freq, frames, {s: events.get(s, []) for s in frames})


def record_stream(stream, symbols: Sequence[str], *, seconds: float, freq: str,
                  clock=None) -> Recording:
    """Record `stream` (an engine.venues.ccxt.market_stream.MarketStream, not started) for
    `seconds`: every book and trade it delivers, and bars built from the trades (open,
    high, low and close of the trade prices, summed sizes) per `freq` interval from the
    first event; an interval without trades repeats the last close with no volume."""
    import threading
    import time

    import pandas as pd

    from engine.live.feeds import freq_seconds

    lock = threading.Lock()
    events: dict[str, list] = {s: [] for s in symbols}

    def listen(event: OrderBook | TradePrint) -> None:
        with lock:
            if event.symbol in events:
                events[event.symbol].append(event)

    stream.listeners.append(listen)
    stream.start()
    try:
        (clock or time.sleep)(seconds)
    finally:
        stream.close()
    with lock:
        kept = {s: sorted(e, key=lambda x: x.ts) for s, e in events.items()}
    if not any(kept.values()):
        raise DataError(f"record: nothing arrived from the stream in {seconds:g} s")
    step = pd.Timedelta(seconds=freq_seconds(freq))
    first = min(e[0].ts for e in kept.values() if e)
    last = max(e[-1].ts for e in kept.values() if e)
    index = pd.date_range(pd.Timestamp(first).floor(step), pd.Timestamp(last).floor(step),
                          freq=step, name="ts")
    frames = {}
    for symbol, symbol_events in kept.items():
        trades = [e for e in symbol_events if isinstance(e, TradePrint)]
        books = [e for e in symbol_events if isinstance(e, OrderBook)]
        if trades:
            tape = pd.DataFrame({"price": [t.price for t in trades],
                                 "size": [t.size for t in trades]},
                                index=pd.DatetimeIndex([t.ts for t in trades]))
        else:  # books only: bars of the mid
            tape = pd.DataFrame({"price": [b.mid for b in books], "size": 0.0},
                                index=pd.DatetimeIndex([b.ts for b in books]))
        grouped = tape.resample(step, origin=index[0]).agg(
            {"price": ["first", "max", "min", "last"], "size": "sum"})
        grouped.columns = list(BAR_COLUMNS)
        grouped = grouped.reindex(index)
        close = grouped["close"].ffill().bfill()
        for column in ("open", "high", "low"):
            grouped[column] = grouped[column].fillna(close)
        grouped["close"] = close
        grouped["volume"] = grouped["volume"].fillna(0.0)
        frames[symbol] = grouped
    return Recording(freq, frames, kept)
