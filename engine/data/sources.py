"""One entry point for market data: a file, a shipped dataset or the simulated market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from engine.errors import DataError

SIM_DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
SIM_DEFAULT_BARS = 5000
SIM_DEFAULT_SEED = 7
SIM_DEFAULT_FREQ = "1h"


@dataclass(frozen=True, slots=True)
class MarketData:
    frames: dict[str, pd.DataFrame]  # symbol -> bar frame; all frames share one index
    source: str
    dropped: int  # bad rows dropped by clean mode
    # A microstructure recording's book and trade events (engine.microstructure.recording)
    # when the source is one; its bars are `frames`.
    recording: object | None = None

    @property
    def symbols(self) -> list[str]:
        return list(self.frames)

    @property
    def index(self) -> pd.DatetimeIndex:
        return next(iter(self.frames.values())).index


def load_source(
    source: str,
    *,
    bars: int | None = None,
    seed: int | None = None,
    freq: str | None = None,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    clean: bool = False,
) -> MarketData:
    """Load market data named by `source`.

    - "sim:" or "sim:SYM1,SYM2": the simulated market (default symbols BTC/USDT, ETH/USDT,
      SOL/USDT); `bars` (default 5000) bars of `freq` (default "1h") from `seed`
      (default 7). `start` is the time of the first bar (default 2026-01-01 UTC); `end`
      drops bars after it.
    - "arch:sp500", "arch:nasdaq": daily bars shipped with arch (symbols SP500, NASDAQ).
    - anything else: a CSV or Parquet path; the symbol is the file stem upper-cased.
      `clean` drops bad rows instead of stopping.

    For datasets and files, `start`/`end` (inclusive; dates or datetimes, naive = UTC)
    filter the rows, then `bars` keeps the last N; `seed` and `freq` are ignored.
    """
    if bars is not None and bars < 1:
        raise DataError(f"{source}: bars must be at least 1, got {bars}")
    start_ts, end_ts = _timestamp(start, "start"), _timestamp(end, "end")
    if end_ts is not None and _is_date_only(end):
        # "end=2024-03-01" includes that whole day, not just its first instant.
        end_ts = end_ts + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise DataError(f"{source}: start {start_ts} is after end {end_ts}")

    if source.startswith("sim:") or source == "sim":
        frames = _load_sim(source, bars, seed, freq, start_ts)
        frames = _filter(frames, source, None, end_ts, None)
        return MarketData(frames, source, 0)

    if source.startswith("arch:"):
        from engine.data.datasets import load_dataset

        symbol, frame = load_dataset(source.removeprefix("arch:"))
        frames, dropped = {symbol: frame}, 0
    elif _looks_like_prefix(source):
        prefix = source.split(":", 1)[0]
        raise DataError(f"{source}: unknown source prefix '{prefix}:' (use sim:, arch: or a path)")
    else:
        from engine.microstructure.recording import is_recording, load_recording

        if is_recording(source):
            recording = load_recording(source)
            return MarketData(_filter(recording.frames, source, start_ts, end_ts, bars), source,
                              0, recording)
        from engine.data.files import load_file

        frame, dropped = load_file(source, clean=clean)
        frames = {Path(source).stem.upper(): frame}
    return MarketData(_filter(frames, source, start_ts, end_ts, bars), source, dropped)


def _load_sim(
    source: str,
    bars: int | None,
    seed: int | None,
    freq: str | None,
    start: pd.Timestamp | None,
) -> dict[str, pd.DataFrame]:
    from engine.data.sim import SimMarket

    spec = source.removeprefix("sim").removeprefix(":")
    symbols = [s.strip() for s in spec.split(",") if s.strip()] or list(SIM_DEFAULT_SYMBOLS)
    market = SimMarket(
        symbols,
        seed=SIM_DEFAULT_SEED if seed is None else seed,
        freq=freq or SIM_DEFAULT_FREQ,
        start=None if start is None else start.to_pydatetime(),
    )
    return market.history(SIM_DEFAULT_BARS if bars is None else bars)


def _filter(
    frames: dict[str, pd.DataFrame],
    source: str,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    bars: int | None,
) -> dict[str, pd.DataFrame]:
    out = {}
    for symbol, frame in frames.items():
        if start is not None:
            frame = frame.loc[frame.index >= start]
        if end is not None:
            frame = frame.loc[frame.index <= end]
        if bars is not None:
            frame = frame.iloc[-bars:]
        if frame.empty:
            raise DataError(f"{source}: no bars for {symbol} between {start} and {end}")
        out[symbol] = frame
    return out


def _looks_like_prefix(source: str) -> bool:
    """A "name:..." source that is not an existing file (one letter is a Windows drive)."""
    prefix, colon, _ = source.partition(":")
    return (
        bool(colon)
        and len(prefix) > 1
        and not any(c in prefix for c in "/\\.")
        and not Path(source).exists()
    )


def _is_date_only(value: str | datetime | date) -> bool:
    if isinstance(value, str):
        return ":" not in value and "T" not in value.upper()
    return not isinstance(value, datetime)


def _timestamp(value: str | datetime | None, what: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what}: not a date or time: {value!r}") from exc
    if ts is pd.NaT:
        raise DataError(f"{what}: not a date or time: {value!r}")
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
