"""`desk`: the desk on the configured feed and broker (default: simulated market, paper)."""

from __future__ import annotations

import argparse

from engine.errors import DeskError


def build_feed(cfg):
    """The feed `[feed]` names."""
    from engine.feeds import ReplayFeed, SimFeed

    if cfg.feed.kind == "sim":
        return SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                       history_bars=cfg.feed.history_bars)
    if cfg.feed.kind == "replay":
        from engine.data.sources import load_source

        if not cfg.feed.source:
            raise DeskError(f"{cfg.source}: [feed] source: kind = \"replay\" needs a source")
        return ReplayFeed(load_source(cfg.feed.source).frames)
    raise DeskError(f"{cfg.source}: [feed] kind = \"{cfg.feed.kind}\": live exchange feeds "
                    "are not available in this version; use \"sim\" or \"replay\"")


def run(args: argparse.Namespace) -> int:
    from engine.config import apply_cli_overrides, load_config
    from engine.live import LiveEngine
    from engine.store_journal import open_store

    cfg = apply_cli_overrides(load_config(args.config), args)
    if cfg.broker.kind != "paper":
        raise DeskError(f"{cfg.source}: [broker] kind = \"{cfg.broker.kind}\": exchange "
                        "brokers are not available in this version; use \"paper\"")
    feed = build_feed(cfg)
    store = open_store(cfg)
    engine = LiveEngine(cfg, store=store, feed=feed)

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
        engine.stop()
    if engine.error is not None:
        print(f"desk: the engine stopped on an error ({type(engine.error).__name__}); "
              "state was saved and the audit log records it")
        return 1
    return 0
