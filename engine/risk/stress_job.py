"""`desk stress` as one library call: the book (a backtest's final book or the live
portfolio), its trailing returns, then every scenario.

- `--run ID`: the positions open at the run's last bar (the trades the backtest closed at
  its end, at their exit prices), its final equity, the peak of its stored equity curve,
  and the held symbols' trailing returns reloaded from the run's data source.
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


def stress_run(cfg, run_id: int | None, *, store_opener=None) -> tuple[Book, list[StressResult],
                                                                     str]:
    from engine.risk.mc_job import _read_run

    run = _read_run(cfg, run_id, store_opener)
    metrics = run.metrics
    end = _parse(metrics.get("end"))
    exposures: dict[str, float] = {}
    for trade in run.trades:
        if end is not None and _parse(trade.get("exit_time")) == end:
            sign = 1.0 if trade["side"] == "long" else -1.0
            exposures[trade["symbol"]] = exposures.get(trade["symbol"], 0.0) + \
                sign * float(trade["qty"]) * float(trade["exit_price"])
    equity = float(metrics.get("final_equity") or 0.0)
    peak = float(run.equity.max()) if run.equity is not None else equity
    returns, bars_per_day, ppy = _run_returns(cfg, run, list(exposures))
    book = Book(exposures, equity, peak, returns, bars_per_day,
                float(metrics.get("periods_per_year") or ppy))
    described = f"run {run.run_id} ({run.data_source}), final book at {metrics.get('end')}"
    return book, run_all(book, scenarios_from_config(cfg), Limits.from_config(cfg)), described


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
    from engine.adapters.sqlite.risk_runs import stored_book

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
