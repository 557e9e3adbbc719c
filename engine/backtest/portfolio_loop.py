"""The portfolio backtest's driver: portfolio mode on the one kernel, bar by bar.

Portfolio mode reads every asset at every bar (drift, the equity path, the ADX), so this
driver visits every bar; what happens at each is the kernel's, in the live engine's order:
1. every asset's bar: orders pending fill at its open, the position is marked at its close;
2. the risk gate sees the book's equity; execution parts that fall due go out;
3. `Kernel.rebalance` at the close: the portfolio mode's check, and its basket of orders
   through the risk gate, approval and the executor (filled at the next bar's open).
Bars before `warmup` only prime the mode (the live desk's history does the same).

A prices-only file has closes only: each bar is open = high = low = close with no volume,
so a basket decided at one close fills at the next close (with the broker's slippage and
fee). Equity is the book marked at each close, after that bar's fills.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from engine.backtest.execution import executor_store
from engine.backtest.run import BacktestSpec, _Clock
from engine.trading.journal import MemoryJournal
from engine.trading.kernel import Kernel
from engine.trading.trader import to_decimal
from engine.types import Bar, OrderSide


def permissive_limits():
    """A gate that lets a book through untouched (accounting tests, peer benchmarks): no
    position, loss or drawdown limit bites, no minimum order."""
    from engine.trading.risk import RiskLimits

    return RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                      min_order_notional=Decimal(0))


def run_portfolio_loop(prices, settings, *, risk_limits=None, execution=None,
                       warmup: int | None = None, approval: str = "auto", frames=None):
    """Run `settings` (PortfolioBacktestSettings) over `prices` (closes, one column per
    asset, checked by the caller) on the kernel; `frames` (symbol -> OHLCV DataFrame on
    the same index) give the bars their open, high, low and volume. Returns
    (kernel, equity, weights, drift, fills) with the per-bar arrays over all bars."""
    from engine.brokers.paper import PaperBroker
    from engine.risk.market import ArrayHistory

    assets = tuple(str(c) for c in prices.columns)
    closes = prices.to_numpy(dtype=float)
    index = prices.index
    if index.tz is None:  # a file's naive dates are taken as UTC, as the kernel's clock
        index = index.tz_localize("UTC")
    n = len(closes)
    warm = settings.rules.window if warmup is None else warmup
    rebalance = settings.rebalance
    spec = BacktestSpec(
        strategies={}, ensemble=None, cash=to_decimal(settings.cash),
        fee=to_decimal(rebalance.fee), slippage_bps=to_decimal(rebalance.slippage_bps),
        size=0.0, allow_short=False, risk_limits=risk_limits or permissive_limits(),
        regime=False, stops=False, label="portfolio", execution=execution, warmup=warm,
        portfolio=settings)
    zeros = np.zeros(n)
    arrays = {a: {"open": closes[:, i], "high": closes[:, i], "low": closes[:, i],
                  "close": closes[:, i], "volume": zeros} for i, a in enumerate(assets)}
    if frames is not None:
        arrays = {a: {c: frames[a][c].to_numpy(dtype=float) for c in
                      ("open", "high", "low", "close", "volume")} for a in assets}
    columns = [tuple(arrays[a][c] for c in ("open", "high", "low", "close", "volume"))
               for a in assets]
    clock = _Clock()
    times = [ts.to_pydatetime() for ts in index]
    equity = np.full(n, math.nan)
    weights = np.zeros((n, len(assets)))
    drift = np.zeros(n)
    fills: list[dict] = []
    with executor_store(spec) as store:
        broker = PaperBroker(fee=spec.fee, slippage_bps=spec.slippage_bps, keep_done=False)
        kernel = Kernel(spec, broker=broker, journal=MemoryJournal(keep_events=False),
                        execution_store=store, clock=clock, approval=approval,
                        id_prefix="bt")
        kernel.gate.attach_market(ArrayHistory(index, arrays))
        mode = kernel.portfolio_mode
        portfolio = kernel.portfolio
        for t in range(min(warm, n)):
            mode.observe(times[t], dict(zip(assets, closes[t].tolist(), strict=True)))
        for t in range(warm, n):
            now = times[t]
            clock.now = now
            row = closes[t].tolist()
            for symbol, close, (o, h, lo, _c, v) in zip(assets, row, columns, strict=True):
                if not math.isfinite(close):
                    continue
                bar = Bar(symbol, now, float(o[t]), float(h[t]), float(lo[t]), close,
                          float(v[t]))
                for fill in kernel.open_bar(bar, math.nan):
                    fills.append(_fill_row(fill, bar.open))
            kernel.equity_at(now, portfolio.equity)
            kernel.parts_due(now)
            kernel.rebalance(now, dict(zip(assets, row, strict=True)))
            value = float(portfolio.equity)
            equity[t] = value
            for i, symbol in enumerate(assets):
                held = portfolio.qty(symbol)
                if held:
                    weights[t, i] = float(held) * row[i] / value
            drift[t] = mode.state.max_drift
    return kernel, equity, weights, drift, fills


def _fill_row(fill, reference: float) -> dict:
    """One fill as the result keeps it; `slippage` is what the price paid beyond the
    bar's open, in quote currency."""
    qty, price = float(fill.qty), float(fill.price)
    return {"ts": fill.ts.isoformat(), "symbol": fill.symbol,
            "side": "buy" if fill.side is OrderSide.BUY else "sell", "qty": qty,
            "price": price, "fee": float(fill.fee), "notional": qty * reference,
            "slippage": qty * abs(price - reference)}
