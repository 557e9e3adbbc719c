"""Candles from an exchange (through ccxt) into a Parquet bar file that resumes.

`fetch_candles` pages through `fetch_ohlcv` (each page as large as the exchange allows)
and keeps only closed candles. The file it writes is a bar frame (see engine.data.frame)
that `desk --backtest --data FILE.parquet` reads; its Parquet metadata records the
exchange, symbol and timeframe so a resumed fetch never extends another market's file.
Rerunning continues after the file's last candle; a candle is never written twice.

The file is replaced atomically (temp file, fsync, rename) at checkpoints, on an error
and at the end, so a kill at any moment leaves the previous complete file.

DESK_CCXT_URLS (testing / proxy hook): a JSON object merged into the ccxt exchange's
`urls['api']` by `build_exchange`, e.g. '{"public": "http://127.0.0.1:8080/api/v3"}' points
Binance's public REST API at a local fake exchange or a proxy. Unset in normal use.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import DeskError

URLS_ENV = "DESK_CCXT_URLS"
META_KEY = b"desk.candles"
CHECKPOINT_SECONDS = 5.0  # the most download a kill -9 can cost
DEFAULT_BARS = 1000  # a first fetch without `since` gets this many recent candles


class ExchangeFetchError(DeskError):
    """The exchange could not give the candles asked for (after retries)."""


class UnknownExchangeError(ExchangeFetchError):
    def __init__(self, exchange_id: str) -> None:
        super().__init__(f"unknown exchange '{exchange_id}' (not a ccxt exchange id)")
        self.exchange_id = exchange_id


class UnknownSymbolError(ExchangeFetchError):
    def __init__(self, exchange: str, symbol: str, suggestions: list[str]) -> None:
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"{exchange}: unknown symbol '{symbol}'{hint}")
        self.exchange, self.symbol, self.suggestions = exchange, symbol, suggestions


class UnknownTimeframeError(ExchangeFetchError):
    def __init__(self, exchange: str, timeframe: str, supported: list[str]) -> None:
        super().__init__(
            f"{exchange}: unknown timeframe '{timeframe}' (supported: {', '.join(supported)})"
        )
        self.exchange, self.timeframe, self.supported = exchange, timeframe, supported


class FileMismatchError(ExchangeFetchError):
    """The output file holds another market's candles: resuming would mix two series."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Backoff for network errors: `attempts` tries, delays doubling up to `max_delay`."""

    attempts: int = 6
    first_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    # With a time budget, tries go on (whatever `attempts` says) until the next wait would
    # end past it: startup against an exchange that is briefly down.
    within_s: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def for_startup(cls, seconds: float) -> Retry:
        """Backoff from 0.5 s to 10 s for up to `seconds` ([broker] startup_timeout)."""
        return cls(first_delay=0.5, max_delay=10.0, within_s=seconds)

    def call(self, what: str, fn: Callable, *args, **kwargs):
        import ccxt

        delay = self.first_delay
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(*args, **kwargs)
            except ccxt.OperationFailed as error:  # timeouts, 5xx, 429: worth another try
                if self._given_up(attempt, start, delay):
                    spent = "" if self.within_s is None else \
                        f" in {self.clock() - start:.0f} s"
                    raise ExchangeFetchError(
                        f"{what}: failed after {attempt} attempts{spent} "
                        f"({type(error).__name__}: {_short(error)})"
                    ) from error
                self.sleep(delay)
                delay = min(delay * 2, self.max_delay)
            except ccxt.BaseError as error:  # the request itself is wrong: retrying won't help
                raise ExchangeFetchError(f"{what}: {type(error).__name__}: {_short(error)}") \
                    from error

    def _given_up(self, attempt: int, start: float, delay: float) -> bool:
        if self.within_s is None:
            return attempt >= self.attempts
        return self.clock() + delay - start > self.within_s


@dataclass(frozen=True, slots=True)
class FetchSummary:
    exchange: str
    symbol: str
    timeframe: str
    path: Path
    fetched: int  # new candles written by this run
    total: int  # candles in the file now
    first: datetime | None
    last: datetime | None
    pages: int
    dropped: int  # malformed candles the exchange sent (skipped)


Progress = Callable[[int, datetime, datetime, datetime], None]
"""progress(candles downloaded so far, last candle time, range start, range end)."""


def url_overrides() -> dict[str, str]:
    """The API URLs DESK_CCXT_URLS redirects (empty when it is not set)."""
    override = os.environ.get(URLS_ENV)
    if not override:
        return {}
    try:
        urls = json.loads(override)
    except ValueError as error:
        raise DeskError(f"{URLS_ENV}: not JSON ({error})") from error
    if not isinstance(urls, dict):
        raise DeskError(f"{URLS_ENV}: expected a JSON object of API name -> URL")
    return urls


