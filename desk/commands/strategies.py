"""`desk strategies list | reset-weights | set-status ID STATUS --reason TEXT`: the strategy
lifecycle as the desk stored it (statuses, adaptive weights), and the two changes by hand,
each journaled with actor `user`.

These act on the stored books: a stopped desk picks them up at its next start. In a running
desk use the Strategies pane (pane 8) or the command palette, which change the live books.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import DeskError

EXIT_OK = 0


class StrategiesError(DeskError):
    exit_code = 2


def run(args: argparse.Namespace) -> int:
    from engine.adapters.sqlite.open import open_store
    from engine.config.schema import load_config_for

    cfg = load_config_for(args.config, args.db)
    base = {m.id: float(m.weight) for m in cfg.ensemble.strategies}
    if args.strategies_command == "set-status":
        status = _status(args.status)
        if args.strategy_id not in base:
            known = ", ".join(base)
            raise StrategiesError(f"set-status {args.strategy_id}: not a strategy of the "
                                  f"ensemble ({known})")
        if not args.reason.strip():
            raise StrategiesError("set-status: --reason must say why")
    elif args.strategies_command == "list":
        _existing_database(cfg)
    store = open_store(cfg)
    try:
        if args.strategies_command == "list":
            return _list(store, base)
        if args.strategies_command == "reset-weights":
            from engine.adapters.sqlite.lifecycle import reset_stored_weights

            symbols = reset_stored_weights(store, base)
            print(f"weights reset to base for {len(symbols)} symbol(s)"
                  + (f": {', '.join(symbols)}" if symbols else " (none stored yet)"))
            return EXIT_OK
        from engine.adapters.sqlite.lifecycle import set_stored_status

        symbols = set_stored_status(store, base, args.strategy_id, status, args.reason.strip(),
                                    symbols=cfg.feed.symbols)
        print(f"{args.strategy_id}: {status} on {', '.join(symbols)} ({args.reason.strip()})")
        return EXIT_OK
    finally:
        store.close()


def _status(text: str):
    from engine.lifecycle.health import Status

    try:
        return Status(text.upper())
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise StrategiesError(f"set-status: unknown status {text!r} (expected {known})") \
            from None


def _existing_database(cfg) -> Path:
    from store.paths import default_db_path

    db = Path(cfg.store.path) if cfg.store.path else default_db_path()
    if not db.is_file():
        raise StrategiesError(f"{db}: no database here, so no stored strategy lifecycle")
    return db


def _list(store, base: dict[str, float]) -> int:
    from rich.console import Console
    from rich.table import Table

    from engine.adapters.sqlite.lifecycle import stored_states

    states = stored_states(store)
    console = Console()
    if not states:
        console.print("no stored strategy lifecycle yet (the desk saves it as it runs)",
                      highlight=False)
        return EXIT_OK
    table = Table(title="Strategy lifecycle, as stored", header_style="bold underline",
                  box=None, pad_edge=False, padding=(0, 1))
    for name in ("Symbol", "Strategy", "Status", "Base", "Weight", "Since", "Reason"):
        table.add_column(name, justify="right" if name in ("Base", "Weight") else "left",
                         overflow="fold")
    for symbol, state in sorted(states.items()):
        current = state.get("current", {}).get("all", base)
        for sid, weight in base.items():
            health = state.get("health", {}).get(sid, {})
            table.add_row(symbol, sid, health.get("status", "ACTIVE"), f"{weight:.2f}",
                          f"{float(current.get(sid, weight)):.2f}",
                          (health.get("since") or "-")[:16], health.get("reason", ""))
    console.print(table)
    return EXIT_OK
