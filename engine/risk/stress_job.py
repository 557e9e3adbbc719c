"""`desk stress` as one library call: the book (a backtest's final book or the live
portfolio), its trailing returns, then every scenario.

- `--run ID`: the positions open at the run's last bar (the trades the backtest closed at
  its end, at their exit prices), its final equity, the peak of its stored equity curve,
  and the held symbols' trailing returns reloaded from the run's data source. With
  `book="peak"`: the largest book the run held instead (the open trades at the moment their
  gross notional at entry prices was largest), with the equity realized by then (initial
  equity plus the P&L of the trades closed before it).
- `--live`: the stored positions of the desk's database valued at their last fill price,
  equity = [broker] cash + realized P&L - fees + unrealized at those prices, and returns of
  the configured feed's market (a replay file, or the simulated market of [feed]).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from engine.errors import DeskError
from engine.risk.stress import Book, Limits, StressResult, run_all, scenarios_from_config

HISTORY_BARS = 500  # trailing bars behind the VaR under each scenario


class StressInputError(DeskError):
    exit_code = 2


def stress_run(cfg, run_id: int | None, *, book: str = "final", store_opener=None
               ) -> tuple[Book, list[StressResult], str]:
    from engine.risk.mc_job import _read_run

    run = _read_run(cfg, run_id, store_opener)
    metrics = run.metrics
    if book == "peak":
        exposures, equity, at = _largest_book(run.trades,
                                              float(metrics.get("initial_equity") or 0.0))
        what = f"largest book, at {at}"
    else:
        exposures, equity = _final_book(run.trades, _parse(metrics.get("end"))), float(
            metrics.get("final_equity") or 0.0)
        what = f"final book at {metrics.get('end')}"
    peak = float(run.equity.max()) if run.equity is not None else equity
    returns, bars_per_day, ppy = _run_returns(cfg, run, list(exposures))
    stressed = Book(exposures, equity, max(peak, equity), returns, bars_per_day,
                    float(metrics.get("periods_per_year") or ppy))
    described = f"run {run.run_id} ({run.data_source}), {what}"
    results = run_all(stressed, scenarios_from_config(cfg), Limits.from_config(cfg))
    return stressed, results, described


def _sign(trade: dict) -> float:
    return 1.0 if trade["side"] == "long" else -1.0


def _final_book(trades: list[dict], end: datetime | None) -> dict[str, float]:
    exposures: dict[str, float] = {}
    for trade in trades:
        if end is not None and _parse(trade.get("exit_time")) == end:
            exposures[trade["symbol"]] = exposures.get(trade["symbol"], 0.0) + \
                _sign(trade) * float(trade["qty"]) * float(trade["exit_price"])
    return exposures


def _largest_book(trades: list[dict], initial: float) -> tuple[dict[str, float], float, str]:
    """The open trades when their gross notional (at entry prices) was largest."""
    events = []
    for number, trade in enumerate(trades):
        notional = _sign(trade) * float(trade["qty"]) * float(trade["entry_price"])
        events.append((_parse(trade["entry_time"]), 1, number, notional))
        events.append((_parse(trade["exit_time"]), 0, number, notional))  # exits first
    events = [e for e in events if e[0] is not None]
    events.sort(key=lambda e: (e[0], e[1]))
    open_now: dict[int, float] = {}
    best: tuple[float, dict[int, float], datetime | None] = (0.0, {}, None)
    for ts, kind, number, notional in events:
        if kind:
            open_now[number] = notional
            gross = sum(abs(v) for v in open_now.values())
            if gross > best[0]:
                best = (gross, dict(open_now), ts)
        else:
            open_now.pop(number, None)
    _gross, held, at = best
    exposures: dict[str, float] = {}
    for number, notional in held.items():
        symbol = trades[number]["symbol"]
        exposures[symbol] = exposures.get(symbol, 0.0) + notional
    realized = sum(float(t["pnl"]) for t in trades
                   if at is not None and _parse(t.get("exit_time")) is not None
                   and _parse(t["exit_time"]) <= at)
    return exposures, initial + realized, str(at)


def _parse(text) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _run_returns(cfg, run, symbols: list[str]) -> tuple[dict, float, float]:
    """Trailing returns of `symbols` up to the run's end, reloaded from its source."""
    if not symbols:
        return {}, 1.0, 252.0
    from engine.data.sources import load_source

    source = run.data_source
    feed = run.config.get("feed", {})
    try:
        if source.startswith("sim"):
            market = load_source(source, bars=int(run.metrics.get("bars") or 0) or None,
                                 seed=feed.get("seed"), freq=feed.get("freq"))
        else:
            market = load_source(source, end=run.metrics.get("end"))
    except DeskError:
        return {}, 1.0, 252.0
    return _returns_of(market.frames, symbols)


def _returns_of(frames, symbols) -> tuple[dict, float, float]:
    out = {}
    index = None
    for symbol in symbols:
        frame = frames.get(symbol)
        if frame is None:
            continue
        close = frame["close"].to_numpy(dtype=np.float64)[-(HISTORY_BARS + 1):]
        out[symbol] = close[1:] / close[:-1] - 1.0
        index = frame.index
    if index is None or len(index) < 2:
        return out, 1.0, 252.0
    step = float(np.median(np.diff(index.asi8[-(HISTORY_BARS + 1):]))) / 1e9
    years = (index[-1] - index[0]).total_seconds() / (365.25 * 86400)
    ppy = (len(index) - 1) / years if years > 0 else 252.0
    return out, max(86_400 / step, 1.0) if step > 0 else 1.0, ppy


def stress_live(cfg, *, store_opener=None) -> tuple[Book, list[StressResult], str]:
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.risk_runs import configured_db, stored_book

    if store_opener is None and not configured_db(cfg).is_file():
        raise StressInputError(f"{configured_db(cfg)}: no such database (pass --db)")
    store = (store_opener or open_store)(cfg)
    try:
        positions = stored_book(store)
    finally:
        store.close()
    exposures, unrealized, realized, fees = {}, 0.0, 0.0, 0.0
    for symbol, qty, avg_price, realized_pnl, fee, last in positions:
        exposures[symbol] = qty * last
        unrealized += qty * (last - avg_price)
        realized += realized_pnl
        fees += fee
    equity = float(cfg.broker.cash) + realized - fees + unrealized
    returns, bars_per_day, ppy = {}, 1.0, 252.0
    held = [s for s, v in exposures.items() if v]
    if held:
        from engine.data.sources import load_source

        feed = cfg.feed
        try:
            if feed.kind == "replay":
                market = load_source(feed.source)
            else:
                market = load_source("sim:" + ",".join(feed.symbols), bars=feed.history_bars,
                                     seed=feed.seed, freq=feed.freq)
            returns, bars_per_day, ppy = _returns_of(market.frames, held)
        except DeskError:
            pass
    book = Book({s: v for s, v in exposures.items() if v}, equity, equity, returns,
                bars_per_day, ppy)
    described = "the desk's stored positions at their last fill prices"
    return book, run_all(book, scenarios_from_config(cfg), Limits.from_config(cfg)), described
