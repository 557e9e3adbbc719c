"""Where an order's time goes in Desk's kernel: microseconds an order, layer by layer, on
the high-turnover run of peers.py (EURUSD hourly bars tiled, SMA 10/20 reversal, 100% of
equity, no costs, risk opened to 100%).

Each layer's entry point is wrapped in a timer for a second run, so a figure is inclusive
(a layer's time counts its callees, shown indented beneath it) and includes a fraction of a
microsecond a call for the timers themselves; the untimed run's cost an order is printed
first. A layer called from two places (the gate: when an order is proposed and when its part
is sent) counts all its calls. `order_floor.py` measures the other end: a minimal float loop.

    python benchmarks/order_path.py [--bars 100000]

Needs the `bench` extra (backtesting.py ships the EURUSD data).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import turnover_label  # noqa: E402
from peers import run_desk, tiled_eurusd  # noqa: E402

# (depth, module, class, method, what it is): the order's path, callers before callees.
LAYERS = (
    (0, "engine.backtest.loop", "EventLoop", "_update_risk",
     "equity path shown to the gate between events"),
    (0, "engine.trading.trader", "Trader", "on_decision", "decision -> sized orders"),
    (1, "engine.trading.trader", "Trader", "_target_qty", "sizing (Decimal, to the step)"),
    (1, "engine.trading.risk", "GatedBroker", "check", "risk gate, all calls (proposal, send)"),
    (2, "engine.trading.risk", "RiskGate", "_judge", "rules judged (memo misses)"),
    (1, "engine.execution.manager", "ExecutionManager", "start", "session planned, stored"),
    (1, "engine.execution.manager", "ExecutionManager", "tick", "parts due sent"),
    (2, "engine.trading.risk", "GatedBroker", "submit", "gate again, broker accepts"),
    (0, "engine.trading.kernel", "Kernel", "open_bar", "bar opens: fills"),
    (1, "engine.trading.risk", "GatedBroker", "on_bar", "broker fills, portfolio books"),
    (2, "engine.trading.portfolio", "Portfolio", "apply_fill", "portfolio booking"),
    (1, "engine.trading.trader", "Trader", "_record_fill", "fill recorded"),
    (2, "engine.execution.manager", "ExecutionManager", "on_fill", "session's fill stored"),
    (2, "engine.trading.trades", "TradeTracker", "on_fill", "round trips"),
)


def _timed(spent: dict, key: tuple, method):
    clock = time.perf_counter

    def timed(*args, **kwargs):
        started = clock()
        try:
            return method(*args, **kwargs)
        finally:
            spent[key] += clock() - started

    return timed


def layer_costs(frame) -> tuple[dict, int]:
    """Seconds spent in each layer of one run (inclusive), and the orders it filled."""
    spent = {layer: 0.0 for layer in LAYERS}
    originals = []
    for layer in LAYERS:
        cls = getattr(importlib.import_module(layer[1]), layer[2])
        method = cls.__dict__[layer[3]]
        originals.append((cls, layer[3], method))
        setattr(cls, layer[3], _timed(spent, layer, method))
    try:
        _, result = run_desk(frame)
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)
    return spent, result.stats["orders_filled"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=100_000)
    args = parser.parse_args()
    frame = tiled_eurusd(args.bars)
    run_desk(frame.iloc[:2000])  # lazy imports and first calls are not timed
    _, plain = run_desk(frame)
    orders = plain.stats["orders_filled"]
    run_s = plain.timing["run_s"]
    print(f"{args.bars:,} bars, {orders:,} orders ({turnover_label(orders, args.bars)})")
    print(f"whole run, untimed: {1e6 * run_s / orders:7.1f} us an order "
          f"(signals, bar loop and all)")
    spent, timed_orders = layer_costs(frame)
    print("layers (inclusive, with their timers):")
    for layer in LAYERS:
        depth, _, cls, name, what = layer
        label = f"{'  ' * depth}{cls}.{name}"
        print(f"  {label:<38} {1e6 * spent[layer] / timed_orders:7.1f} us  {what}")


if __name__ == "__main__":
    main()