def build_exchange(exchange, *, symbol: str | None = None):
    """A ccxt exchange object from an id (rate-limited, DESK_CCXT_URLS applied) or as given.

    For a spot `symbol` (no ':' settle suffix) on an exchange that loads several market
    types, only spot markets are loaded: a fraction of the requests.
    """
    import ccxt

    if not isinstance(exchange, str):
        return exchange
    cls = getattr(ccxt, exchange.lower(), None)
    if exchange.lower() not in ccxt.exchanges or cls is None:
        raise UnknownExchangeError(exchange)
    ex = cls({"enableRateLimit": True})
    urls = url_overrides()
    if urls:
        if not isinstance(ex.urls.get("api"), dict):
            raise DeskError(f"{URLS_ENV}: {exchange} has no API URL table to override")
        ex.urls["api"].update(urls)
    fetch_markets = ex.options.get("fetchMarkets")
    spot = bool(symbol) and ":" not in symbol
    if spot and isinstance(fetch_markets, dict) and "types" in fetch_markets:
        ex.options["fetchMarkets"] = {**fetch_markets, "types": ["spot"]}
    return ex


def check_market(exchange, symbol: str, timeframe: str, retry: Retry) -> None:
    """Load markets and stop with a named error for an unknown symbol or timeframe."""
    import difflib

    retry.call(f"{exchange.id}: load markets", exchange.load_markets)
    if symbol not in exchange.markets:
        close = difflib.get_close_matches(symbol.upper(), list(exchange.markets), n=3)
        raise UnknownSymbolError(exchange.id, symbol, close)
    timeframes = exchange.timeframes or {}
    if timeframes and timeframe not in timeframes:
        raise UnknownTimeframeError(exchange.id, timeframe, list(timeframes))


def timeframe_ms(exchange, timeframe: str) -> int:
    try:
        return int(exchange.parse_timeframe(timeframe) * 1000)
    except Exception as error:  # ccxt raises NotSupported or a bare ValueError/KeyError
        raise UnknownTimeframeError(exchange.id, timeframe, list(exchange.timeframes or {})) \
            from error


def page_limit(exchange, symbol: str) -> int | None:
    """The most candles one fetch_ohlcv returns, from ccxt's `features` (None: its default)."""
    market = exchange.markets.get(symbol, {}) if exchange.markets else {}
    kind = "spot" if market.get("spot", True) else ("linear" if market.get("linear") else
                                                    "inverse")
    features = (exchange.features or {}).get(kind) or {}
    # Derivative features are nested one level further (swap/future).
    if "fetchOHLCV" not in features:
        features = next((v for v in features.values() if isinstance(v, dict)
                         and "fetchOHLCV" in v), {})
    limit = (features.get("fetchOHLCV") or {}).get("limit")
    return int(limit) if limit else None


def server_now_ms(exchange, retry: Retry) -> int:
    """The exchange's clock when it tells it (closed candles are judged by it), else ours."""
    if exchange.has.get("fetchTime"):
        try:
            return int(retry.call(f"{exchange.id}: fetch time", exchange.fetch_time))
        except ExchangeFetchError:
            pass  # the local clock is a fine fallback for one judgement
    return int(exchange.milliseconds())


def iter_closed_pages(exchange, symbol: str, timeframe: str, *, since_ms: int,
                      stop_ms: int, retry: Retry) -> Iterator[list[list]]:
    """Pages of candles with since_ms <= open time < stop_ms, strictly increasing.

    Stops at an empty page, at a page with nothing new, or at stop_ms. The caller picks
    stop_ms so that only closed candles fall below it.
    """
    tf = timeframe_ms(exchange, timeframe)
    limit = page_limit(exchange, symbol)
    # Calendar timeframes (1M) are not a fixed length: ask from just after the last one.
    step = tf if tf < 28 * 86_400_000 else 1
    cursor, last = since_ms, since_ms - 1
    while cursor < stop_ms:
        rows = retry.call(f"{exchange.id} {symbol} {timeframe}: fetch candles",
                          exchange.fetch_ohlcv, symbol, timeframe, since=cursor, limit=limit)
        rows = [r for r in rows or [] if last < r[0] < stop_ms]
        rows.sort(key=lambda r: r[0])
        rows = [r for i, r in enumerate(rows) if i == 0 or r[0] != rows[i - 1][0]]
        if not rows:
            return
        yield rows
        last = rows[-1][0]
        cursor = last + step


def candles_frame(rows: list[list], name: str):
    """Candle rows [ms, o, h, l, c, v] as a bar frame, malformed rows dropped and counted."""
    import pandas as pd

    from engine.data.frame import COLUMNS, validate_frame

    raw = pd.DataFrame([r[1:6] for r in rows], columns=list(COLUMNS))
    raw.index = pd.to_datetime([r[0] for r in rows], unit="ms", utc=True)
    return validate_frame(raw, name=name, clean=True)


