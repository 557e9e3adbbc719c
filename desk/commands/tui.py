"""`desk`: the desk on the configured feed and broker (default: simulated market, paper)."""

from __future__ import annotations

import argparse


def ask_passphrase(exchange: str) -> str:
    import getpass

    return getpass.getpass(f"Vault passphrase for {exchange} keys: ")


def run(args: argparse.Namespace) -> int:
    from desk.commands.live_exit import stop_and_report
    from engine.config.schema import apply_cli_overrides, load_config
    from engine.live.build import build_live

    cfg = apply_cli_overrides(load_config(args.config), args)
    engine = build_live(cfg, passphrase=ask_passphrase)

    from desk.app import DeskApp

    app = DeskApp(engine, theme=cfg.desk.theme, on_crash=engine.record_crash)
    engine.subscribe(app.publish)

    def warm_up_then_run() -> None:
        # Warm-up (history, regime fit) runs beside the app so the first frame is fast.
        engine.start()
        engine.run_forever()

    engine.start_thread(warm_up_then_run)
    try:
        app.run()
    finally:
        status = stop_and_report(engine)
    return status
