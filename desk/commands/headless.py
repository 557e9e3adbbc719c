"""`desk --headless`: the live engine without the TUI, for a server, systemd or a replay.

Nobody is there to approve, so it needs `approval = "auto"`. It prints one line per
proposal, order, fill and denial, read from the audit log after each step (what is printed
is what was journaled). SIGINT or SIGTERM stops it cleanly: `engine.stopped` and a signed
checkpoint are written. A replay (`[feed] kind = "replay"`) ends with the data and a
summary line; `[feed] speed = 0` replays as fast as the engine steps.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections import Counter
from decimal import Decimal

from engine.errors import ConfigError

PRINTED = {
    "order.proposed": "proposed",
    "order.submitted": "order",
    "order.filled": "fill",
    "risk.denied": "denied",
}


def run(args: argparse.Namespace) -> int:
    from desk.commands.live_exit import stop_and_report
    from desk.widgets.format import money
    from engine.config.schema import apply_cli_overrides, load_config
    from engine.live.build import build_live

    cfg = apply_cli_overrides(load_config(args.config), args)
    if cfg.engine.approval != "auto":
        raise ConfigError(f'{cfg.source}: [engine] approval: desk --headless needs "auto" '
                          f'(nobody is there to approve), got "{cfg.engine.approval}"')
    from desk.commands.backtest import size_warning

    warning = size_warning(cfg)
    if warning:
        # The same line as `desk --backtest`: a journal of nothing but denials otherwise.
        print(f"desk: warning: {warning}", file=sys.stderr, flush=True)
    engine = build_live(cfg)
    counts: Counter[str] = Counter()
    printer = _Printer(engine, counts)
    stopped_by: list[str] = []

    def on_signal(number: int, _frame: object) -> None:
        stopped_by.append(signal.Signals(number).name)
        engine.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine.subscribe(printer)
        engine.start()
        if not stopped_by:
            engine.run_forever()
    except Exception as error:  # noqa: BLE001 - journaled as engine.crashed; one line here
        if engine.error is None:
            engine.error = error
            engine.record_crash(error)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(Exception):  # a store that failed is reported below
            printer.flush()
        status = stop_and_report(engine)
    if status:
        return status
    ended = "stopped by " + stopped_by[0] if stopped_by else "end of data"
    print(f"headless: {ended} after {printer.steps} bars: {counts['proposed']} proposed, "
          f"{counts['order']} orders, {counts['fill']} fills, {counts['denied']} denied; "
          f"equity {money(engine.portfolio.equity)}", flush=True)
    return 0


class _Printer:
    """Prints the journaled proposals, orders, fills and denials after each step."""

    def __init__(self, engine, counts: Counter[str]) -> None:
        self.engine = engine
        self.counts = counts
        self.seq = engine.store.audit.head[0]
        self.steps = -1  # the first snapshot is the warm-up's

    def __call__(self, _snapshot: object) -> None:
        self.steps += 1
        self.flush()

    def flush(self) -> None:
        while True:
            entries = self.engine.store.audit.since(self.seq)
            if not entries:
                return
            for entry in entries:
                self.seq = entry.seq
                word = PRINTED.get(entry.kind)
                if word is not None:
                    self.counts[word] += 1
                    print(_line(word, entry.payload), flush=False)
            sys.stdout.flush()


def _line(word: str, p: dict) -> str:
    """One journaled event as a log line, numbers formatted as the panes show them (prices
    and quantities to 8 places without trailing zeros, fees to the cent)."""
    from desk.widgets.format import money, quantity

    def number(key: str) -> str:
        value = p.get(key)
        return "" if value in (None, "") else quantity(Decimal(str(value)))

    order = f"{p.get('symbol', '')} {p.get('side', '')} {number('qty')}"
    if word == "fill":
        ts = str(p.get("ts", ""))[:19].replace("T", " ")
        return (f"fill      {ts}  {order} @ {number('price')} fee "
                f"{money(Decimal(str(p.get('fee', 0))))}  {p.get('client_order_id', '')}")
    if word == "denied":
        return f"denied    {order}  {'; '.join(p.get('reasons', []))}"
    at = f" @ ~{number('ref_price')}" if number("ref_price") else ""
    why = f"  {p['reason']}" if p.get("reason") else ""
    return f"{word:<9} {order}{at}{why}  {p.get('client_order_id', '')}"
