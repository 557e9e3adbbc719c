"""`desk --backtest --portfolio` as one library call: load closes, run the book on the
kernel (the configured risk gate and executor), store the run (metrics, equity, a
`backtest.completed` audit entry)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from engine.portfolio.backtest import PortfolioBacktestResult, run_portfolio_backtest
from engine.portfolio.backtest_settings import settings_from_config


@dataclass(frozen=True)
class PortfolioJob:
    data: str
    start: str | None = None
    end: str | None = None
    bars: int | None = None
    seed: int | None = None
    scheme: str | None = None
    mode: str | None = None


def run_portfolio_job(cfg: Any, job: PortfolioJob) -> tuple[PortfolioBacktestResult, int]:
    """(result, stored run id)."""
    from engine.portfolio.inputs import check_prices
    from engine.portfolio.prices import load_prices

    prices = check_prices(load_prices([job.data], start=job.start, end=job.end, bars=job.bars,
                                      seed=job.seed), job.data)
    settings = settings_from_config(cfg, scheme=job.scheme, mode=job.mode)
    from engine.trading.risk import RiskLimits

    # The desk's own gate ([risk], [compliance]) and executor ([execution]) judge and run
    # every basket order, as they would live.
    result = run_portfolio_backtest(prices, settings, risk_limits=RiskLimits.from_config(cfg),
                                    execution=cfg.execution)
    run_id = _store(cfg, job, settings, result)
    _record_virtual(cfg, run_id, result)
    return result, run_id


def virtual_name(run_id: int) -> str:
    """The virtual portfolio a portfolio backtest's trades are kept in."""
    return f"backtest-{run_id}"


def virtual_book(run_id: int, result: PortfolioBacktestResult) -> tuple[list, list]:
    """The run's fills as virtual trades and its targets as allocation history. Symbols
    with a "/" are crypto pairs, anything else is taken for a stock."""
    from engine.portfolio.virtual import Allocation, make_trade

    name = virtual_name(run_id)
    # Floats become decimals at the edge through their shortest exact text (repr): the
    # book's float sums and the trades' decimal sums then differ by float round-off only
    # (a closed position may keep dust of ~1e-15 of its size).
    trades = [make_trade(uid=f"{name}:{n}", ts=f["ts"], symbol=f["symbol"],
                         asset_type="crypto" if "/" in f["symbol"] else "stock",
                         side=f["side"], qty=_decimal(f["qty"]), price=_decimal(f["price"]),
                         fee=_decimal(f["fee"]),
                         strategy="portfolio", where=f"{name} fill #{n}")
              for n, f in enumerate(result.fills, start=1)]
    allocations = [Allocation(e["ts"], dict(e["weights"]), name) for e in result.journal
                   if e["kind"] == "targets"]
    return trades, allocations


def _decimal(value: float) -> Any:
    from decimal import Decimal

    return Decimal(repr(float(value)))


def _record_virtual(cfg: Any, run_id: int, result: PortfolioBacktestResult) -> None:
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.virtual import record_virtual

    trades, allocations = virtual_book(run_id, result)
    store = open_store(cfg)
    try:
        record_virtual(store, virtual_name(run_id), trades, allocations)
    finally:
        store.close()


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _store(cfg: Any, job: PortfolioJob, settings: Any, result: PortfolioBacktestResult) -> int:
    from dataclasses import asdict

    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.runs import save_run

    config = {**cfg.to_dict(), "portfolio_run": jsonable(asdict(settings))}
    store = open_store(cfg)
    try:
        return save_run(
            store, config_hash=cfg.hash(), config_json=json.dumps(config, sort_keys=True),
            data_source=job.data,
            metrics_json=json.dumps(jsonable(result.summary), sort_keys=True),
            timing_json=json.dumps(result.timing, sort_keys=True), trades=[],
            equity=result.equity,
            audit={"mode": "portfolio", "source": job.data,
                   "scheme": settings.rules.scheme, "rebalance": settings.rebalance.mode,
                   "bars": len(result.equity), "rebalances": result.summary["rebalances"],
                   "total_return": jsonable(result.summary.get("total_return"))},
        )
    finally:
        store.close()
