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
    from engine.data.exchange_fetch import build_exchange, url_overrides
    from engine.feeds_ccxt import CcxtPollingFeed, WebsocketKlineFeed

    exchange = build_exchange(cfg.broker.exchange, symbol=cfg.feed.symbols[0])
    if cfg.broker.sandbox and hasattr(exchange, "set_sandbox_mode"):
        exchange.set_sandbox_mode(True)
        exchange.urls["api"].update(url_overrides())  # the sandbox swap replaced them
    timeframe = _timeframe(cfg.feed.freq)
    if cfg.feed.stream_url:
        return WebsocketKlineFeed(cfg.feed.stream_url, cfg.feed.symbols, timeframe, exchange,
                                  cfg.feed.history_bars)
    return CcxtPollingFeed(exchange, cfg.feed.symbols, timeframe, cfg.feed.history_bars)


def build_market_stream(cfg, feed):
    """Trades and books over websockets, beside an exchange feed with a `stream_url`."""
    if cfg.feed.kind != "ccxt" or not cfg.feed.stream_url:
        return None
    from engine.market_stream import MarketStream

    def build() -> MarketStream:
        # Built on the engine's thread after the history: the markets are loaded by then.
        exchange = feed.exchange
        return MarketStream(cfg.feed.stream_url,
                            {s: exchange.market(s)["id"] for s in cfg.feed.symbols},
                            rest_exchange=exchange)

    return build


def _timeframe(freq: str) -> str:
    """A pandas bar interval ("1min", "1h", "1D") as a ccxt timeframe ("1m", "1h", "1d")."""
    from engine.feeds import freq_seconds

    seconds = int(freq_seconds(freq))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise DeskError(f"[feed] freq = {freq!r} has no exchange timeframe")


def build_broker(cfg, store):
    """The exchange broker `[broker] kind = "ccxt"` names, with keys from the vault (the
    passphrase from DESK_VAULT_PASSPHRASE or a prompt); None for the paper broker."""
    if cfg.broker.kind == "paper":
        return None
    import getpass
    import os

    from engine.broker.ccxt_broker import from_config
    from engine.data.exchange_fetch import url_overrides
    from store.vault import Vault

    passphrase = os.environ.get("DESK_VAULT_PASSPHRASE") or getpass.getpass(
        f"Vault passphrase for {cfg.broker.exchange} keys: ")
    return from_config(cfg, Vault(store.conn), passphrase, urls=url_overrides() or None)


def run(args: argparse.Namespace) -> int:
    from engine.config import apply_cli_overrides, load_config
    from engine.live import LiveEngine
    from engine.store_journal import open_store

    cfg = apply_cli_overrides(load_config(args.config), args)
    store = open_store(cfg)
    broker = build_broker(cfg, store)
    feed = build_feed(cfg)
    engine = LiveEngine(cfg, store=store, feed=feed, broker=broker,
                        market_stream=build_market_stream(cfg, feed))

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
