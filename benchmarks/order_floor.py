"""The floor of a pure-Python order path: what a kernel in plain Python floats could cost at
best, measured on the high-turnover run of peers.py (500,000 EURUSD hourly bars, SMA 10/20
reversal, 100% of equity, no costs).

It is a measurement, not a second engine: the loop below keeps only the steps every order of
Desk's kernel takes (the position sized to the quantity step, four gate rules judged, the
intent recorded before the fill, the fill booked at the next open, the trade recorded when a
position closes) in floats, tuples and local variables. It leaves out what Desk's kernel
adds on purpose: execution sessions, the book and market rules, the equity path between
events, Decimal money, journals, thread safety. Its cost per order bounds from below what a
"float kernel" in Python could reach; `peers.py` measures Desk's own.

    python benchmarks/order_floor.py [--bars 500000]

Needs the `bench` extra (backtesting.py ships the EURUSD data).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import CASH, HIGH_TURNOVER_CONFIG, run_desk, tiled_eurusd  # noqa: E402

STEP = 1e-8  # Desk's default quantity step
TOLERANCE = 1 + 1e-12


def floor_run(opens, closes, days, decisions, changes) -> tuple[int, int, int]:
    """(orders, trades, denied) of the minimal loop; `changes`: the bars where the decision
    changed, in order; `decisions[t]`: +1 buy, -1 sell."""
    risk = HIGH_TURNOVER_CONFIG["risk"]
    max_position, max_drawdown = risk["max_position_pct"], risk["max_drawdown_pct"]
    max_daily_loss = risk["max_daily_loss_pct"]
    min_notional, size = 10.0, HIGH_TURNOVER_CONFIG["engine"]["size"]
    cash, qty, cost = float(CASH), 0.0, 0.0
    peak, day, day_start = cash, -1, cash
    intents, trades = [], []
    denied = 0
    n = len(closes)
    for t in changes:
        if t + 1 >= n:
            break
        price = closes[t]
        equity = cash + qty * price
        peak = max(peak, equity)
        if days[t] != day:
            day, day_start = days[t], equity
        side = decisions[t]
        if (side > 0 and qty > 0) or (side < 0 and qty < 0):
            continue
        target = side * math.floor(equity * size / price / STEP) * STEP
        orders = [-qty, target] if qty else [target]
        fill_price = opens[t + 1]
        for delta in orders:
            after = qty + delta
            entry = abs(after) > abs(qty)
            ok = (abs(delta) * price >= min_notional
                  # Floats need a tolerance where Desk's Decimal sizing needs none: the
                  # step-floored size can come out a hair above the limit it was sized to.
                  and (not entry or (abs(after) * price <= max_position * equity * TOLERANCE
                                     and 1.0 - equity / peak < max_drawdown
                                     and equity - day_start > -max_daily_loss * day_start)))
            if not ok:
                denied += 1
                continue
            intents.append((t, delta, price))  # the intent, before the fill
            cash -= delta * fill_price
            if after == 0:  # a close (a reversal is a close, then an entry)
                trades.append((t + 1, qty, cost / qty, fill_price))
                cost = 0.0
            else:
                cost += delta * fill_price
            qty = after
    return len(intents), len(trades), denied


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=500_000)
    args = parser.parse_args()
    frame = tiled_eurusd(args.bars)
    spec, result = run_desk(frame)
    from engine.signals.pipeline import plan_symbol

    plan = plan_symbol(frame, spec.strategies, spec.ensemble, regime_window=None)
    decisions = plan.decision.tolist()
    changes = [int(t) for t in plan.decision_changes() if decisions[t] != 0]
    opens, closes = frame["open"].tolist(), frame["close"].tolist()
    days = (frame.index.asi8 // (86_400 * 10**9)).tolist()
    started = time.perf_counter()
    orders, trades, denied = floor_run(opens, closes, days, decisions, changes)
    floor_s = time.perf_counter() - started
    desk_orders = result.stats["orders_filled"]
    print(f"{args.bars:,} bars, {len(changes):,} decision changes")
    print(f"floor loop     {floor_s:7.3f} s  orders {orders:,}, trades {trades:,}, denied "
          f"{denied:,}: {1e6 * floor_s / max(orders, 1):.2f} us an order")
    print(f"Desk's kernel  {result.timing['run_s']:7.3f} s  orders {desk_orders:,}, trades "
          f"{len(result.trades):,}: {1e6 * result.timing['run_s'] / max(desk_orders, 1):.1f} "
          "us an order (signals included)")


if __name__ == "__main__":
    main()