def fetch_candles(exchange, symbol: str, timeframe: str, *, since, out: Path,
                  progress: Progress | None = None, until=None, retry: Retry | None = None,
                  checkpoint_seconds: float = CHECKPOINT_SECONDS) -> FetchSummary:
    """Download closed `timeframe` candles of `symbol` into the Parquet file `out`.

    `exchange` is a ccxt exchange object or an id. `since`/`until` are datetimes, ISO
    strings (naive = UTC) or epoch milliseconds; `until` is exclusive and defaults to now.
    Without `since`: the last DEFAULT_BARS candles. If `out` exists, the fetch continues
    after its last candle (and also fills [since, first candle) when `since` is earlier).
    """
    retry = retry or Retry()
    out = Path(out)
    ex = build_exchange(exchange, symbol=symbol)
    check_market(ex, symbol, timeframe, retry)
    tf = timeframe_ms(ex, timeframe)
    meta = {"exchange": ex.id, "symbol": symbol, "timeframe": timeframe}
    existing = read_candle_file(out, meta)

    now = server_now_ms(ex, retry)
    # A candle is closed once its whole interval is in the past.
    stop = now - tf + 1
    if until is not None:
        stop = min(stop, _ms(until))
    start = _ms(since) if since is not None else None

    ranges = []
    if existing is None or existing.empty:
        ranges.append((start if start is not None else now - tf * (DEFAULT_BARS + 1), stop))
    else:
        first = int(existing.index[0].value // 1_000_000)
        last = int(existing.index[-1].value // 1_000_000)
        if start is not None and start < first:
            ranges.append((start, min(first, stop)))
        ranges.append((last + 1, stop))

    state = _Accumulator(existing, out, meta, checkpoint_seconds, write_candle_file)
    try:
        for lo, hi in ranges:
            for rows in iter_closed_pages(ex, symbol, timeframe, since_ms=lo, stop_ms=hi,
                                          retry=retry):
                state.add(rows)
                if progress is not None:
                    progress(state.received, _dt(rows[-1][0]), _dt(lo), _dt(hi))
    finally:
        # Whatever arrived before an error or an interrupt is kept: the rerun resumes.
        state.flush()
    frame = state.frame
    return FetchSummary(
        ex.id, symbol, timeframe, out, state.fetched, 0 if frame is None else len(frame),
        None if frame is None or frame.empty else frame.index[0].to_pydatetime(),
        None if frame is None or frame.empty else frame.index[-1].to_pydatetime(),
        state.pages, state.dropped,
    )


class _Accumulator:
    """Candles fetched so far, merged into the file's frame at checkpoints."""

    def __init__(self, existing, out: Path, meta: dict, every: float, write) -> None:
        self.frame, self.out, self.meta, self.every, self.write = existing, out, meta, every, write
        self.pending: list[list] = []
        self.fetched = self.pages = self.dropped = 0
        self.received = 0  # candles downloaded this run, saved or not yet
        self.saved_at = time.monotonic()

    def add(self, rows: list[list]) -> None:
        self.pending.extend(rows)
        self.received += len(rows)
        self.pages += 1
        if time.monotonic() - self.saved_at >= self.every:
            self.flush()

    def flush(self) -> None:
        import pandas as pd

        if not self.pending:
            return
        new, dropped = candles_frame(self.pending, f"{self.meta['symbol']} candles")
        self.pending = []
        self.dropped += dropped
        merged = new if self.frame is None else pd.concat([self.frame, new])
        # Dedupe on the candle's time: the file's copy wins (it was closed when written).
        merged = merged[~merged.index.duplicated(keep="first")].sort_index()
        before = 0 if self.frame is None else len(self.frame)
        self.fetched += len(merged) - before
        self.write(self.out, merged, self.meta)
        self.frame = merged
        self.saved_at = time.monotonic()


def read_candle_file(path: Path, meta: dict):
    """The bar frame already in `path` (None if absent); refuses another market's file."""
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    from engine.data.files import load_file

    try:
        stored = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise ExchangeFetchError(f"{path}: cannot resume, not a Parquet file ({error})") \
            from error
    if stored is not None:
        found = json.loads(stored)
        if found != meta:
            raise FileMismatchError(
                f"{path}: holds {found['exchange']} {found['symbol']} {found['timeframe']}, "
                f"not {meta['exchange']} {meta['symbol']} {meta['timeframe']}; "
                "choose another --out"
            )
    frame, _ = load_file(path)
    return frame


def write_candle_file(path: Path, frame, meta: dict) -> None:
    """Replace `path` atomically: a reader or a kill sees the old file or the new one."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()}
    )
    # No missing folder is created: `desk data fetch` checked --out before it started.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ms(value) -> int:
    import pandas as pd

    if isinstance(value, int | float):
        return int(value)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise DeskError(f"not a date or time: {value!r}") from error
    if ts is pd.NaT:
        raise DeskError(f"not a date or time: {value!r}")
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text[:200]
